"""Score the questions' blind set (tests/blind/questions.yml, issue 12) at the intent level.

Each message goes through the trained model's NLU; it counts as right when the intent is the one
the set expects. For two questions in one message, each question the bot answers in the right
place counts for its share (the classifier's `questions`, bot/question_split.py), and a
message read as one question gets at best half. Names in the set that are not intents of the
domain (`contact_info`, `business_question`, `insult_or_complaint`, `return`) map to the
intents that now carry them, when they exist. This is a proxy for "answered right end to end":
replies to Marc's own questions (`after:`) also depend on the step, which the end-to-end tests
check.

    .venv/bin/python scripts/score_blind_questions.py [--model models/coach.tar.gz] [--details]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

BLIND = ROOT / "tests" / "blind" / "questions.yml"
# The set's own names for things the domain names differently.
ALIASES = {"contact_info": "ask_contact_info", "business_question": "ask_business",
           "insult_or_complaint": "complaint", "return": "greet"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "coach.tar.gz")
    parser.add_argument("--set", type=Path, default=BLIND)
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from score_blind_forms import load_agent  # scripts/: the same model loading

    agent = load_agent(args.model)
    intents = set(agent.domain.intents)
    items = yaml.safe_load(args.set.read_text(encoding="utf-8"))["items"]
    per_family: dict[str, list[float]] = defaultdict(list)
    misses = []
    for item in items:
        data = asyncio.run(agent.parse_message(item["message"]))
        got = (data.get("intent") or {}).get("name") or ""
        wanted = [ALIASES.get(e, e) for e in item["expect"]]
        several = data.get("questions") or []  # two questions answered in turn (bot/question_split.py)
        if len(several) >= 2:
            score = sum(a == b for a, b in zip(several, wanted)) / max(len(wanted), len(several))
            got = "+".join(several)
        else:
            score = (got == wanted[0]) / len(wanted)  # one of two questions at best
        per_family[item["family"]].append(score)
        if score < 1:
            misses.append((item["family"], item["message"], wanted, got, wanted[0] in intents))
    total = sum(len(v) for v in per_family.values())
    good = sum(sum(v) for v in per_family.values())
    print("| family | right | items |\n|---|---|---|")
    for family, scores in sorted(per_family.items()):
        print(f"| {family} | {sum(scores) / len(scores):.0%} | {len(scores)} |")
    print(f"\nright intent: {good:g}/{total} = {good / total:.1%}")
    if args.details:
        for family, message, wanted, got, known in misses:
            print(f"- [{family}] {message[:100]!r} expected {wanted}{'' if known else ' (no such intent)'} -> {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
