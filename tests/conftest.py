"""Shared fixtures: the environment every test runs in, and the live stack for e2e tests.

The live stack is the real product: the trained model served by `rasa run` (REST channel), the
action server and the demo page, each on a free port, with throw-away tracker and leads
databases. `make test` trains the model before the e2e tests run.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import uuid
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from hypothesis import settings as hypothesis_settings

# Property tests check behaviour, not speed: Hypothesis's default 200 ms deadline per example
# turns a loaded machine (CI, e2e servers shutting down) into a failure. No deadline here.
hypothesis_settings.register_profile("coach", deadline=None)
hypothesis_settings.load_profile("coach")

import pytest
import yaml

# PostgreSQL fixtures (throw-away databases) for the leads and tracker-store tests.
pytest_plugins = ("postgres_fixtures", "radicale_fixtures", "backoffice_fixtures")

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "coach.tar.gz"
# The live stack keeps its conversations with the product's own tracker store class.
TRACKER_STORE_TYPE = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["tracker_store"]["type"]

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list:
    """``count`` distinct free ports: all the sockets stay bound until every port is picked."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited ({process.returncode}); log:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s; log:\n{log.read_text()[-3000:]}")


@dataclass
class LiveStack:
    rasa_url: str
    actions_url: str
    web_url: Optional[str]
    workdir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    rasa_args: list[str] = field(default_factory=list)
    rasa_env: dict[str, str] = field(default_factory=dict)

    @property
    def leads_db_url(self) -> str:
        return self.env["LEADS_DB_URL"]

    @property
    def tracker_db_url(self) -> str:
        return self.env["TRACKER_DB_URL"]

    def chat(self, sender: str, message: Any, timeout: float = 30) -> list[dict[str, Any]]:
        """One visitor message through the REST channel; the bot's messages back."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def stop_actions(self) -> None:
        _stop(self.processes.pop("actions"))

    def start_actions(self) -> None:
        port = self.actions_url.rsplit(":", 1)[1]
        process, log = _start("actions", [
            str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", port,
        ], self.env, self.workdir)
        self.processes["actions"] = process
        wait_for_http(f"{self.actions_url}/health", process, log, 120)

    def restart_rasa(self) -> None:
        """Stop the Rasa server and start it again on the same port and tracker store."""
        _stop(self.processes.pop("rasa"))
        process, log = _start("rasa", self.rasa_args, self.rasa_env, self.workdir)
        self.processes["rasa"] = process
        wait_for_http(f"{self.rasa_url}/", process, log, 300)

    def post_raw(self, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def _start(name: str, args: list[str], env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen, Path]:
    log = workdir / f"{name}.log"
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory, radicale) -> Iterator[LiveStack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it first)")
    workdir = tmp_path_factory.mktemp("live_stack")
    rasa_port, actions_port, web_port = free_ports(3)
    env = dict(os.environ)
    env.update(
        RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), WEB_PORT=str(web_port),
        SANIC_HOST="127.0.0.1",
        LEADS_DB_URL=f"sqlite:///{workdir}/leads.sqlite3",
        TRACKER_DB_URL=f"sqlite:///{workdir}/tracker.sqlite3",
        EVENTS_DB_URL=f"sqlite:///{workdir}/events.sqlite3",
        LEADS_MAIL_DIR=str(workdir / "mail"),
        RASA_PUBLIC_URL=f"http://127.0.0.1:{rasa_port}",
        ACTIONS_SECRET=secrets.token_urlsafe(32),  # only Rasa may call the actions
        **radicale.env,  # booking: a real Radicale (tests/radicale_fixtures.py)
    )
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        f'  headers:\n    X-Actions-Secret: "{env["ACTIONS_SECRET"]}"\n'
        f'tracker_store:\n  type: {TRACKER_STORE_TYPE}\n  dialect: sqlite\n  db: "{workdir}/tracker.sqlite3"\n'
        # The back office's funnel reads the event broker's own database (endpoints.yml).
        f'event_broker:\n  type: channels.event_broker.FunnelSQLEventBroker\n  dialect: sqlite\n'
        f'  db: "{workdir}/events.sqlite3"\n'
    )
    stack = LiveStack(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        web_url=None, workdir=workdir, env=env,
    )
    try:
        if (VENV_BIN / "sip-coach").exists():
            subprocess.run([str(VENV_BIN / "sip-coach"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                           capture_output=True)
        stack.start_actions()
        origins = [f"http://127.0.0.1:{web_port}", f"http://localhost:{web_port}"]
        stack.rasa_args = [
            str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(rasa_port),
            "--interface", "127.0.0.1", "--credentials", "credentials.yml",
            "--endpoints", str(endpoints), "--cors", *origins,
        ]
        # As make run: the Rasa server refuses bodies over 64 KiB (a French 413).
        stack.rasa_env = dict(env, SANIC_REQUEST_MAX_SIZE="65536")
        rasa, rasa_log = _start("rasa", stack.rasa_args, stack.rasa_env, workdir)
        stack.processes["rasa"] = rasa
        if (ROOT / "web" / "serve.py").exists():
            web, web_log = _start("web", [sys.executable, "web/serve.py"], env, workdir)
            stack.processes["web"] = web
            wait_for_http(f"http://127.0.0.1:{web_port}/", web, web_log, 30)
            stack.web_url = f"http://127.0.0.1:{web_port}"
        wait_for_http(f"{stack.rasa_url}/", rasa, rasa_log, 300)
        # Warm up: the first message loads TensorFlow graphs; no test should pay for it.
        stack.chat(f"warm-up-{uuid.uuid4()}", "bonjour", timeout=120)
        yield stack
    finally:
        for process in stack.processes.values():
            _stop(process)
