"""Fixtures of the production-profile tests (docs/deployment.md): real PostgreSQL, Redis, nginx.

- ``prod_services`` (session): PostgreSQL, Redis and nginx are there; when one is missing the
  tests are skipped, except under ``CI=true`` where they fail.
- ``prod_settings`` (session): fresh databases ``coach_test_<random>`` (conversations) and
  ``coach_test_<random>_leads``, dropped at the end, and a Redis key prefix of the session
  (its keys deleted at the end); the environment every component of the stack gets.
- ``prod_stack`` (module): the profile itself, started the way ``scripts/run_prod.sh`` does it
  (the same ``prod_exec_*`` functions of ``scripts/prod_lib.sh``, the same
  ``endpoints.prod.yml`` and nginx template): 2 action servers, nginx, 2 Rasa replicas, the
  outbox worker, each on a free port; the test can stop, kill and restart any of them. The
  replicas reach Redis through a relay (``stack.redis_proxy``) a test can cut and restore.

Settings: ``PROD_TEST_PG_URL`` (maintenance database, default
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``), ``PROD_TEST_REDIS_HOST``,
``PROD_TEST_REDIS_PORT``, ``PROD_TEST_REDIS_DB`` (default 127.0.0.1, 6379, 1).
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from tests.conftest import MODEL, ROOT, free_ports, under_ci, wait_for_http

from .tcp_proxy import TcpProxy

PG_ADMIN_URL = os.environ.get(
    "PROD_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
REDIS_HOST = os.environ.get("PROD_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("PROD_TEST_REDIS_PORT", "6379"))
REDIS_DB = int(os.environ.get("PROD_TEST_REDIS_DB", "1"))
PROD_LIB = ROOT / "scripts" / "prod_lib.sh"
RABBITMQ_URL = os.environ.get("PROD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "prod: production profile (PostgreSQL, Redis, nginx, several replicas)"
    )


# ---------------------------------------------------------------------- services
def _problems() -> List[str]:
    problems = []
    engine = sa.create_engine(PG_ADMIN_URL, future=True, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        problems.append(f"PostgreSQL ({make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}): "
                        f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        engine.dispose()
    try:
        import redis

        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"Redis ({REDIS_HOST}:{REDIS_PORT}): {type(exc).__name__}: {exc}")
    try:
        import pika

        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL + "?connection_attempts=1&socket_timeout=5")).close()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"RabbitMQ ({RABBITMQ_URL.split('@')[-1]}): {type(exc).__name__}: {exc}")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        problems.append("nginx is not installed (apt-get install nginx)")
    return problems


@pytest.fixture(scope="session")
def prod_services() -> None:
    problems = _problems()
    if not problems:
        return
    message = "production-profile tests need: " + "; ".join(problems)
    if under_ci():
        pytest.fail(message + " (CI=true: never skipped)")
    pytest.skip(message)


def _admin_engine():
    return sa.create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")


def terminate_backends(connection, database: str) -> None:
    connection.execute(
        sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"),
        {"name": database},
    )


def set_database_reachable(database: str, reachable: bool) -> None:
    """Open or close a database to new connections; closing also ends the current ones."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(
                f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if reachable else "false"}'))
            if not reachable:
                terminate_backends(connection, database)
    finally:
        admin.dispose()


@dataclass(frozen=True)
class ProdSettings:
    tracker_db: str
    leads_db: str
    events_db: str
    redis_prefix: str
    base_env: Dict[str, str]

    def pg_url(self, database: str) -> str:
        return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def prod_settings(prod_services) -> Iterator[ProdSettings]:
    token = uuid.uuid4().hex[:10]
    tracker_db, leads_db = f"coach_test_{token}", f"coach_test_{token}_leads"
    events_db = f"coach_test_{token}_events"
    admin = _admin_engine()
    with admin.connect() as connection:
        for name in (tracker_db, leads_db, events_db):
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin_url = make_url(PG_ADMIN_URL)
    leads_url = URL.create(
        "postgresql+psycopg2", username=admin_url.username, password=admin_url.password,
        host=admin_url.host or "127.0.0.1", port=admin_url.port or 5432, database=leads_db,
        query={"connect_timeout": "5"},
    ).render_as_string(hide_password=False)
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1",
        PUBLIC_HOST="127.0.0.1",
        TRACKER_DB_HOST=admin_url.host or "127.0.0.1", TRACKER_DB_PORT=str(admin_url.port or 5432),
        TRACKER_DB_NAME=tracker_db, TRACKER_DB_USER=admin_url.username or "",
        TRACKER_DB_PASSWORD=admin_url.password or "",
        LEADS_DB_URL=leads_url,
        REDIS_HOST=REDIS_HOST, REDIS_PORT=str(REDIS_PORT), REDIS_DB=str(REDIS_DB),
        REDIS_PASSWORD="", REDIS_KEY_PREFIX=f"cointest{token}",
        # Tests send many requests from one address: the real limits are tested apart.
        NGINX_RATE_LIMIT="1000r/s", NGINX_RATE_BURST="1000",
        # What the tests read in nginx's access log (which replica answered, in order) assumes
        # the defaults, whatever the calling shell exports: one worker, replicas never benched.
        NGINX_WORKERS="1", NGINX_UPSTREAM_OPTIONS="max_fails=0",
        LEADS_SPOOL_RETRY_SECONDS="1", OUTBOX_INTERVAL="1",
        # The funnel's events: a queue and a database of this run only (deleted after).
        EVENTS_DB_NAME=events_db, RABBITMQ_QUEUE=f"coach_test_{token}",
    )
    env.pop("TRACKER_DB_URL", None)
    settings = ProdSettings(tracker_db, leads_db, events_db, f"cointest{token}", env)
    try:
        yield settings
    finally:
        with admin.connect() as connection:
            for name in (tracker_db, leads_db, events_db):
                connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                terminate_backends(connection, name)
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
        import redis

        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        for key in client.scan_iter(f"{settings.redis_prefix}:*"):
            client.delete(key)
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        connection.channel().queue_delete(env["RABBITMQ_QUEUE"])
        connection.close()


# ---------------------------------------------------------------------- the stack
def resolved_env(env: Dict[str, str]) -> Dict[str, str]:
    """The environment after ``prod_defaults`` (defaults filled in, URLs derived, checked)."""
    out = subprocess.run(
        ["bash", "-c", f'source "{PROD_LIB}" && prod_defaults && env -0'],
        cwd=ROOT, env=env, capture_output=True, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"prod_defaults failed: {out.stderr.decode()}")
    pairs = (item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)
    return {k: v for k, v in pairs if not k.startswith("BASH_FUNC_")}


def render_nginx(env: Dict[str, str], run_dir: Path) -> Path:
    subprocess.run(["bash", "-c", f'source "{PROD_LIB}" && prod_render_nginx "$1"', "_", str(run_dir)],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return run_dir / "nginx.conf"


def listening_addresses(port: int) -> List[str]:
    """The local addresses with a listening TCP socket on ``port`` (from /proc/net)."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:  # pragma: no cover
            continue
        for line in lines:
            parts = line.split()
            local, state = parts[1], parts[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A = LISTEN
                continue
            if width == 8:
                raw = bytes.fromhex(address)[::-1]
                found.append(socket.inet_ntop(socket.AF_INET, raw))
            else:
                raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8))
                found.append(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@dataclass
class Response:
    status: int
    body: bytes
    headers: Dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(url: str, method: str = "GET", body: Optional[bytes] = None,
                 headers: Optional[Dict[str, str]] = None, timeout: float = 60,
                 chunked: bool = False) -> Response:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if chunked:
            connection.putrequest(method, path)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            try:
                for start in range(0, len(body or b""), 65536):
                    piece = body[start:start + 65536]
                    connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                connection.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # nginx may answer 413 and close before the end of the body
        else:
            connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        return Response(reply.status, reply.read(), {k.lower(): v for k, v in reply.getheaders()})
    finally:
        connection.close()


@dataclass
class ProdStack:
    settings: ProdSettings
    workdir: Path
    env: Dict[str, str]
    run_dir: Path
    redis_proxy: Optional[TcpProxy] = None  # the replicas reach Redis through it (outage tests)
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    # -------------------------------------------------------------- addresses
    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def replica_ports(self) -> List[int]:
        return [int(p) for p in self.env["RASA_REPLICA_PORTS"].split()]

    @property
    def action_ports(self) -> List[int]:
        return [int(p) for p in self.env["ACTIONS_REPLICA_PORTS"].split()]

    @property
    def log_dir(self) -> Path:
        return Path(self.env["PROD_LOG_DIR"])

    @property
    def spool_dir(self) -> Path:
        return Path(self.env["LEADS_SPOOL_DIR"])

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[index]}"

    # -------------------------------------------------------------- processes
    def _spawn(self, name: str, function: str, *args: str) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("a")
        process = subprocess.Popen(
            ["bash", "-c", f'source "{PROD_LIB}" && {function} "$@"', "_", *args],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def _wait(self, name: str, url: str, timeout: float) -> None:
        wait_for_http(url, self.processes[name], self.log_dir / f"{name}.log", timeout)

    def start_actions(self, indexes: Optional[List[int]] = None) -> None:
        indexes = list(range(len(self.action_ports))) if indexes is None else indexes
        for i in indexes:
            self._spawn(f"actions-{i + 1}", "prod_exec_action_server", str(self.action_ports[i]))
        for i in indexes:
            self._wait(f"actions-{i + 1}", f"http://127.0.0.1:{self.action_ports[i]}/health", 180)

    def start_replicas(self, indexes: Optional[List[int]] = None) -> None:
        indexes = list(range(len(self.replica_ports))) if indexes is None else indexes
        for i in indexes:
            self._spawn(f"rasa-{i + 1}", "prod_exec_rasa_replica", str(self.replica_ports[i]))
        for i in indexes:
            self._wait(f"rasa-{i + 1}", f"{self.replica_url(i)}/", 400)
        for i in indexes:  # the first message loads the graphs: no test should pay for it
            self.chat(f"warm-up-{uuid.uuid4()}", "bonjour", via=i, timeout=180)

    def start_nginx(self) -> None:
        self._spawn("nginx", "prod_exec_nginx", str(self.run_dir))
        self._wait("nginx", f"http://127.0.0.1:{self.env['ACTIONS_PORT']}/health", 30)

    def start_worker(self) -> None:
        self._spawn("outbox", "prod_exec_outbox_worker")

    def start_backoffice(self) -> None:
        self._spawn("backoffice", "prod_exec_backoffice")
        self._wait("backoffice", f"http://127.0.0.1:{self.env['BACKOFFICE_PORT']}/healthz", 60)
        self._spawn("events", "prod_exec_events_consumer")

    def start_all(self) -> None:
        self.start_actions()
        self.start_nginx()
        self.start_replicas()
        self.start_worker()
        self.start_backoffice()

    def stop(self, name: str, kill: bool = False) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_actions(self) -> None:
        for name in [n for n in self.processes if n.startswith("actions-")]:
            self.stop(name)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    # -------------------------------------------------------------- talking
    def chat(self, sender: str, message: Any, via: Optional[int] = None,
             timeout: float = 60) -> List[Dict[str, Any]]:
        base = self.public_url if via is None else self.replica_url(via)
        response = http_request(
            f"{base}/webhooks/rest/webhook", "POST",
            json.dumps({"sender": sender, "message": message}).encode(),
            {"Content-Type": "application/json"}, timeout=timeout,
        )
        assert response.status == 200, (response.status, response.body[:300])
        return response.json()

    def post(self, body: bytes, content_type: str = "application/json", **kwargs) -> Response:
        return http_request(f"{self.public_url}/webhooks/rest/webhook", "POST", body,
                            {"Content-Type": content_type}, **kwargs)

    # -------------------------------------------------------------- data
    def tracker_engine(self):
        return sa.create_engine(self.settings.pg_url(self.settings.tracker_db), future=True)

    def leads_engine(self):
        return sa.create_engine(self.env["LEADS_DB_URL"], future=True)

    def scalar(self, engine_factory, query: str, **params) -> Any:
        engine = engine_factory()
        try:
            with engine.connect() as connection:
                return connection.execute(sa.text(query), params).scalar_one()
        finally:
            engine.dispose()

    def count_events(self, sender: Optional[str] = None) -> int:
        if sender is None:
            return self.scalar(self.tracker_engine, "SELECT count(*) FROM events")
        return self.scalar(self.tracker_engine, "SELECT count(*) FROM events WHERE sender_id = :s", s=sender)

    def count_leads(self) -> int:
        return self.scalar(self.leads_engine, "SELECT count(*) FROM leads")

    def sip_coach(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(ROOT / ".venv" / "bin" / "sip-coach"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)


def prod_env(settings: ProdSettings, workdir: Path, **overrides: str) -> Dict[str, str]:
    env = dict(settings.base_env)
    rasa_port, actions_port, web_port, caldav_port, backoffice_port, *replicas = free_ports(9)
    env.update(
        # The embedded calendar of run_prod.sh, on its own port and in its own folder.
        CALDAV_PORT=str(caldav_port), CALDAV_FOLDER=str(workdir / "radicale"),
        RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), WEB_PORT=str(web_port),
        BACKOFFICE_PORT=str(backoffice_port),
        RASA_REPLICA_PORTS=f"{replicas[0]} {replicas[1]}",
        ACTIONS_REPLICA_PORTS=f"{replicas[2]} {replicas[3]}",
        PROD_LOG_DIR=str(workdir / "log"), LEADS_SPOOL_DIR=str(workdir / "spool"),
        LEADS_MAIL_DIR=str(workdir / "mail"),
        # One secret for every replica (run_prod.sh draws it once for all its processes).
        ACTIONS_SECRET=secrets.token_urlsafe(32),
    )
    env.update(overrides)
    return resolved_env(env)


@pytest.fixture(scope="module")
def prod_stack(prod_settings, tmp_path_factory) -> Iterator[ProdStack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it first)")
    workdir = tmp_path_factory.mktemp("prod_stack")
    redis_proxy = TcpProxy(REDIS_HOST, REDIS_PORT).start()
    env = prod_env(prod_settings, workdir, REDIS_PORT=str(redis_proxy.port))
    subprocess.run([str(ROOT / ".venv" / "bin" / "sip-coach"), "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    # As run_prod.sh: nginx's private directory in the system's temporary directory (its
    # workers, "nobody" when started as root, cannot reach pytest's 0700 directories).
    run_dir = Path(tempfile.mkdtemp(prefix="coach-prod-test."))
    render_nginx(env, run_dir)
    stack = ProdStack(prod_settings, workdir, env, run_dir, redis_proxy)
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()
        redis_proxy.close()
        shutil.rmtree(run_dir, ignore_errors=True)
