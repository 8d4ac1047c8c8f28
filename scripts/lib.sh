# Shared by run.sh and shell.sh: start the action server, wait for HTTP readiness, clean up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# var/ holds conversations, leads, e-mails and logs: for this user only (0700, files 0600),
# and everything the servers create there from now on too.
umask 077
mkdir -p var/log
chmod 700 var
chmod -R go-rwx var

VENV=.venv
# COACH_MODEL: another trained model to serve (the benchmark serves a snapshot of it).
MODEL=${COACH_MODEL:-models/coach.tar.gz}
: "${RASA_PORT:=5005}" "${ACTIONS_PORT:=5055}" "${WEB_PORT:=8000}"
: "${RASA_HOST:=127.0.0.1}" "${RASA_MAX_BODY_BYTES:=65536}"
export RASA_PORT ACTIONS_PORT WEB_PORT RASA_HOST RASA_MAX_BODY_BYTES
# The back office's address, for the links in the lead e-mails and the calendar events.
: "${BACKOFFICE_PORT:=8001}" "${BACKOFFICE_URL:=http://localhost:$BACKOFFICE_PORT}"
export BACKOFFICE_PORT BACKOFFICE_URL
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
# Third-party deprecation warnings (pkg_resources, pyparsing, SQLAlchemy 2.0) are not for users.
export PYTHONWARNINGS=ignore SQLALCHEMY_SILENCE_UBER_WARNING=1

PIDS=()

# The secret the Rasa server shows the action server (actions/shared_secret.py): drawn at
# random for this run when not set.
if [ -z "${ACTIONS_SECRET:-}" ]; then
  ACTIONS_SECRET=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export ACTIONS_SECRET

STOPPING=
# Still running (an exited child stays a zombie until it is waited for: not running).
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# Ctrl-C: every server gets SIGTERM and STOP_GRACE_SECONDS to finish (Sanic's own graceful
# shutdown takes up to 15 s); one still running after that is named and killed, so that
# Ctrl-C always gives the ports back.
cleanup() {
  STOPPING=1
  trap - INT TERM EXIT
  if ((${#PIDS[@]})); then
    echo
    echo "==> Arrêt des serveurs…"
    kill "${PIDS[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + ${STOP_GRACE_SECONDS:-20})) pid left
    while ((SECONDS < deadline)); do
      left=0
      for pid in "${PIDS[@]}"; do running "$pid" && left=1; done
      ((left)) || break
      sleep 0.5
    done
    for pid in "${PIDS[@]}"; do
      if running "$pid"; then
        echo "Toujours en marche après ${STOP_GRACE_SECONDS:-20} s, arrêt forcé : $(ps -o args= -p "$pid" | cut -c1-100)" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
}
trap cleanup INT TERM EXIT

port_in_use() {
  "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
s = socket.socket()
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

require_free_port() {  # name port variable
  if port_in_use "$2"; then
    echo "Le port $2 ($1) est déjà occupé : arrêtez l'autre programme ou choisissez un autre port avec $3=…" >&2
    exit 1
  fi
}

wait_for_http() {  # name url timeout_seconds pid
  local name=$1 url=$2 timeout=$3 pid=$4 start=$SECONDS
  printf '==> Démarrage : %s' "$name"
  until "$VENV/bin/python" -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo; echo "Échec du démarrage de $name : voir var/log/" >&2; exit 1
    fi
    if ((SECONDS - start > timeout)); then
      echo; echo "$name ne répond pas après ${timeout} s : voir var/log/" >&2; exit 1
    fi
    printf '.'; sleep 1
  done
  echo " prêt ($((SECONDS - start)) s)"
}

# Settings checked before anything starts (a wrong value would stop a server in the
# background): the outbox worker's retention (LEADS_RETENTION, CONVERSATIONS_RETENTION) and
# the notifier's (LEADS_WEBHOOK_URL: http or https only, NOTIFY_TIMEOUT, SMTP_PORT).
check_settings() {
  local problem
  if ! problem=$("$VENV/bin/python" -c '
import os, sys
from bot.leads.retention import DEFAULT_CONVERSATIONS_RETENTION, DEFAULT_RETENTION, InvalidDuration, parse_retention
for name, default in (("LEADS_RETENTION", DEFAULT_RETENTION), ("CONVERSATIONS_RETENTION", DEFAULT_CONVERSATIONS_RETENTION)):
    try:
        parse_retention(os.environ.get(name) or default)
    except InvalidDuration as exc:
        sys.exit(f"{name} : {exc} (ou off).")
from bot.leads.notifier import NotifierConfig, NotifierConfigError
try:
    NotifierConfig.from_env()
except NotifierConfigError as exc:
    sys.exit(str(exc))
' 2>&1); then
    echo "$problem" >&2
    exit 1
  fi
}

apply_migrations() {
  if [ -x "$VENV/bin/sip-coach" ] && "$VENV/bin/sip-coach" db upgrade >var/log/migrations.log 2>&1; then
    echo "==> Base des leads à jour"
  else
    echo "Échec de la migration de la base des leads : voir var/log/migrations.log" >&2
    exit 1
  fi
}

start_actions() {
  require_free_port "serveur d'actions" "$ACTIONS_PORT" ACTIONS_PORT
  # Bound to localhost: only the Rasa server talks to it.
  SANIC_HOST=127.0.0.1 "$VENV/bin/rasa" run actions --actions actions --port "$ACTIONS_PORT" \
    >var/log/actions.log 2>&1 &
  PIDS+=($!)
  wait_for_http "serveur d'actions" "http://127.0.0.1:$ACTIONS_PORT/health" 120 "$!"
}

# Booking (issue 14): the consultants' calendars over CalDAV. Without CALDAV_URL, the embedded
# Radicale (bot/booking/radicale_server.py: var/radicale/, its user created on first run) on
# CALDAV_PORT (5232), its folder CALDAV_FOLDER, stopped with the others; with CALDAV_URL, that server is used as is.
start_calendar() {
  if [ -n "${CALDAV_URL:-}" ]; then
    echo "==> Agenda CalDAV : $CALDAV_URL"
    return
  fi
  : "${CALDAV_PORT:=5232}" "${CALDAV_FOLDER:=var/radicale}"
  export CALDAV_PORT
  require_free_port "agenda CalDAV (Radicale)" "$CALDAV_PORT" CALDAV_PORT
  local settings
  settings=$("$VENV/bin/python" -m bot.booking.radicale_server --folder "$CALDAV_FOLDER" --port "$CALDAV_PORT" --print-env)
  while IFS='=' read -r key value; do export "$key=$value"; done <<<"$settings"
  "$VENV/bin/python" -m bot.booking.radicale_server --folder "$CALDAV_FOLDER" --port "$CALDAV_PORT" \
    >var/log/radicale.log 2>&1 &
  PIDS+=($!)
  local pid=$! start=$SECONDS
  printf '==> Démarrage : agenda CalDAV (Radicale)'
  # Ready when it answers HTTP at all (401 without the password is an answer).
  until "$VENV/bin/python" -c "
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass" "$CALDAV_URL" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo; echo "Échec du démarrage de l'agenda CalDAV : voir var/log/radicale.log" >&2; exit 1
    fi
    if ((SECONDS - start > 30)); then
      echo; echo "L'agenda CalDAV ne répond pas après 30 s : voir var/log/radicale.log" >&2; exit 1
    fi
    printf '.'; sleep 0.5
  done
  echo " prêt ($((SECONDS - start)) s)"
}

# The consultants' back office (bot/backoffice/, docs/backoffice.md) on BACKOFFICE_PORT (8001),
# bound to BACKOFFICE_HOST (127.0.0.1). No account exists until `sip-coach users add` makes one.
start_backoffice() {
  : "${BACKOFFICE_PORT:=8001}" "${BACKOFFICE_HOST:=127.0.0.1}"
  export BACKOFFICE_PORT BACKOFFICE_HOST
  require_free_port "back-office" "$BACKOFFICE_PORT" BACKOFFICE_PORT
  "$VENV/bin/python" -m bot.backoffice.server >var/log/backoffice.log 2>&1 &
  PIDS+=($!)
  wait_for_http "back-office" "http://127.0.0.1:$BACKOFFICE_PORT/healthz" 60 "$!"
}
