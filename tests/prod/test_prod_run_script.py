"""`scripts/run_prod.sh` (make run-prod) for real: it starts the whole profile and prints the
addresses, Ctrl-C stops every process, and after a restart of the whole stack the
conversation resumes where it was (state in PostgreSQL, nothing in the processes)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
import warnings
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge
from tests.conftest import MODEL, ROOT

from .conftest import http_request, port_open, prod_env

pytestmark = [pytest.mark.prod, pytest.mark.e2e]
K = load_knowledge()
READY = "Coach Partenariat (profil production) est prêt."


def texts(messages):
    return [m["text"] for m in messages if m.get("text")]


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RunProd:
    def __init__(self, env, workdir: Path) -> None:
        self.env, self.workdir = env, workdir
        self.process = None
        self.output = None
        self.starts = 0

    @property
    def ports(self):
        env = self.env
        return [int(env["RASA_PORT"]), int(env["ACTIONS_PORT"]), int(env["WEB_PORT"])] + [
            int(p) for p in (env["RASA_REPLICA_PORTS"] + " " + env["ACTIONS_REPLICA_PORTS"]).split()]

    def start(self, timeout: float = 420) -> str:
        self.starts += 1
        self.output = self.workdir / f"run_prod-{self.starts}.out"
        self.process = subprocess.Popen(
            ["bash", "scripts/run_prod.sh"], cwd=ROOT, env=self.env,
            stdout=self.output.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
            # As from a terminal: a shell started with SIGINT ignored (pytest run in the
            # background of a non-interactive shell, as some CI runners do) cannot trap it,
            # and Ctrl-C would never reach the script.
            preexec_fn=_interruptible,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output.read_text()
            if READY in text:
                return text
            if self.process.poll() is not None:
                raise AssertionError(f"run_prod.sh exited ({self.process.returncode}):\n{text[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"run_prod.sh not ready after {timeout} s:\n{self.output.read_text()[-3000:]}")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C: SIGINT to the script."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"run_prod.sh still running {timeout:g} s after Ctrl-C; its processes:\n"
                                 f"{self.processes()}\noutput:\n{self.output.read_text()[-1500:]}") from None

    def processes(self) -> str:
        """The script's process group: state, what each waits in, command line."""
        out = subprocess.run(["ps", "-o", "pid,ppid,stat,etime,wchan:22,args", "-g", str(self.process.pid)],
                             capture_output=True, text=True)
        return "\n".join(line[:170] for line in out.stdout.splitlines())

    def kill_group(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def chat(self, sender, message):
        import json

        response = http_request(
            f"http://127.0.0.1:{self.env['RASA_PORT']}/webhooks/rest/webhook", "POST",
            json.dumps({"sender": sender, "message": message}).encode(),
            {"Content-Type": "application/json"},
        )
        assert response.status == 200, (response.status, response.body[:300])
        return response.json()


@pytest.fixture(scope="module")
def run_prod(prod_settings, tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it first)")
    workdir = tmp_path_factory.mktemp("run_prod")
    # As `make run-prod` would: the Makefile exports the embedded profile's LEADS_DB_URL;
    # here the session's PostgreSQL leads database is given explicitly.
    runner = RunProd(prod_env(prod_settings, workdir, PUBLIC_HOST="127.0.0.1"), workdir)
    try:
        yield runner
    finally:
        if runner.process is not None and runner.process.poll() is None:
            runner.process.terminate()
            try:
                runner.process.wait(60)
            except subprocess.TimeoutExpired:
                pass
        runner.kill_group()


@pytest.fixture(scope="module")
def resumed_visitor() -> str:
    return f"restart-{uuid.uuid4()}"


def test_run_prod_starts_everything_and_ctrl_c_stops_everything(run_prod, resumed_visitor):
    started = time.monotonic()
    banner = run_prod.start()
    ready_after = time.monotonic() - started
    env = run_prod.env
    assert f"http://localhost:{env['WEB_PORT']}/" in banner
    assert f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook" in banner
    assert "API HTTP désactivée" in banner
    # The demo page calls nginx, not a replica.
    config = http_request(f"http://127.0.0.1:{env['WEB_PORT']}/config.js").body.decode()
    assert f'"rasaUrl": "http://localhost:{env["RASA_PORT"]}"' in config
    assert http_request(f"http://127.0.0.1:{env['RASA_PORT']}/health").json() == {"status": "ok"}
    # A conversation is under way when the whole stack goes down (next test: it resumes).
    assert texts(run_prod.chat(resumed_visitor, "/start_coaching")) == list(K.steps[0].messages)
    assert texts(run_prod.chat(resumed_visitor, "/continue")) == list(K.steps[1].messages)
    assert run_prod.interrupt() == 130  # Ctrl-C
    output = run_prod.output.read_text()
    assert "Arrêt des serveurs" in output
    for line in output.splitlines():  # a server that ignored SIGTERM: stopped, but say which
        if "arrêt forcé" in line:
            warnings.warn(f"run_prod.sh: {line}")
    deadline = time.monotonic() + 15  # the last ones may still be exiting
    while run_prod.group_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not run_prod.group_alive(), "a process of run_prod.sh survived Ctrl-C"
    assert [p for p in run_prod.ports if port_open(p)] == []
    print(f"\nrun_prod.sh ready after {ready_after:.0f} s")


def test_the_whole_stack_restarted_the_conversation_resumes_where_it_was(run_prod, resumed_visitor):
    if run_prod.starts != 1 or run_prod.group_alive():
        pytest.skip("needs the previous test (first start, then Ctrl-C)")
    started = time.monotonic()
    run_prod.start()
    restarted = time.monotonic() - started
    assert texts(run_prod.chat(resumed_visitor, "/continue")) == list(K.steps[2].messages)
    assert run_prod.interrupt() == 130
    print(f"\nwhole stack started again in {restarted:.0f} s, the conversation resumed")
