"""A real Radicale CalDAV server for the booking tests (never a mock for the calendar),
registered in tests/conftest.py. Started once per test session on a free port, with its own
folder; each test gets calendars of its own (``calendar_names``) so that tests never see each
other's events.
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RadicaleServer:
    url: str
    user: str
    password: str
    port: int
    process: subprocess.Popen
    folder: Path
    log: Path

    @property
    def env(self) -> dict:
        return {"CALDAV_URL": self.url, "CALDAV_USER": self.user, "CALDAV_PASSWORD": self.password}

    def wait_ready(self, timeout: float = 30) -> None:
        """Until it answers HTTP (a 401 without credentials is an answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Radicale exited ({self.process.returncode}):\n{self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"Radicale not ready after {timeout} s:\n{self.log.read_text()[-2000:]}")

    def start(self) -> None:
        if self.process.poll() is None:
            return
        self.process = _spawn(self.folder, self.port, self.log)
        self.wait_ready()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _spawn(folder: Path, port: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.booking.radicale_server", "--folder", str(folder), "--port", str(port)],
        cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def radicale(tmp_path_factory) -> Iterator[RadicaleServer]:
    from bot.booking.radicale_server import USER, prepare

    folder = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    env = prepare(folder, port)
    log = folder / "radicale.log"
    server = RadicaleServer(env["CALDAV_URL"], USER, env["CALDAV_PASSWORD"], port,
                            _spawn(folder, port, log), folder, log)
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture
def radicale_up(radicale) -> RadicaleServer:
    """The server, running (a test that stopped it to simulate an outage started it again)."""
    radicale.start()
    return radicale


@pytest.fixture
def calendar_suffix() -> str:
    return uuid.uuid4().hex[:8]
