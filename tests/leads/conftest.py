"""Fixtures of the leads tests: databases (SQLite and PostgreSQL), a tracker store,
a local SMTP server (aiosmtpd) and a local HTTP receiver, each on a free port.

PostgreSQL fixtures are shared with the other tests: tests/postgres_fixtures.py.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import sqlalchemy as sa

from bot.leads.consent import CONSENT_VERSION
from bot.leads.db import make_engine, upgrade_database
from bot.leads.notifier import Notifier, NotifierConfig
from bot.leads.outbox import OutboxPolicy
from bot.leads.service import LeadService, LeadSubmission
from bot.leads.transcript import events_table, tracker_metadata

ENV_VARS = (
    "LEADS_DB_URL", "TRACKER_DB_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD",
    "SMTP_STARTTLS", "SMTP_FROM", "CONSULTANT_EMAIL", "LEADS_WEBHOOK_URL",
    "LEADS_WEBHOOK_SECRET", "LEADS_NOTIFY_EMAIL", "LEADS_MAIL_DIR", "LEADS_DELIVER_ON_SUBMIT",
    "OUTBOX_MAX_ATTEMPTS", "OUTBOX_BACKOFF_SECONDS", "OUTBOX_BACKOFF_MAX_SECONDS",
    "OUTBOX_LEASE_SECONDS", "NOTIFY_TIMEOUT",
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No setting leaks in from the machine; the current directory and the project root (where
    relative paths are taken from, bot/paths.py) are the test's own."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COACH_HOME", str(tmp_path))
    yield


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- databases
# PostgreSQL: tests/postgres_fixtures.py (postgres_available, postgres_database, postgres_url).


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request, tmp_path) -> str:
    """An empty leads database: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'leads.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db_url(empty_db_url) -> str:
    """A migrated leads database, SQLite then PostgreSQL."""
    upgrade_database(empty_db_url)
    return empty_db_url


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------------- tracker store
class Tracker:
    """A small Rasa-like ``events`` table in a tmp SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        tracker_metadata.create_all(self.engine)
        self.clock = 1_700_000_000.0

    def add(self, sender_id: str, type_name: str, text: Optional[str] = None, **data) -> None:
        self.clock += 1
        payload = {"event": type_name, "timestamp": self.clock, **data}
        if text is not None:
            payload["text"] = text
        with self.engine.begin() as connection:
            connection.execute(
                events_table.insert().values(
                    sender_id=sender_id, type_name=type_name, timestamp=self.clock,
                    intent_name=data.get("intent_name"), action_name=data.get("name"),
                    data=json.dumps(payload),
                )
            )

    def conversation(self, sender_id: str, pairs) -> None:
        self.add(sender_id, "action", name="action_listen")
        for user, bot in pairs:
            self.add(sender_id, "user", user, intent_name="inform")
            self.add(sender_id, "bot", bot)

    def count(self, sender_id: Optional[str] = None) -> int:
        query = sa.select(sa.func.count()).select_from(events_table)
        if sender_id:
            query = query.where(events_table.c.sender_id == sender_id)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()


@pytest.fixture
def tracker(tmp_path):
    tracker = Tracker(f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    yield tracker
    tracker.engine.dispose()


# ---------------------------------------------------------------------- the service
@pytest.fixture
def mail_dir(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def fast_policy() -> OutboxPolicy:
    return OutboxPolicy(max_attempts=5, backoff_seconds=60, backoff_max_seconds=600, lease_seconds=300)


@pytest.fixture
def make_service(engine, tracker, mail_dir, fast_policy):
    made: List[LeadService] = []

    def make(**config) -> LeadService:
        config.setdefault("mail_dir", mail_dir)
        svc = LeadService(
            engine,
            notifier=Notifier(NotifierConfig(**config)),
            tracker_url=tracker.url,
            policy=fast_policy,
        )
        made.append(svc)
        return svc

    yield make
    for svc in made:
        for thread in svc._threads:
            thread.join(5)


@pytest.fixture
def service(make_service) -> LeadService:
    """E-mail notices written as .eml files, no webhook."""
    return make_service()


def diagnostic(**overrides) -> Dict:
    data = {
        "relationship": "partnership",
        "answers": {
            "autonomy": "yes", "pooled_efforts": "yes", "common_goal": "partly",
            "own_missions": "yes", "shared_stakes": "no",
            "shared_desire": "yes", "common_project": "yes", "balance": "no", "contract": "unknown",
            "partner_choice": "no", "piloting": "partly",
        },
        "verdict": "mandatory_points_missing",
        "score": 55,
        "missing_criteria": ["shared_stakes"],
        "missing_pillars": ["balance", "contract"],
        "advice": ["Rééquilibrez la relation.", "Écrivez un contrat simple."],
    }
    data.update(overrides)
    return data


def submission(**overrides) -> LeadSubmission:
    values = dict(
        sender_id="conv-1",
        name="Jeanne Martin",
        company="Menuiserie Martin",
        email="jeanne.martin@menuiserie-martin.fr",
        phone="06 34 22 31 71",
        callback_time="mardi matin",
        need="Être accompagnés rapidement pour choisir et piloter notre partenaire",
        consent=True,
        consent_version=CONSENT_VERSION,
        diagnostic=diagnostic(),
    )
    values.update(overrides)
    return LeadSubmission(**values)


# ---------------------------------------------------------------------- SMTP server
class SMTPServer:
    """aiosmtpd on a fixed free port, that can be started and stopped (outage tests)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: List = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> "SMTPServer":
        from aiosmtpd.controller import Controller

        # A fixed server name: otherwise aiosmtpd looks up the machine's FQDN for every
        # connection before its greeting, which a slow resolver turns into a client timeout.
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                      server_hostname="localhost", ready_timeout=30)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self) -> Dict[str, str]:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": "Coach Partenariat <coach@salesinprogress.example>",
            "CONSULTANT_EMAIL": "consultant@salesinprogress.example",
        }

    def config(self) -> Dict:
        return dict(
            smtp_host="127.0.0.1", smtp_port=self.port, smtp_starttls=False,
            smtp_from="Coach Partenariat <coach@salesinprogress.example>",
            consultant_emails=("consultant@salesinprogress.example",), timeout=5,
        )


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    yield server
    server.stop()


# ---------------------------------------------------------------------- HTTP receiver
class HTTPReceiver:
    """A local webhook receiver on a fixed free port; ``statuses`` scripts its answers."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: List[Dict] = []
        self.statuses: List[int] = []  # answers to give, in order; then 200
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/leads"

    def start(self) -> "HTTPReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status < 300:
                        receiver.requests.append(
                            {"path": self.path, "headers": dict(self.headers), "body": body,
                             "json": json.loads(body.decode("utf-8"))}
                        )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def http_receiver():
    receiver = HTTPReceiver()
    yield receiver
    receiver.stop()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def diag():
    """diag(**overrides) -> a DiagnosticResult.to_dict()-like snapshot."""
    return diagnostic


@pytest.fixture
def sub():
    """sub(**overrides) -> a consenting LeadSubmission."""
    return submission
