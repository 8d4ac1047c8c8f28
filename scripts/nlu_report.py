"""Summarise the cross-validation runs of scripts/nlu_eval.sh as a Markdown table."""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
print("| pipeline | intent macro F1 (test folds) | accuracy | weighted F1 | wall time (5 folds) |")
print("|---|---|---|---|---|")
for name in ("spacy", "sparse"):
    report = json.loads((out / name / "intent_report.json").read_text())
    seconds = int((out / f"{name}.seconds").read_text())
    print(f"| {name} | {report['macro avg']['f1-score']:.3f} | {report['accuracy']:.3f} "
          f"| {report['weighted avg']['f1-score']:.3f} | {seconds // 60} min {seconds % 60:02d} s |")
