"""Fail when the NLU on the held-out set (tests/nlu/holdout.yml) falls below the target.

The held-out phrasings are never in data/nlu: this checks that the model generalises, not that
it remembers. Usage: check_nlu_report.py RESULTS_DIR [MIN_MACRO_F1]
"""
import json
import sys
from pathlib import Path

results = Path(sys.argv[1])
minimum = float(sys.argv[2]) if len(sys.argv) > 2 else 0.95
report = json.loads((results / "intent_report.json").read_text())
macro = report["macro avg"]["f1-score"]
print(f"NLU, phrases jamais vues : F1 macro {macro:.3f}, exactitude {report['accuracy']:.3f} "
      f"({report['macro avg']['support']} exemples ; seuil {minimum:.2f})")
for intent, scores in sorted(report.items()):
    if isinstance(scores, dict) and "f1-score" in scores and intent not in ("macro avg", "weighted avg", "micro avg"):
        if scores["f1-score"] < 0.9:
            print(f"  {intent}: F1 {scores['f1-score']:.2f}, confondue avec {scores.get('confused_with', {})}")
sys.exit(0 if macro >= minimum else 1)
