#!/usr/bin/env bash
# `make run-prod`: the production profile on this machine (docs/deployment.md).
#   PostgreSQL (conversations, leads) and Redis (locks) must run; settings from the environment.
#   2 action servers and 2 Rasa replicas on 127.0.0.1, nginx in front of them on RASA_PORT,
#   the demo page on WEB_PORT, the outbox worker (notices, and the leads kept during an outage),
#   the back office (nginx: /admin/) and the consumer of the funnel's events (RabbitMQ).
# A component that stops is started again; Ctrl-C stops everything.
source "$(dirname "$0")/prod_lib.sh"

prod_defaults
check_settings  # lib.sh: retention periods, webhook URL
command -v "$NGINX_BIN" >/dev/null 2>&1 || [ -x "$NGINX_BIN" ] ||
  prod_fail "nginx est introuvable : installez-le (apt-get install nginx), ou indiquez NGINX_BIN=…"
[ -f "$MODEL" ] || prod_fail "Modèle absent ($MODEL) : lancez « make train »."

echo "==> Services : PostgreSQL ($TRACKER_DB_HOST:$TRACKER_DB_PORT), Redis ($REDIS_HOST:$REDIS_PORT)"
prod_prepare_services
apply_migrations  # lib.sh: sip-coach db upgrade on LEADS_DB_URL
start_calendar    # lib.sh: CALDAV_URL, or the embedded Radicale (booking)

require_free_port "nginx (public)" "$RASA_PORT" RASA_PORT
require_free_port "nginx (actions)" "$ACTIONS_PORT" ACTIONS_PORT
require_free_port "page de démo" "$WEB_PORT" WEB_PORT
require_free_port "back-office" "$BACKOFFICE_PORT" BACKOFFICE_PORT
for port in $RASA_REPLICA_PORTS; do require_free_port "réplique Rasa" "$port" RASA_REPLICA_PORTS; done
for port in $ACTIONS_REPLICA_PORTS; do require_free_port "serveur d'actions" "$port" ACTIONS_REPLICA_PORTS; done

# Supervision: name -> pid, command, log, start time, quick deaths in a row.
declare -A PID CMD LOG STARTED QUICK_DEATHS
start_component() {  # name log command...
  local name=$1 log=$2
  shift 2
  CMD[$name]="$*"
  LOG[$name]=$log
  ( "$@" ) >>"$log" 2>&1 &
  PID[$name]=$!
  STARTED[$name]=$SECONDS
  PIDS+=($!)
}

RUN_DIR=""
stop_all() {
  cleanup
  [ -z "$RUN_DIR" ] || rm -rf "$RUN_DIR"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# nginx: its own configuration, pid and temporary files in a private directory (removed at
# exit); a copy of the rendered configuration in the logs, to read.
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/coach-prod.XXXXXX")
prod_render_nginx "$RUN_DIR" >/dev/null
cp "$RUN_DIR/nginx.conf" "$PROD_LOG_DIR/nginx.conf"
prod_check_nginx "$RUN_DIR" || prod_fail "Configuration nginx refusée : voir ci-dessus et $PROD_LOG_DIR/nginx.conf."

i=0
for port in $ACTIONS_REPLICA_PORTS; do
  i=$((i + 1))
  start_component "actions-$i" "$PROD_LOG_DIR/actions-$i.log" prod_exec_action_server "$port"
done
start_component nginx "$PROD_LOG_DIR/nginx.log" prod_exec_nginx "$RUN_DIR"
i=0
for port in $RASA_REPLICA_PORTS; do
  i=$((i + 1))
  start_component "rasa-$i" "$PROD_LOG_DIR/rasa-$i.log" prod_exec_rasa_replica "$port"
done
start_component web "$PROD_LOG_DIR/web.log" prod_exec_web
start_component outbox "$PROD_LOG_DIR/outbox.log" prod_exec_outbox_worker
start_component backoffice "$PROD_LOG_DIR/backoffice.log" prod_exec_backoffice
start_component events "$PROD_LOG_DIR/events.log" prod_exec_events_consumer

i=0
for port in $ACTIONS_REPLICA_PORTS; do
  i=$((i + 1))
  wait_for_http "serveur d'actions $i" "http://$ACTIONS_BIND_HOST:$port/health" 180 "${PID[actions-$i]}"
done
wait_for_http "nginx" "http://$ACTIONS_HOST:$ACTIONS_PORT/health" 30 "${PID[nginx]}"
i=0
for port in $RASA_REPLICA_PORTS; do
  i=$((i + 1))
  wait_for_http "réplique Rasa $i" "http://$RASA_BIND_HOST:$port/" 300 "${PID[rasa-$i]}"
done
wait_for_http "page de démo" "http://127.0.0.1:$WEB_PORT/" 30 "${PID[web]}"
wait_for_http "back-office" "http://127.0.0.1:$BACKOFFICE_PORT/healthz" 60 "${PID[backoffice]}"

shown_host=$PUBLIC_HOST
[ "$shown_host" = "0.0.0.0" ] && shown_host=localhost
cat <<MSG

  Coach Partenariat (profil production) est prêt.
  Page de démo :     http://localhost:$WEB_PORT/
  API REST (nginx) : http://$shown_host:$RASA_PORT/webhooks/rest/webhook   santé : /health
  Répliques Rasa :   $(for p in $RASA_REPLICA_PORTS; do printf '%s:%s ' "$RASA_BIND_HOST" "$p"; done)(API HTTP désactivée)
  Actions :          $(for p in $ACTIONS_REPLICA_PORTS; do printf '%s:%s ' "$ACTIONS_BIND_HOST" "$p"; done)derrière $ACTIONS_HOST:$ACTIONS_PORT
  Bases :            conversations $TRACKER_DB_NAME, leads $(echo "$LEADS_DB_URL" | sed -E 's#^[^/]*//([^@/]*@)?##; s#\?.*$##') ; verrous Redis $REDIS_HOST:$REDIS_PORT/$REDIS_DB
  Back-office :      http://$shown_host:$RASA_PORT/admin/ (compte : sip-coach users add VOTRE_NOM)
  Parcours :         événements RabbitMQ $RABBITMQ_HOST:$RABBITMQ_PORT ($RABBITMQ_QUEUE) -> base $EVENTS_DB_NAME
  Journaux :         $PROD_LOG_DIR/
  Ctrl-C pour tout arrêter.

MSG

# A component that stops is started again (nginx keeps serving with the other replicas in
# the meantime). One that keeps dying within 30 s of its start waits longer each time before
# the next attempt (5, 10, 20, 40, then 60 s): it is never given up, and it is logged here.
declare -A NEXT_START
while true; do
  sleep 2
  for name in "${!PID[@]}"; do
    kill -0 "${PID[$name]}" 2>/dev/null && continue
    if [ -z "${NEXT_START[$name]:-}" ]; then
      wait "${PID[$name]}" 2>/dev/null && status=0 || status=$?
      if ((SECONDS - STARTED[$name] < 30)); then
        QUICK_DEATHS[$name]=$((${QUICK_DEATHS[$name]:-0} + 1))
      else
        QUICK_DEATHS[$name]=0
      fi
      delay=0
      if ((QUICK_DEATHS[$name] > 0)); then
        shift_by=$((QUICK_DEATHS[$name] < 5 ? QUICK_DEATHS[$name] - 1 : 4))
        delay=$((5 << shift_by))
        ((delay <= 60)) || delay=60
      fi
      NEXT_START[$name]=$((SECONDS + delay))
      echo "$(date '+%H:%M:%S') $name s'est arrêté (code $status) : relance dans ${delay} s ; journal ${LOG[$name]}" >&2
    fi
    ((SECONDS >= NEXT_START[$name])) || continue
    unset "NEXT_START[$name]"
    # shellcheck disable=SC2086 # CMD holds a function name and its (space-free) arguments
    start_component "$name" "${LOG[$name]}" ${CMD[$name]}
  done
done
