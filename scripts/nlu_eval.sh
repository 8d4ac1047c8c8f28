#!/usr/bin/env bash
# Compare the NLU pipelines with 5-fold cross-validation (docs/nlu-evaluation.md), then check
# generalisation on the held-out set tests/nlu/holdout.yml with the trained model.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
OUT=results/nlu-eval
mkdir -p "$OUT"
for name in spacy sparse; do
  config=config.yml; [ "$name" = sparse ] && config=docs/nlu/config-sparse.yml
  echo "==> $name ($config)"
  start=$SECONDS
  .venv/bin/rasa test nlu --nlu data/nlu --config "$config" --cross-validation --folds 5 \
    --out "$OUT/$name" >"$OUT/$name.log" 2>&1
  echo "$((SECONDS - start))" >"$OUT/$name.seconds"
done
.venv/bin/python scripts/nlu_report.py "$OUT"
