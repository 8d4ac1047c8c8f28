#!/usr/bin/env bash
# `make shell`: the same bot in the terminal, with the action server behind it.
source "$(dirname "$0")/lib.sh"

apply_migrations
start_calendar
start_actions
echo "==> Chargement du modèle… (tapez /stop pour quitter le terminal, Ctrl-C pour sortir)"
"$VENV/bin/rasa" shell --model "$MODEL" --endpoints endpoints.yml --port "$RASA_PORT"
