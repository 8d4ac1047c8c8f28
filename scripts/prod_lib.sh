# Production profile helpers, shared by scripts/run_prod.sh and tests/prod (docs/deployment.md).
# Sourcing this file sources lib.sh (cd to the project root, ports, PIDS, cleanup on exit...).
#
#   prod_defaults             settings from the environment, documented defaults, checks
#   prod_prepare_services     PostgreSQL and Redis reachable, databases created when missing
#   prod_render_nginx DIR     deploy/nginx.conf.template -> DIR/nginx.conf (prints the path)
#   prod_exec_* ...           exec one component in the current process (the caller forks):
#                             action_server PORT, rasa_replica PORT, nginx DIR, web, outbox_worker,
#                             backoffice, events_consumer
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROD_ENDPOINTS=endpoints.prod.yml
NGINX_TEMPLATE=deploy/nginx.conf.template
# The embedded profile's leads database (also the Makefile's default): not for this profile.
EMBEDDED_LEADS_DB_URL="sqlite:///var/leads.sqlite3"

prod_fail() {
  echo "$*" >&2
  exit 1
}

_is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )); }

_port_list() {  # first count -> "first first+1 ..."
  local first=$1 count=$2 i out=()
  for ((i = 0; i < count; i++)); do out+=($((first + i))); done
  echo "${out[*]}"
}

_pg_url() {  # database -> SQLAlchemy URL built from TRACKER_DB_* (password URL-encoded)
  "$VENV/bin/python" - "$1" <<'PY'
import os, sys
from sqlalchemy.engine import URL
env = os.environ
print(URL.create(
    "postgresql+psycopg2",
    username=env["TRACKER_DB_USER"] or None,
    password=env["TRACKER_DB_PASSWORD"] or None,
    host=env["TRACKER_DB_HOST"],
    port=int(env["TRACKER_DB_PORT"]),
    database=sys.argv[1],
    query={"connect_timeout": "5"},
).render_as_string(hide_password=False))
PY
}

prod_defaults() {
  # Addresses and ports. RASA_PORT (5005) is nginx's public port, ACTIONS_PORT (5055) the
  # action servers' load balancer; the replicas listen on the ports that follow.
  : "${PUBLIC_HOST:=0.0.0.0}" "${ACTIONS_HOST:=127.0.0.1}"
  : "${RASA_BIND_HOST:=127.0.0.1}" "${ACTIONS_BIND_HOST:=127.0.0.1}"
  : "${RASA_REPLICAS:=2}" "${ACTIONS_REPLICAS:=2}"
  [[ "$RASA_REPLICAS" =~ ^[1-9][0-9]*$ ]] || prod_fail "RASA_REPLICAS doit être un nombre ≥ 1 (reçu : $RASA_REPLICAS)."
  [[ "$ACTIONS_REPLICAS" =~ ^[1-9][0-9]*$ ]] || prod_fail "ACTIONS_REPLICAS doit être un nombre ≥ 1 (reçu : $ACTIONS_REPLICAS)."
  : "${RASA_REPLICA_PORTS:=$(_port_list $((RASA_PORT + 1)) "$RASA_REPLICAS")}"
  : "${ACTIONS_REPLICA_PORTS:=$(_port_list $((ACTIONS_PORT + 1)) "$ACTIONS_REPLICAS")}"
  local port
  for port in "$RASA_PORT" "$ACTIONS_PORT" "$WEB_PORT" $RASA_REPLICA_PORTS $ACTIONS_REPLICA_PORTS; do
    _is_port "$port" || prod_fail "Port invalide : « $port »."
  done

  # Conversations (tracker store): PostgreSQL.
  : "${TRACKER_DB_HOST:=127.0.0.1}" "${TRACKER_DB_PORT:=5432}" "${TRACKER_DB_NAME:=coach_tracker}"
  : "${TRACKER_DB_USER:=postgres}" "${TRACKER_DB_PASSWORD:=}"
  _is_port "$TRACKER_DB_PORT" || prod_fail "TRACKER_DB_PORT invalide : « $TRACKER_DB_PORT »."
  export TRACKER_DB_HOST TRACKER_DB_PORT TRACKER_DB_NAME TRACKER_DB_USER TRACKER_DB_PASSWORD
  # The same database for sip-coach (erasure, transcripts) and the actions (redaction).
  local derived
  derived=$(_pg_url "$TRACKER_DB_NAME")
  if [ -n "${TRACKER_DB_URL:-}" ] && [ "$TRACKER_DB_URL" != "$derived" ]; then
    echo "Note : TRACKER_DB_URL est déduit de TRACKER_DB_* dans ce profil (la valeur donnée est ignorée)." >&2
  fi
  TRACKER_DB_URL=$derived

  # Leads: PostgreSQL. Unset (or the embedded profile's SQLite default, which the Makefile
  # exports): the database LEADS_DB_NAME on the tracker's server.
  : "${LEADS_DB_NAME:=coach_leads}"
  if [ -z "${LEADS_DB_URL:-}" ] || [ "$LEADS_DB_URL" = "$EMBEDDED_LEADS_DB_URL" ]; then
    LEADS_DB_URL=$(_pg_url "$LEADS_DB_NAME")
  fi
  case "$LEADS_DB_URL" in
    postgresql*) ;;
    *) prod_fail "Le profil production garde les leads dans PostgreSQL : LEADS_DB_URL=postgresql+psycopg2://… (reçu : ${LEADS_DB_URL%%:*}:…)." ;;
  esac

  # Conversation locks: Redis.
  : "${REDIS_HOST:=127.0.0.1}" "${REDIS_PORT:=6379}" "${REDIS_DB:=1}" "${REDIS_PASSWORD:=}"
  : "${REDIS_KEY_PREFIX:=coach}"
  _is_port "$REDIS_PORT" || prod_fail "REDIS_PORT invalide : « $REDIS_PORT »."
  [[ "$REDIS_DB" =~ ^[0-9]+$ ]] || prod_fail "REDIS_DB doit être un numéro de base (reçu : $REDIS_DB)."
  [[ "$REDIS_KEY_PREFIX" =~ ^[A-Za-z0-9]+$ ]] || prod_fail "REDIS_KEY_PREFIX : lettres et chiffres seulement (reçu : $REDIS_KEY_PREFIX)."

  # Browser side: the page's origins (CORS allow-list, literal origins only) and the URL the
  # page calls (nginx).
  : "${CORS_ORIGINS:=http://localhost:$WEB_PORT http://127.0.0.1:$WEB_PORT}"
  CORS_ORIGINS=${CORS_ORIGINS//,/ }
  local origin
  for origin in $CORS_ORIGINS; do
    [[ "$origin" =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?$ ]] ||
      prod_fail "CORS_ORIGINS : « $origin » n'est pas une origine littérale (https://exemple.fr, sans chemin, sans * ni expression régulière)."
  done
  [ -n "${CORS_ORIGINS// /}" ] || prod_fail "CORS_ORIGINS est vide : indiquez l'origine de la page (par exemple https://www.salesinprogress.com)."
  : "${RASA_PUBLIC_URL:=http://localhost:$RASA_PORT}"

  # nginx.
  : "${NGINX_BIN:=$(command -v nginx || echo /usr/sbin/nginx)}"
  : "${NGINX_WORKERS:=1}" "${NGINX_RATE_LIMIT:=10r/s}" "${NGINX_RATE_BURST:=20}"
  : "${NGINX_MAX_BODY:=64k}" "${NGINX_READ_TIMEOUT:=60s}"
  # max_fails=0: a replica that refuses a connection is simply skipped, request by request
  # (instant on one machine), and is used again as soon as it is back. Across machines, where
  # a dead host costs proxy_connect_timeout, "max_fails=1 fail_timeout=10s" may be better.
  : "${NGINX_UPSTREAM_OPTIONS=max_fails=0}"
  [[ "$NGINX_UPSTREAM_OPTIONS" =~ ^[a-z_=0-9[:space:]]*$ ]] || prod_fail "NGINX_UPSTREAM_OPTIONS : options de « server » nginx (reçu : $NGINX_UPSTREAM_OPTIONS)."
  [[ "$NGINX_RATE_LIMIT" =~ ^[0-9]+r/[sm]$ ]] || prod_fail "NGINX_RATE_LIMIT : par exemple 10r/s (reçu : $NGINX_RATE_LIMIT)."
  [[ "$NGINX_RATE_BURST" =~ ^[0-9]+$ ]] || prod_fail "NGINX_RATE_BURST doit être un nombre (reçu : $NGINX_RATE_BURST)."
  [[ "$NGINX_MAX_BODY" =~ ^[0-9]+[kKmM]?$ ]] || prod_fail "NGINX_MAX_BODY : par exemple 64k (reçu : $NGINX_MAX_BODY)."
  [[ "$NGINX_READ_TIMEOUT" =~ ^[0-9]+(ms|s|m)?$ ]] || prod_fail "NGINX_READ_TIMEOUT : par exemple 60s (reçu : $NGINX_READ_TIMEOUT)."
  [[ "$NGINX_WORKERS" =~ ^([0-9]+|auto)$ ]] || prod_fail "NGINX_WORKERS : un nombre ou auto (reçu : $NGINX_WORKERS)."

  # The consultants' back office, behind nginx under /admin/ (TLS in front, as for the widget:
  # then BACKOFFICE_SECURE_COOKIE=true), and the funnel's events: Rasa publishes them on
  # RabbitMQ, `sip-coach events consume` writes them into EVENTS_DB_NAME on the tracker's server.
  : "${BACKOFFICE_PORT:=8001}" "${BACKOFFICE_HOST:=127.0.0.1}" "${BACKOFFICE_ROOT_PATH:=/admin}"
  # nginx speaks plain HTTP behind the TLS terminator: the cookie is Secure unless told otherwise
  # (BACKOFFICE_SECURE_COOKIE=false for a trial without TLS); the client's address comes from nginx.
  : "${BACKOFFICE_SECURE_COOKIE:=true}" "${BACKOFFICE_TRUST_PROXY:=true}"
  # lib.sh's default points at the embedded profile's port: here it is nginx's /admin/.
  [ "${BACKOFFICE_URL:-}" != "http://localhost:$BACKOFFICE_PORT" ] || BACKOFFICE_URL="$RASA_PUBLIC_URL/admin"
  _is_port "$BACKOFFICE_PORT" || prod_fail "BACKOFFICE_PORT invalide : « $BACKOFFICE_PORT »."
  [ "$BACKOFFICE_ROOT_PATH" = "/admin" ] || prod_fail "BACKOFFICE_ROOT_PATH vaut /admin dans ce profil (nginx le sert là)."
  : "${EVENTS_DB_NAME:=coach_events}"
  EVENTS_DB_URL=$(_pg_url "$EVENTS_DB_NAME")
  : "${RABBITMQ_HOST:=127.0.0.1}" "${RABBITMQ_PORT:=5672}" "${RABBITMQ_USER:=guest}" "${RABBITMQ_PASSWORD:=guest}"
  : "${RABBITMQ_QUEUE:=coach_events}"
  _is_port "$RABBITMQ_PORT" || prod_fail "RABBITMQ_PORT invalide : « $RABBITMQ_PORT »."
  [[ "$RABBITMQ_QUEUE" =~ ^[A-Za-z0-9._-]+$ ]] || prod_fail "RABBITMQ_QUEUE : lettres, chiffres, « . _ - » (reçu : $RABBITMQ_QUEUE)."
  RABBITMQ_URL=$("$VENV/bin/python" -c 'import os, urllib.parse as u; e = os.environ; print("amqp://%s:%s@%s:%s/%%2F" % (u.quote(e["RABBITMQ_USER"], safe=""), u.quote(e["RABBITMQ_PASSWORD"], safe=""), e["RABBITMQ_HOST"], e["RABBITMQ_PORT"]))')
  export BACKOFFICE_PORT BACKOFFICE_HOST BACKOFFICE_ROOT_PATH BACKOFFICE_URL BACKOFFICE_SECURE_COOKIE \
    BACKOFFICE_TRUST_PROXY EVENTS_DB_NAME EVENTS_DB_URL \
    RABBITMQ_HOST RABBITMQ_PORT RABBITMQ_USER RABBITMQ_PASSWORD RABBITMQ_QUEUE RABBITMQ_URL

  # Everything else.
  : "${LEADS_SPOOL_DIR:=var/spool}" "${OUTBOX_INTERVAL:=30}" "${PROD_LOG_DIR:=var/log/prod}"
  : "${SANIC_WORKERS:=1}"
  mkdir -p "$PROD_LOG_DIR"
  export PUBLIC_HOST ACTIONS_HOST RASA_BIND_HOST ACTIONS_BIND_HOST RASA_REPLICAS ACTIONS_REPLICAS \
    RASA_REPLICA_PORTS ACTIONS_REPLICA_PORTS TRACKER_DB_URL LEADS_DB_NAME LEADS_DB_URL \
    REDIS_HOST REDIS_PORT REDIS_DB REDIS_PASSWORD REDIS_KEY_PREFIX CORS_ORIGINS RASA_PUBLIC_URL \
    NGINX_BIN NGINX_WORKERS NGINX_RATE_LIMIT NGINX_RATE_BURST NGINX_MAX_BODY NGINX_READ_TIMEOUT \
    NGINX_UPSTREAM_OPTIONS \
    LEADS_SPOOL_DIR OUTBOX_INTERVAL PROD_LOG_DIR SANIC_WORKERS
}

prod_prepare_services() {
  # PostgreSQL reachable, tracker and leads databases created if missing; Redis answers.
  "$VENV/bin/python" - <<'PY'
import os, sys
import sqlalchemy as sa
from sqlalchemy.engine import make_url

def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)

def ensure(url_text, what):
    url = make_url(url_text)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return
    except sa.exc.OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if "does not exist" not in detail:
            fail(f"PostgreSQL injoignable pour {what} ({where}, base {url.database}) : {detail}\n"
                 "Démarrez PostgreSQL ou réglez TRACKER_DB_HOST/PORT/USER/PASSWORD ou LEADS_DB_URL.")
    finally:
        engine.dispose()
    admin = sa.create_engine(url.set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        print(f"==> Base PostgreSQL créée : {url.database} ({what})")
    except sa.exc.SQLAlchemyError as exc:
        fail(f"Impossible de créer la base {url.database} ({what}) sur {where} : "
             f"{type(exc).__name__} ; créez-la, ou donnez à l'utilisateur le droit CREATEDB.")
    finally:
        admin.dispose()

ensure(os.environ["TRACKER_DB_URL"], "conversations")
ensure(os.environ["LEADS_DB_URL"], "leads")
ensure(os.environ["EVENTS_DB_URL"], "parcours des visiteurs")

import redis
env = os.environ
try:
    redis.Redis(host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]), db=int(env["REDIS_DB"]),
                password=env["REDIS_PASSWORD"] or None, socket_timeout=5).ping()
except redis.RedisError as exc:
    fail(f"Redis injoignable ({env['REDIS_HOST']}:{env['REDIS_PORT']}) : {type(exc).__name__}\n"
         "Démarrez Redis ou réglez REDIS_HOST/REDIS_PORT/REDIS_PASSWORD.")

import pika
try:
    connection = pika.BlockingConnection(pika.URLParameters(env["RABBITMQ_URL"] + "?connection_attempts=1&socket_timeout=5"))
    connection.channel().queue_declare(env["RABBITMQ_QUEUE"], durable=True)  # before Rasa publishes
    connection.close()
except pika.exceptions.AMQPError as exc:
    fail(f"RabbitMQ injoignable ({env['RABBITMQ_HOST']}:{env['RABBITMQ_PORT']}) : {type(exc).__name__}\n"
         "Démarrez RabbitMQ ou réglez RABBITMQ_HOST/RABBITMQ_PORT/RABBITMQ_USER/RABBITMQ_PASSWORD.")
PY
}

prod_render_nginx() {  # run_dir -> writes run_dir/nginx.conf, prints its path
  local run_dir=$1
  mkdir -p "$run_dir"
  RUN_DIR=$run_dir LOG_DIR=$(cd "$PROD_LOG_DIR" && pwd) "$VENV/bin/python" - "$NGINX_TEMPLATE" "$run_dir/nginx.conf" <<'PY'
import os, re, sys
env = os.environ
template, target = sys.argv[1], sys.argv[2]

options = env["NGINX_UPSTREAM_OPTIONS"]

def servers(ports, host):
    return "\n".join(f"        server {host}:{port} {options};".rstrip() for port in ports.split())

values = {name: env[name] for name in (
    "RUN_DIR", "LOG_DIR", "PUBLIC_HOST", "RASA_PORT", "ACTIONS_HOST", "ACTIONS_PORT",
    "NGINX_WORKERS", "NGINX_RATE_LIMIT", "NGINX_RATE_BURST", "NGINX_MAX_BODY", "NGINX_READ_TIMEOUT",
    "BACKOFFICE_HOST", "BACKOFFICE_PORT")}
# The replicas are reached on RASA_REPLICA_HOSTS / ACTIONS_REPLICA_HOSTS when they run on other
# machines ("host:port ..."), else on their bind address with the local ports.
values["RASA_UPSTREAM_SERVERS"] = (
    "\n".join(f"        server {hp} {options};" for hp in env.get("RASA_REPLICA_HOSTS", "").split())
    or servers(env["RASA_REPLICA_PORTS"], env["RASA_BIND_HOST"]))
values["ACTIONS_UPSTREAM_SERVERS"] = (
    "\n".join(f"        server {hp} {options};" for hp in env.get("ACTIONS_REPLICA_HOSTS", "").split())
    or servers(env["ACTIONS_REPLICA_PORTS"], env["ACTIONS_BIND_HOST"]))
size = env["NGINX_MAX_BODY"]
units = {"k": 1024, "m": 1024 * 1024}
limit = int(size[:-1]) * units[size[-1].lower()] if size[-1].lower() in units else int(size)
values["NGINX_BODY_BUFFER"] = str(2 * limit)
values["CORS_MAP"] = "\n".join(f'        "{o}" $http_origin;' for o in env["CORS_ORIGINS"].split())
text = open(template, encoding="utf-8").read()
text = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text)
with open(target, "w", encoding="utf-8") as handle:
    handle.write(text)
print(target)
PY
  # Temporary directories: nginx's workers (nobody, when started as root) must reach them.
  chmod 711 "$run_dir"
}

prod_check_nginx() {  # run_dir: `nginx -t` on the rendered file
  "$NGINX_BIN" -t -q -p "$1" -c "$1/nginx.conf" -e "$PROD_LOG_DIR/nginx-error.log"
}

# ---------------------------------------------------------------------- one component each
prod_exec_action_server() {  # port
  SANIC_HOST=$ACTIONS_BIND_HOST exec "$VENV/bin/rasa" run actions --actions actions --port "$1"
}

prod_exec_rasa_replica() {  # port
  local origins
  read -r -a origins <<<"$CORS_ORIGINS"
  # No --enable-api: the HTTP API (trackers, model, parse...) does not exist on the replicas.
  exec "$VENV/bin/rasa" run --model "$MODEL" --interface "$RASA_BIND_HOST" --port "$1" \
    --credentials credentials.yml --endpoints "$PROD_ENDPOINTS" --cors "${origins[@]}"
}

prod_exec_nginx() {  # run_dir (rendered by prod_render_nginx)
  exec "$NGINX_BIN" -p "$1" -c "$1/nginx.conf" -e "$PROD_LOG_DIR/nginx-error.log" -g "daemon off;"
}

prod_exec_web() {
  WEB_QUIET=true exec "$VENV/bin/python" web/serve.py  # no request log: it holds addresses
}

prod_exec_outbox_worker() {
  exec "$VENV/bin/sip-coach" outbox worker --interval "$OUTBOX_INTERVAL"
}

prod_exec_backoffice() {
  exec "$VENV/bin/python" -m bot.backoffice.server
}

prod_exec_events_consumer() {
  exec "$VENV/bin/sip-coach" events consume
}
