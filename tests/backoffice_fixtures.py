"""Fixtures of the back-office tests: a migrated leads database (SQLite, then PostgreSQL), a
tracker store with conversations, the real server (uvicorn, in a thread, on a free port) and
a small HTTP client that keeps cookies and reads each page's CSRF token like a browser.
"""
from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pytest

from bot.backoffice.accounts import Accounts
from bot.backoffice.settings import BackofficeSettings
from bot.leads.consent import CONSENT_VERSION
from bot.leads.db import make_engine, session_scope, upgrade_database
from bot.leads.notifier import Notifier, NotifierConfig
from bot.leads.service import LeadService, LeadSubmission
from bot.leads.transcript import events_table, tracker_metadata

PASSWORD = "un mot de passe solide"
OTHER_PASSWORD = "un autre mot de passe solide"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'leads.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade_database(url)
    return url


class Conversations:
    """Rasa-like rows in a tracker store's ``events`` table (what the transcripts and the
    unanswered questions read)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        tracker_metadata.create_all(self.engine)
        self.clock = time.time() - 3600

    def add(self, sender_id: str, type_name: str, **payload) -> None:
        self.clock += 1
        data = {"event": type_name, "timestamp": self.clock, **payload}
        intent = ((payload.get("parse_data") or {}).get("intent") or {}).get("name")
        with self.engine.begin() as connection:
            connection.execute(events_table.insert().values(
                sender_id=sender_id, type_name=type_name, timestamp=self.clock,
                intent_name=intent, action_name=payload.get("name"), data=json.dumps(data),
            ))

    def turn(self, sender_id: str, text: str, intent: str, action: str, reply: str) -> None:
        self.add(sender_id, "user", text=text, parse_data={"intent": {"name": intent, "confidence": 0.9}})
        self.add(sender_id, "action", name=action)
        self.add(sender_id, "bot", text=reply)
        self.add(sender_id, "action", name="action_listen")


@pytest.fixture
def conversations(tmp_path) -> Conversations:
    tracker = Conversations(f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    yield tracker
    tracker.engine.dispose()


def diagnostic(**overrides) -> Dict:
    data = {
        "relationship": "partnership",
        "answers": {
            "autonomy": "yes", "pooled_efforts": "yes", "common_goal": "partly", "own_missions": "yes",
            "shared_stakes": "yes", "shared_desire": "yes", "common_project": "no", "balance": "no",
            "contract": "no", "partner_choice": "partly", "piloting": "no",
        },
        "words": {"balance": "lui est moins motivé que moi"},
        "verdict": "fragile", "score": 48,
        "missing_criteria": [], "missing_pillars": ["common_project", "balance", "contract"],
        "advice": ["Écrivez un projet commun.", "Rééquilibrez la relation.", "Signez un contrat simple."],
    }
    data.update(overrides)
    return data


def submission(**overrides) -> LeadSubmission:
    values = dict(
        sender_id="conv-jeanne", name="Jeanne Martin", company="Menuiserie Martin",
        email="jeanne.martin@menuiserie-martin.fr", phone="06 34 22 31 71", callback_time="après 17h",
        need="Choisir et piloter notre partenaire", consent=True, consent_version=CONSENT_VERSION,
        diagnostic=diagnostic(),
    )
    values.update(overrides)
    return LeadSubmission(**values)


@pytest.fixture
def leads(db_url, conversations, tmp_path) -> LeadService:
    service = LeadService(
        make_engine(db_url), notifier=Notifier(NotifierConfig(mail_dir=tmp_path / "mail")),
        tracker_url=conversations.url,
    )
    yield service
    service.close()
    service.engine.dispose()


def add_account(service: LeadService, username: str = "claire", password: str = PASSWORD) -> None:
    with session_scope(service.factory) as session:
        Accounts(session).add(username, password)


# ---------------------------------------------------------------------- the server
@dataclass
class RunningBackoffice:
    url: str
    settings: BackofficeSettings
    leads: LeadService
    server: object
    thread: threading.Thread

    def session(self, **kwargs) -> "Client":
        return Client(self.url, **kwargs)


def _start(settings: BackofficeSettings, service: LeadService, evaluate=None) -> RunningBackoffice:  # noqa: ANN001
    import uvicorn

    from bot.backoffice.app import create_app

    app = create_app(settings, leads=service, evaluate_markers=evaluate)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=settings.port, log_level="warning", ws="none",
        proxy_headers=settings.trust_proxy, forwarded_allow_ips="127.0.0.1", root_path=settings.root_path,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # uvicorn says when it listens
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the back office did not start")
        time.sleep(0.02)
    return RunningBackoffice(f"http://127.0.0.1:{settings.port}{settings.root_path}", settings, service, server, thread)


@pytest.fixture
def start_backoffice(leads, conversations, tmp_path):
    started: List[RunningBackoffice] = []

    def start(evaluate=None, **overrides) -> RunningBackoffice:  # noqa: ANN001
        values = dict(
            port=free_port(), leads_db_url=str(leads.engine.url), tracker_db_url=conversations.url,
            events_db_url=f"sqlite:///{tmp_path / 'events.sqlite3'}",
            reviewed_nlu_path=str(tmp_path / "nlu" / "reviewed.yml"),
        )
        values.update(overrides)
        running = _start(BackofficeSettings(**values), leads, evaluate)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.should_exit = True
        running.thread.join(10)


@pytest.fixture
def backoffice(start_backoffice) -> RunningBackoffice:
    return start_backoffice()


# ---------------------------------------------------------------------- the client
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002,ANN003
        return None


@dataclass
class Page:
    status: int
    body: str
    headers: Dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def text(self) -> str:
        """The page's words, without tags (what a reader sees)."""
        import html

        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.body)).split())


class Client:
    """Cookies kept, redirects not followed, the last page's CSRF token sent with each form."""

    def __init__(self, base: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.extra_headers = headers or {}
        self.csrf = ""
        self.raw_set_cookies: List[str] = []

    def request(self, method: str, path: str, data: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> Page:
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={**self.extra_headers, **(headers or {})})
        try:
            with self.opener.open(req, timeout=30) as response:
                page = Page(response.status, response.read().decode("utf-8", "replace"), {k.lower(): v for k, v in response.headers.items()})
                self.raw_set_cookies += response.headers.get_all("set-cookie") or []
        except urllib.error.HTTPError as error:
            page = Page(error.code, error.read().decode("utf-8", "replace"), {k.lower(): v for k, v in error.headers.items()})
            self.raw_set_cookies += error.headers.get_all("set-cookie") or []
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.body)
        if found:
            self.csrf = found.group(1)
        return page

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def post(self, path: str, fields: Optional[Dict[str, str]] = None, csrf: bool = True) -> Page:
        fields = dict(fields or {})
        if csrf:
            fields.setdefault("csrf_token", self.csrf)
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def login(self, username: str = "claire", password: str = PASSWORD) -> Page:
        page = self.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.body).group(1)
        result = self.post("/login", {"login_csrf": token, "username": username, "password": password, "next": "/leads"}, csrf=False)
        if result.status == 303:
            self.get("/leads")  # the CSRF token of the session
        return result
