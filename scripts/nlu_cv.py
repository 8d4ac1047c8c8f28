"""Stratified k-fold cross-validation of NLU pipelines, evaluated on the test folds only.

`rasa test nlu --cross-validation` also re-evaluates every training fold, which costs four times
the evaluation we need; this script trains each fold with `rasa train nlu` and evaluates it with
`rasa test nlu` on its test fold, then scores all the test-fold predictions together.

    .venv/bin/python scripts/nlu_cv.py --folds 5 config.yml docs/nlu/config-linear-sparse.yml

Writes results/nlu-cv/<config name>/ and prints a Markdown table (macro F1, accuracy, time).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Iterator

import yaml
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parents[1]
RASA = str(Path(sys.executable).parent / "rasa")


def examples_in_file(path: Path) -> Iterator[tuple[str, str]]:
    """(intent, text) of every example of a Rasa NLU YAML file."""
    for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield block["intent"], line[2:]


def load_examples(nlu_dir: Path) -> list[tuple[str, str]]:
    return [example for path in sorted(nlu_dir.glob("*.yml")) for example in examples_in_file(path)]


def stratified_folds(examples, folds: int, seed: int = 42) -> list[list[tuple[str, str]]]:
    by_intent = defaultdict(list)
    for example in examples:
        by_intent[example[0]].append(example)
    rng = random.Random(seed)
    result = [[] for _ in range(folds)]
    for intent in sorted(by_intent):
        items = by_intent[intent]
        rng.shuffle(items)
        for index, item in enumerate(items):
            result[index % folds].append(item)
    return result


def write_nlu(path: Path, examples) -> None:
    by_intent = defaultdict(list)
    for intent, text in examples:
        by_intent[intent].append(text)
    data = {"version": "3.1", "nlu": [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)} for intent, texts in by_intent.items()
    ]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run(cmd: list[str], log: Path) -> None:
    with log.open("a") as out:
        subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)


def evaluate(config: Path, folds, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    log = out / "run.log"
    truth, predicted = [], []
    train_seconds = 0.0
    for k, test in enumerate(folds):
        train = [e for j, fold in enumerate(folds) if j != k for e in fold]
        fold_dir = out / f"fold{k}"
        fold_dir.mkdir(exist_ok=True)
        write_nlu(fold_dir / "train.yml", train)
        write_nlu(fold_dir / "test.yml", test)
        start = time.monotonic()
        run([RASA, "train", "nlu", "--config", str(config), "--nlu", str(fold_dir / "train.yml"),
             "--out", str(fold_dir), "--fixed-model-name", "model"], log)
        train_seconds += time.monotonic() - start
        run([RASA, "test", "nlu", "--model", str(fold_dir / "model.tar.gz"), "--nlu", str(fold_dir / "test.yml"),
             "--out", str(fold_dir / "report"), "--successes"], log)
        for name in ("intent_successes.json", "intent_errors.json"):
            path = fold_dir / "report" / name
            for item in json.loads(path.read_text()) if path.exists() else []:
                truth.append(item["intent"])
                predicted.append(item["intent_prediction"]["name"])
    labels = sorted(set(truth))
    return {
        "config": str(config),
        "examples": len(truth),
        "macro_f1": f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
        "accuracy": accuracy_score(truth, predicted),
        "train_seconds_per_fold": train_seconds / len(folds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--nlu", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu-cv")
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    folds = stratified_folds(load_examples(args.nlu), args.folds)
    rows = []
    for config in args.configs:
        result = evaluate(config, folds, args.out / config.stem)
        (args.out / f"{config.stem}.json").write_text(json.dumps(result, indent=2))
        rows.append(result)
        print(f"{config}: macro F1 {result['macro_f1']:.3f}", flush=True)
    print("| pipeline | intent macro F1 | accuracy | training time per fold |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| `{r['config']}` | {r['macro_f1']:.3f} | {r['accuracy']:.3f} | {r['train_seconds_per_fold']:.0f} s |")


if __name__ == "__main__":
    main()
