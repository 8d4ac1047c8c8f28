"""List training examples that repeat one another (within or across intents) after normalising
case, accents, apostrophes and punctuation, and, with --holdout, those that repeat a held-out
phrasing, and with --blind, those that repeat a message of a blind evaluation set
(tests/blind/: written by people who never saw the training data; copying them into it would
make the measure meaningless). Replies of up to three words (« oui bien sûr ») are common
to everyone and not reported. Exit status 1 when any is found.

    .venv/bin/python scripts/check_nlu_duplicates.py [--holdout tests/nlu/holdout.yml] [--blind FILE ...]
"""
from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import yaml

from nlu_cv import examples_in_file  # same directory

ROOT = Path(__file__).resolve().parents[1]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def examples(path: Path):
    for intent, text in examples_in_file(path):
        yield intent, text, path.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", type=Path, help="also report overlaps with this NLU file")
    parser.add_argument("--blind", type=Path, nargs="*", default=[],
                        help="blind evaluation sets (items[].message) that training must not repeat")
    args = parser.parse_args()
    seen = defaultdict(list)
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for intent, text, name in examples(path):
            seen[normalise(text)].append((intent, text, name))
    problems = 0
    for key, where in seen.items():
        if len(where) > 1:
            problems += 1
            print("duplicate:", " | ".join(f"{i}: {t} ({n})" for i, t, n in where))
    if args.holdout:
        for intent, text, _ in examples(args.holdout):
            if normalise(text) in seen:
                problems += 1
                print("held-out phrasing in training data:", intent, "|", text)
    for path in args.blind:
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
            message = item.get("message") or item.get("text") or ""
            key = normalise(message)
            if len(key.split()) > 3 and key in seen:
                problems += 1
                print(f"blind-set message in training data ({path.name}):", message)
    print(f"{sum(len(w) for w in seen.values())} examples, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
