# Coach Partenariat — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
RASA        := $(VENV)/bin/rasa
MODEL       := models/coach.tar.gz
# Python 3.10 (rasa 3.6 does not run on 3.11+): the first one that really runs (a pyenv shim
# for a version that is not selected exists but fails), on the PATH, from pyenv, or Debian's.
PYTHON310   ?= $(shell for p in python3.10 $(HOME)/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
                 "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo "$$p"; break; }; done)

export RASA_PORT    ?= 5005
export ACTIONS_PORT ?= 5055
export WEB_PORT     ?= 8000
export LEADS_DB_URL ?= sqlite:///var/leads.sqlite3
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONDONTWRITEBYTECODE := 1
# Third-party deprecation warnings (pkg_resources, pyparsing, SQLAlchemy 2.0) are not for users.
export PYTHONWARNINGS := ignore
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Everything the model depends on: a change here retrains, nothing else does.
MODEL_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
                $(wildcard nlu_components/*.py) bot/text.py

.PHONY: help install run run-prod nginx shell train bench test test-data test-unit test-nlu test-stories test-e2e nlu-eval lock clean chromium

help:
	@echo "make run    — installe ce qui manque, entraîne si besoin, lance le bot et la page de démo"
	@echo "make shell  — discuter avec le bot dans le terminal"
	@echo "make test   — toutes les vérifications (données, tests, conversations de test, navigateur)"
	@echo "make train  — entraîner seulement"
	@echo "make run-prod — profil production (PostgreSQL, Redis, 2 répliques derrière nginx)"

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements.lock pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "Python 3.10 est introuvable : installez-le (par exemple « pyenv install 3.10.13 » ou « apt-get install python3.10 python3.10-venv »), puis relancez make."; \
	  exit 1; fi
	@echo "==> Installation de l'environnement Python 3.10 dans $(VENV)/ (environ 3 minutes la première fois)…"
	@[ -x $(PY) ] || $(PYTHON310) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade 'pip==24.2'
	@set -o pipefail; $(PY) -m pip install --progress-bar on -r requirements.txt -c requirements.lock \
	   | { grep -v '^Requirement already satisfied' || true; }
	@$(PY) -m pip install --quiet --no-deps -e .
	@$(PY) -m pip check
	@touch $@

train: $(MODEL)

$(MODEL): $(MODEL_INPUTS) | $(VENV)/.installed
	@echo "==> Entraînement du modèle (moins d'une minute)…"
	@$(RASA) train --fixed-model-name coach --out models
	@touch $@

run: $(MODEL)
	@bash scripts/run.sh

shell: $(MODEL)
	@bash scripts/shell.sh

# Production profile (docs/deployment.md): PostgreSQL, Redis, 2 replicas behind nginx.
run-prod: $(MODEL) nginx
	@bash scripts/run_prod.sh

# Browser for the widget tests: Debian's chromium (Playwright cannot download its own here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "==> Installation de chromium (paquet Debian)…"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

test: test-data test-unit test-nlu test-stories test-e2e

test-data: $(VENV)/.installed
	@echo "==> Validation des données Rasa"
	@$(RASA) data validate --fail-on-warnings
	@echo "==> Exemples d'entraînement : ni doublons, ni phrasé du jeu de test"
	@$(PY) scripts/check_nlu_duplicates.py --holdout tests/nlu/holdout.yml --blind tests/blind/*.yml

test-unit: $(VENV)/.installed
	@echo "==> Tests Python (cœur, actions, leads)"
	@$(PY) -m pytest -q -m "not e2e"

# Generalisation: intents of phrasings never seen in training (tests/nlu/holdout.yml).
test-nlu: $(MODEL)
	@echo "==> NLU sur des phrases jamais vues (tests/nlu/holdout.yml)"
	@mkdir -p results
	@$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/holdout.yml --out results/holdout >results/holdout.log 2>&1 \
	   || { tail -20 results/holdout.log; exit 1; }
	@$(PY) scripts/check_nlu_report.py results/holdout 0.95

test-stories: $(MODEL)
	@echo "==> Conversations de test (tests/test_stories.yml)"
	@$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
	   --fail-on-prediction-errors --out results/stories

# nginx (Debian package) fronts the production-profile replicas; run as a user process.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  echo "==> Installation de nginx (paquet Debian)…"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq nginx >/dev/null; fi; }

test-e2e: $(MODEL) chromium nginx
	@echo "==> Tests de bout en bout (serveurs réels, navigateur, profil production)"
	@$(PY) -m pytest -q -m e2e

# NLU pipeline comparison (docs/nlu-evaluation.md): 5-fold cross-validation of the product's
# pipeline (spaCy + linear SVM), the same without spaCy, and the two DIET pipelines (with and
# without spaCy): about 45 minutes on 2 cores, nearly all of it DIET's training.
nlu-eval: $(VENV)/.installed
	@$(PY) scripts/nlu_cv.py --folds 5 config.yml docs/nlu/config-linear-sparse.yml \
	  docs/nlu/config-diet.yml docs/nlu/config-sparse.yml

# Benchmarks against the stock `rasa init` bot (bench/README.md): ~10 minutes; BENCH_ARGS=--quick, or --production-profile.
bench: $(MODEL)
	@$(PY) bench/run.py $(BENCH_ARGS)

lock: $(VENV)/.installed
	@{ echo '# Full resolved environment (pip freeze), used as constraints by `make`. Regenerate with `make lock`.'; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf models results .pytest_cache
