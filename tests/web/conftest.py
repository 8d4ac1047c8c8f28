"""Fixtures of the browser tests of the chat widget (web/).

Reusable pieces (also meant for a test against the real Rasa server):

- ``serve_web(rasa_url, port=None)``: starts ``web/serve.py`` (a subprocess) with
  ``RASA_PUBLIC_URL=rasa_url`` and returns the page's base URL (``http://127.0.0.1:PORT/``).
  One server per (rasa_url, port) for the whole session. Pass a fixed ``port`` when the Rasa
  server only accepts a configured page origin (CORS).
- ``browser``: Debian's chromium (``/usr/bin/chromium``, or ``$CHROMIUM_PATH``) via Playwright.
- ``chat_factory(base_url, viewport=DESKTOP)``: a new browser context and page on ``base_url``,
  wrapped in a :class:`Chat` driver (open, send, click quick replies, wait for Marc's answers).
- ``fake_rasa``: a scripted stand-in for Rasa's REST channel (``POST /webhooks/rest/webhook``),
  with CORS limited to the demo page's origin; ``web_url`` serves the page against it;
  ``chat`` is a desktop page on it.
- ``axe_source``: the text of axe-core's ``axe.min.js`` (from the PyPI package
  ``axe-playwright-python==0.1.8``, which bundles axe-core 4.12.1; else ``npm install`` of
  ``axe-core@4.12.1`` into a temporary folder).
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "web"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
AXE_CORE_NPM_VERSION = "4.12.1"  # the version bundled by axe-playwright-python 0.1.8
IN_CI = os.environ.get("CI", "").lower() == "true"
TIMEOUT_MS = 10_000


def _missing(reason: str) -> None:
    """Skip on a developer machine, fail under CI (where the Makefile installs everything)."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


# --------------------------------------------------------------------------- fake Rasa


def diagnostic_payload() -> dict[str, Any]:
    """A diagnostic as the bot's custom action sends it: two legs missing (balance partly, contract no)."""
    return {
        "type": "diagnostic",
        "verdict": "fragile",
        "verdict_label": "Un partenariat prometteur, mais encore bancal",
        "score": 62,
        "relationship": "partnership",
        "criteria": [
            {"key": "autonomy", "label": "Des intervenants autonomes", "answer": "yes", "score": 1.0},
            {"key": "pooled_efforts", "label": "Des efforts mis en commun", "answer": "yes", "score": 1.0},
            {"key": "common_goal", "label": "Un objectif commun, relié à un besoin clairement identifié",
             "answer": "partly", "score": 0.5},
            {"key": "own_missions", "label": "Des missions propres à chacun", "answer": "no", "score": 0.0},
            {"key": "shared_stakes", "label": "Un intérêt, une responsabilité, une motivation pour tous",
             "answer": "yes", "score": 1.0},
        ],
        "pillars": [
            {"key": "shared_desire", "label": "La même envie", "answer": "yes", "score": 1.0},
            {"key": "common_project", "label": "Un projet commun", "answer": "yes", "score": 1.0},
            {"key": "balance", "label": "Une relation équilibrée", "answer": "partly", "score": 0.5},
            {"key": "contract", "label": "Le contrat", "answer": "no", "score": 0.0},
        ],
        "extras": [
            {"key": "partner_choice", "label": "Le choix du partenaire", "answer": "yes", "score": 1.0},
            {"key": "piloting", "label": "Le pilotage dans la durée", "answer": "unknown", "score": 0.0},
        ],
        "missing_criteria": ["common_goal", "own_missions"],
        "missing_pillars": ["balance", "contract"],
    }


GREETING = "Bonjour ! Moi, c'est Marc, de Sales In Progress.\nEn ce moment, je deal à donf… des partenariats !"
LINK_REPLY = (
    "Demandez un rendez-vous sur www.salesinprogress.com, ou voyez https://www.salesinprogress.com/contact.\n"
    "Surtout pas javascript:alert(1) ni <b>gras</b> !"
)


FORGOTTEN_REPLY = "C'est noté : je ne garde rien de ce que vous m'avez dit."


def default_script(message: str) -> list[dict[str, Any]]:
    if message == "/greet":
        return [
            {"text": GREETING},
            {
                "text": "On commence par quoi ?",
                "buttons": [
                    {"title": "Les clés d'un partenariat", "payload": "/start_session"},
                    {"title": "Évaluer mon projet", "payload": "/start_diagnostic"},
                ],
            },
        ]
    if message == "/start_session":
        return [
            {
                "text": "Première clé : les mots. Client, fournisseur, partenaire : trois définitions bien distinctes !",
                "buttons": [{"title": "La suite", "payload": "/continue"}],
            }
        ]
    if message == "/continue":
        return [{"text": "Le partenariat, c'est une notion à deux étages."}]
    if message == "/start_diagnostic":
        # one utter_message(text=..., buttons=..., json_message=...): Rasa's REST channel sends
        # the text with its buttons, then the custom payload as a message of its own
        return [
            {
                "text": "Voici ce que je retiens de votre projet :",
                "buttons": [
                    {"title": "Être rappelé", "payload": "/contact"},
                    {"title": "Non merci", "payload": "/deny"},
                ],
            },
            {"custom": diagnostic_payload()},
        ]
    if "site" in message.lower():
        return [{"text": LINK_REPLY}]
    if message == "Non, je refuse":
        # the real server's reply to a refused consent: the widget forgets its copy first
        return [{"custom": {"type": "forget"}}, {"text": FORGOTTEN_REPLY}]
    if message == "/silence":
        return []
    return [{"text": f"Vous avez écrit : {message}"}]


class FakeRasa:
    """Rasa's REST channel, scripted. Thread-safe enough for one browser at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.allowed_origins: set[str] = set()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[dict[str, Any]] = []
            self.status = 200  # any other value: answer with that HTTP status
            self.delay = 0.0
            self.script: Callable[[str], list[dict[str, Any]]] = default_script

    def messages(self, sender: Optional[str] = None) -> list[str]:
        with self.lock:
            return [r["message"] for r in self.requests if sender is None or r["sender"] == sender]

    def senders(self) -> list[str]:
        with self.lock:
            return list(dict.fromkeys(r["sender"] for r in self.requests))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # silence
                pass

            def _cors(self) -> None:
                origin = self.headers.get("Origin")
                # like Rasa's --cors with a literal list of origins: echo only an allowed one
                if origin and (not fake.allowed_origins or origin in fake.allowed_origins):
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Vary", "Origin")

            def _send_json(self, status: int, body: Any) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self) -> None:  # noqa: N802
                self.send_response(204)
                self._cors()
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
                self.send_header("Access-Control-Max-Age", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                self._send_json(200, {"version": "fake"}) if self.path == "/version" else self._send_json(
                    404, {"error": "not found"}
                )

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != "/webhooks/rest/webhook":
                    self._send_json(404, {"error": "not found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    sender, message = str(body["sender"]), str(body["message"])
                except (ValueError, KeyError, TypeError):
                    self._send_json(400, {"error": "bad request"})
                    return
                with fake.lock:
                    fake.requests.append({"sender": sender, "message": message, "status": fake.status})
                    status, delay, script = fake.status, fake.delay, fake.script
                if delay:
                    time.sleep(delay)
                if status != 200:
                    self._send_json(status, {"status": "failure", "message": "scripted error"})
                    return
                replies = [{"recipient_id": sender, **r} for r in script(message)]
                self._send_json(200, replies)

        return Handler


@pytest.fixture(scope="session")
def fake_rasa_server():
    fake = FakeRasa()
    yield fake
    fake.close()


@pytest.fixture
def fake_rasa(fake_rasa_server: FakeRasa, web_url: str) -> FakeRasa:
    """The fake Rasa server, reset for this test, accepting only the demo page's origin."""
    fake_rasa_server.reset()
    fake_rasa_server.allowed_origins = {web_url.rstrip("/")}
    return fake_rasa_server


# --------------------------------------------------------------------------- web server


def _start_serve_py(rasa_url: str, port: Optional[int]) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ)
    env.update(
        WEB_PORT=str(port or 0),
        WEB_HOST="127.0.0.1",
        RASA_PUBLIC_URL=rasa_url,
        WEB_QUIET="1",
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, str(WEB_DIR / "serve.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 15
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(r"http://[^\s/]+:(\d+)/", line)
        if match:
            return proc, f"http://127.0.0.1:{match.group(1)}/"
    proc.kill()
    raise RuntimeError("web/serve.py did not print its address:\n" + "".join(seen))


@pytest.fixture(scope="session")
def serve_web():
    """serve_web(rasa_url, port=None) -> base URL of web/ served by web/serve.py."""
    started: dict[tuple[str, Optional[int]], tuple[subprocess.Popen, str]] = {}

    def start(rasa_url: str, port: Optional[int] = None) -> str:
        key = (rasa_url, port)
        if key not in started:
            started[key] = _start_serve_py(rasa_url, port)
        return started[key][1]

    yield start
    for proc, _ in started.values():
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def web_url(serve_web, fake_rasa_server: FakeRasa) -> str:
    return serve_web(fake_rasa_server.url)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed in this environment")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Chat:
    """Drives the widget on one page, as a visitor would."""

    def __init__(self, page, context) -> None:
        self.page = page
        self.context = context
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # locators
    @property
    def launcher(self):
        return self.page.locator(".cp-launcher")

    @property
    def panel(self):
        return self.page.locator("#cp-panel")

    @property
    def input(self):
        return self.page.locator("#cp-input")

    @property
    def log(self):
        return self.page.locator(".cp-log")

    @property
    def bot_bubbles(self):
        return self.page.locator(".cp-msg--bot .cp-bubble")

    @property
    def user_bubbles(self):
        return self.page.locator(".cp-msg--user .cp-bubble")

    @property
    def error(self):
        return self.page.locator(".cp-error")

    @property
    def typing(self):
        return self.page.locator(".cp-typing")

    def goto(self, url: str) -> "Chat":
        self.page.goto(url)
        self.launcher.wait_for(state="visible", timeout=TIMEOUT_MS)
        return self

    def open(self) -> "Chat":
        self.launcher.click()
        self.panel.wait_for(state="visible", timeout=TIMEOUT_MS)
        return self

    def wait_idle(self, timeout: int = TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            "() => !document.querySelector('.cp-root').classList.contains('cp-is-busy')", timeout=timeout
        )

    def wait_bot_count(self, n: int, timeout: int = TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            "n => document.querySelectorAll('.cp-msg--bot').length >= n", arg=n, timeout=timeout
        )
        self.wait_idle(timeout)

    def open_and_wait_greeting(self) -> "Chat":
        self.open()
        self.wait_bot_count(1)
        return self

    def send(self, text: str, wait: bool = True, timeout: int = TIMEOUT_MS) -> None:
        before = self.page.locator(".cp-msg--bot").count()
        self.input.fill(text)
        self.input.press("Enter")
        if wait:
            self.wait_bot_count(before + 1, timeout)

    def click_reply(self, title: str, wait: bool = True, timeout: int = TIMEOUT_MS) -> None:
        before = self.page.locator(".cp-msg--bot").count()
        self.page.locator(".cp-quick-btn:enabled", has_text=title).last.click()
        if wait:
            self.wait_bot_count(before + 1, timeout)

    _TEXTS_JS = """sel => [...document.querySelectorAll(sel)].map(b => {
        const c = b.cloneNode(true);
        c.querySelectorAll('.cp-sr').forEach(n => n.remove());
        c.querySelectorAll('br').forEach(n => n.replaceWith('\\n'));
        return c.textContent;
    })"""

    def bot_texts(self) -> list[str]:
        """Marc's bubbles as plain text (line breaks as \\n, without the screen-reader prefix)."""
        return self.page.evaluate(self._TEXTS_JS, ".cp-msg--bot .cp-bubble")

    def user_texts(self) -> list[str]:
        return self.page.evaluate(self._TEXTS_JS, ".cp-msg--user .cp-bubble")

    def stored_state(self) -> Optional[dict]:
        raw = self.page.evaluate("() => localStorage.getItem('coach-partenariat')")
        return json.loads(raw) if raw else None

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def chat_factory(browser):
    """chat_factory(base_url, viewport=DESKTOP, widget_config=None, **context_options) -> Chat
    on a fresh context; ``widget_config`` sets window.CoachPartenariatConfig before the page's
    own scripts (the page's config.js adds to it)."""
    contexts = []
    chats: list[Chat] = []

    def make(base_url: str, viewport: Optional[dict] = None,
             widget_config: Optional[dict] = None, **context_options) -> Chat:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale="fr-FR", **context_options
        )
        context.set_default_timeout(TIMEOUT_MS)
        if widget_config:
            context.add_init_script(f"window.CoachPartenariatConfig = {json.dumps(widget_config)};")
        contexts.append(context)
        chat = Chat(context.new_page(), context)
        chats.append(chat)
        chat.goto(base_url)
        if widget_config:  # still there once the page's own config.js has run
            seen = chat.page.evaluate("Object.assign({}, window.CoachPartenariatConfig)")
            assert {k: seen.get(k) for k in widget_config} == widget_config, seen
        return chat

    yield make
    for c in contexts:
        c.close()
    for chat in chats:
        assert not chat.page_errors, f"JavaScript errors on the page: {chat.page_errors}"


@pytest.fixture
def chat(chat_factory, web_url, fake_rasa) -> Chat:
    """The demo page at 1280x800, against the fake Rasa server."""
    return chat_factory(web_url)


# --------------------------------------------------------------------------- axe-core


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory) -> str:
    try:
        import axe_playwright_python  # noqa: F401  (PyPI: axe-playwright-python==0.1.8)

        path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
        if path.exists():
            return path.read_text(encoding="utf-8")
    except ImportError:
        pass
    npm = shutil.which("npm")
    if not npm:
        _missing("axe-core not found: pip install axe-playwright-python==0.1.8 (or install npm)")
    prefix = tmp_path_factory.mktemp("axe")
    subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent",
         f"axe-core@{AXE_CORE_NPM_VERSION}"],
        check=True,
        timeout=180,
    )
    return (prefix / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
