"""Benchmark experiments only (bench/run.py --experiment NAME), never the product.

bench/run.py puts this directory on the servers' PYTHONPATH and names the experiments in
BENCH_EXPERIMENTS; Python imports `sitecustomize` at start-up, which applies them. Each one
measures a fix proposed in bench/results.md without touching the project.
"""
import os

_ENABLED = {e for e in os.environ.get("BENCH_EXPERIMENTS", "").split(",") if e}

if "cached-validator" in _ENABLED:
    from experiment_cached_validator import apply as _apply_validator

    _apply_validator()

if "sqlite-wal" in _ENABLED:
    from experiment_sqlite_wal import apply as _apply_wal

    _apply_wal()
