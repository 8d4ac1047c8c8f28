#!/usr/bin/env bash
# `make run`: action server, Rasa server (REST channel) and the demo page; Ctrl-C stops all.
source "$(dirname "$0")/lib.sh"

check_settings
apply_migrations
start_calendar
start_actions

require_free_port "serveur Rasa" "$RASA_PORT" RASA_PORT
# CORS: exactly the demo page's origins, never "*". Bound to this machine unless RASA_HOST
# says otherwise (0.0.0.0 for every interface); bodies over RASA_MAX_BODY_BYTES (64 KiB: a
# message is 2,000 characters) get the French 413 of the production profile (channels/rest.py).
SANIC_REQUEST_MAX_SIZE=$RASA_MAX_BODY_BYTES \
"$VENV/bin/rasa" run --model "$MODEL" --interface "$RASA_HOST" --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml \
  --cors "http://localhost:$WEB_PORT" "http://127.0.0.1:$WEB_PORT" \
  >var/log/rasa.log 2>&1 &
PIDS+=($!)
wait_for_http "serveur Rasa" "http://127.0.0.1:$RASA_PORT/" 300 "$!"

# Notices to the consultant that failed (SMTP or webhook down) are retried from the outbox.
"$VENV/bin/sip-coach" outbox worker --interval 30 >var/log/outbox.log 2>&1 &
PIDS+=($!)

require_free_port "page de démo" "$WEB_PORT" WEB_PORT
"$VENV/bin/python" web/serve.py >var/log/web.log 2>&1 &
PIDS+=($!)
wait_for_http "page de démo" "http://127.0.0.1:$WEB_PORT/" 30 "$!"

start_backoffice

cat <<MSG

  Coach Partenariat est prêt.
  Page de démo :   http://localhost:$WEB_PORT/
  API REST Rasa :  http://localhost:$RASA_PORT/webhooks/rest/webhook
  Agenda CalDAV :  $CALDAV_URL (rendez-vous : sip-coach bookings list)
  Back-office :    http://localhost:$BACKOFFICE_PORT/ (compte : sip-coach users add VOTRE_NOM)
  Journaux :       var/log/
  Ctrl-C pour tout arrêter.

MSG
wait -n "${PIDS[@]}" || true
if [ -z "$STOPPING" ]; then
  echo "Un des serveurs s'est arrêté : voir var/log/. Arrêt des autres." >&2
  exit 1
fi
