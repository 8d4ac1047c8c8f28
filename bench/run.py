#!/usr/bin/env python
"""Benchmark Coach Partenariat against the stock `rasa init` bot, side by side, in one run.

    .venv/bin/python bench/run.py                 # full run (~20 min on 2 cores)
    .venv/bin/python bench/run.py --quick         # shorter load levels
    .venv/bin/python bench/run.py --levels 1,10   # chosen concurrency levels

Steps (bench/README.md explains each measurement):
1. baseline: the stock moodbot scaffold (what `rasa init` writes) in a temp dir, `rasa train`
   there, timed; our project (config, domain, data) copied to a temp dir and trained there with
   `--fixed-model-name`/`--out` in that dir, timed. Both start from an empty Rasa cache.
   models/coach.tar.gz is never touched.
2. servers: stock `rasa run`; ours: action server + `rasa run` with credentials.yml (our REST
   channel) and a temp endpoints file (temp SQLite tracker store and leads DB), as
   tests/conftest.py does. Start time = process start -> first non-empty REST reply. Peak RSS
   from /proc (VmHWM and a 4 Hz sample of the process tree).
3. simulated visitors (bench/load.py) at each concurrency level, ours and stock in turn.
4. py-spy profile of both servers under the highest level when a target is missed (or --profile).
5. bench/results.md (+ bench/results.json, raw logs in bench/out/).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))

try:
    import aiohttp  # noqa: F401  (the visitors' client)
except ImportError:  # pragma: no cover
    sys.exit("bench/run.py needs the project's venv: .venv/bin/python bench/run.py")

import load  # noqa: E402
import procs  # noqa: E402
import profiling  # noqa: E402
import report  # noqa: E402

VENV_BIN = Path(sys.executable).parent
RASA = str(VENV_BIN / "rasa")
PROJECT_MODEL = ROOT / "models" / "coach.tar.gz"
# Bench-only changes a run can apply to the servers (never to the project): name -> PYTHONPATH dir.
EXPERIMENTS = ("cached-validator", "sqlite-wal")  # bench/experiments/, via its sitecustomize


def our_tracker_store_type() -> str:
    """The tracker store class the product's endpoints.yml names (ours runs as `make run` does)."""
    import yaml

    return yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["tracker_store"]["type"]


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1")
    env.pop("RASA_CACHE_DIRECTORY", None)
    return env


# --- Machine ---------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_total = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    rasa_version = subprocess.run([sys.executable, "-c", "import rasa; print(rasa.__version__)"],
                                  capture_output=True, text=True).stdout.strip()
    busy = subprocess.run(["ps", "-eo", "pcpu,rss,args", "--sort=-pcpu", "--no-headers"],
                          capture_output=True, text=True).stdout.splitlines()[:6]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rasa": rasa_version,
        "aiohttp": aiohttp.__version__,
        "loadavg_start": procs.loadavg(),
        "busiest_processes_at_start": [" ".join(b.split())[:140] for b in busy],
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def file_info(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    st = path.stat()
    return {"path": str(path), "sha256_12": h.hexdigest()[:12], "size_mib": round(st.st_size / 2**20, 1),
            "mtime": datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds")}


# --- Training --------------------------------------------------------------------------------
def scaffold_stock(stock_dir: Path, env: dict[str, str]) -> None:
    """The files `rasa init --no-prompt` writes (its own `create_initial_project`), without the
    training `rasa init` would run next: the training is done (and timed) by `rasa train`."""
    code = "import sys; from rasa.cli.scaffold import create_initial_project as c; c(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(stock_dir)], env=env, check=True,
                   capture_output=True, timeout=300)


def copy_project(dest: Path) -> None:
    dest.mkdir(parents=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "data", dest / "data")


def train(name: str, project: Path, model_name: str, env: dict[str, str], logs: Path) -> dict[str, Any]:
    env = dict(env, RASA_CACHE_DIRECTORY=str(project / ".rasa" / "cache"))  # cold cache
    args = [RASA, "train", "--fixed-model-name", model_name, "--out", str(project / "models-bench")]
    log(f"training {name}: {' '.join(args)} (cwd {project})")
    result = procs.timed_run(args, project, env, logs / f"train-{name}.log", timeout=40 * 60)
    result["cwd"] = str(project)
    model = project / "models-bench" / f"{model_name}.tar.gz"
    result["model"] = str(model) if model.exists() else None
    log(f"training {name}: {result['wall_s']} s, exit {result['exit_code']}")
    if result["exit_code"] != 0 or not model.exists():
        raise RuntimeError(f"training {name} failed: see {result['log']}")
    return result


# --- Serving ---------------------------------------------------------------------------------
def post_json(url: str, body: dict[str, Any], timeout: float) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None


def wait_first_reply(server: procs.Server, webhook: str, message: str, timeout: float) -> dict[str, Any]:
    """Process start -> first HTTP answer (port open) and -> first non-empty 2xx REST reply."""
    deadline = server.t0 + timeout
    first_http: Optional[float] = None
    while time.perf_counter() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{server.tail()}")
        try:
            status, body = post_json(webhook, {"sender": f"bench-start-probe-{uuid.uuid4()}", "message": message},
                                     timeout=max(1.0, deadline - time.perf_counter()))
            now = time.perf_counter()
            first_http = first_http or now
            if 200 <= status < 300 and isinstance(body, list) and body:
                return {"port_open_s": round(first_http - server.t0, 1),
                        "first_reply_s": round(now - server.t0, 1)}
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{server.name}: no REST reply after {timeout} s:\n{server.tail()}")


def wait_http(server: procs.Server, url: str, timeout: float) -> float:
    deadline = server.t0 + timeout
    while time.perf_counter() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{server.tail()}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return round(time.perf_counter() - server.t0, 1)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.25)
    raise RuntimeError(f"{server.name}: {url} not ready after {timeout} s:\n{server.tail()}")


class Bot:
    """One bot under test: its Rasa server (and action server), URL, conversations."""

    def __init__(self, name: str, conversations: list[list[str]], apology: frozenset[str]):
        self.name = name
        self.conversations = conversations
        self.apology = apology
        self.rasa: Optional[procs.Server] = None
        self.actions: Optional[procs.Server] = None
        self.webhook = ""
        self.start: dict[str, Any] = {}
        self.warmup: dict[str, Any] = {}
        self.tracker_db: Optional[Path] = None

    def servers(self) -> list[procs.Server]:
        return [s for s in (self.rasa, self.actions) if s]

    def stop(self) -> None:
        for s in self.servers():
            s.stop()


def start_stock(stock_dir: Path, model: Path, env: dict[str, str], logs: Path) -> Bot:
    bot = Bot("stock", load.STOCK_CONVERSATIONS, frozenset())
    port = procs.free_port()
    la0 = procs.loadavg()
    log(f"starting stock rasa server on 127.0.0.1:{port}")
    bot.rasa = procs.Server("stock rasa server", [
        RASA, "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1",
        "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
    ], stock_dir, env, logs / "serve-stock-rasa.log")
    bot.webhook = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    bot.start = wait_first_reply(bot.rasa, bot.webhook, "hello", timeout=600)
    bot.start.update(loadavg_start=la0, loadavg_end=procs.loadavg(), command=bot.rasa.command,
                     rss_after_first_reply_mib=bot.rasa.memory()["vmrss_tree_mib"],
                     tracker_store="InMemoryTrackerStore (stock endpoints.yml)")
    log(f"stock ready: {bot.start}")
    return bot


def start_ours(workdir: Path, model: Path, env: dict[str, str], logs: Path) -> Bot:
    from bot.knowledge import load_knowledge  # the apology the REST channel sends on action errors

    apology = frozenset(load_knowledge().line("action_error"))
    bot = Bot("ours", load.OUR_CONVERSATIONS, apology)
    stack = workdir / "ours-stack"
    stack.mkdir()
    rasa_port, actions_port, web_port = procs.free_port(), procs.free_port(), procs.free_port()
    env = dict(env)
    env.update(
        RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), WEB_PORT=str(web_port),
        SANIC_HOST="127.0.0.1",
        LEADS_DB_URL=f"sqlite:///{stack}/leads.sqlite3",
        TRACKER_DB_URL=f"sqlite:///{stack}/tracker.sqlite3",
        LEADS_MAIL_DIR=str(stack / "mail"),
        RASA_PUBLIC_URL=f"http://127.0.0.1:{rasa_port}",
        ACTIONS_SECRET=secrets.token_urlsafe(32),  # only Rasa may call the actions
    )
    endpoints = stack / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        f'  headers:\n    X-Actions-Secret: "{env["ACTIONS_SECRET"]}"\n'
        f'tracker_store:\n  type: {our_tracker_store_type()}\n  dialect: sqlite\n  db: "{stack}/tracker.sqlite3"\n'
    )
    sip = VENV_BIN / "sip-coach"
    if sip.exists():
        subprocess.run([str(sip), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=120)
    la0 = procs.loadavg()
    log(f"starting our action server on 127.0.0.1:{actions_port}")
    bot.actions = procs.Server("our action server", [
        RASA, "run", "actions", "--actions", "actions", "--port", str(actions_port),
    ], ROOT, env, logs / "serve-ours-actions.log")
    actions_ready = wait_http(bot.actions, f"http://127.0.0.1:{actions_port}/health", 300)
    log(f"starting our rasa server on 127.0.0.1:{rasa_port}")
    origins = [f"http://127.0.0.1:{web_port}", f"http://localhost:{web_port}"]
    bot.rasa = procs.Server("our rasa server", [
        RASA, "run", "--model", str(model), "--port", str(rasa_port), "--interface", "127.0.0.1",
        "--credentials", "credentials.yml", "--endpoints", str(endpoints), "--cors", *origins,
    ], ROOT, env, logs / "serve-ours-rasa.log")
    bot.webhook = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    bot.tracker_db = stack / "tracker.sqlite3"
    bot.start = wait_first_reply(bot.rasa, bot.webhook, "Bonjour", timeout=600)
    bot.start.update(actions_health_s=actions_ready, loadavg_start=la0, loadavg_end=procs.loadavg(),
                     rss_after_first_reply_mib=bot.rasa.memory()["vmrss_tree_mib"],
                     actions_rss_after_first_reply_mib=bot.actions.memory()["vmrss_tree_mib"],
                     command=bot.rasa.command, actions_command=bot.actions.command,
                     endpoints=endpoints.read_text(),
                     tracker_store=f"{our_tracker_store_type().rsplit('.', 1)[-1]} on SQLite (temp file)")
    log(f"ours ready: {bot.start}")
    return bot


class Child:
    """A server that another process started (a replica `scripts/run_prod.sh` supervises)."""

    def __init__(self, name: str, pid: int, log: Path):
        self.name, self.pid, self.log = name, pid, log
        self.sampler = procs.RssSampler(pid)
        self.sampler.start()

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists()

    cpu_seconds = procs.Server.cpu_seconds
    memory = procs.Server.memory
    tail = procs.Server.tail

    def stop(self) -> None:  # its supervisor stops it
        self.sampler.stop()


def listening_child(root_pid: int, port: int, name: str, log: Path, timeout: float = 600) -> Child:
    """The process of root_pid's tree whose command line asks for `--port <port>`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in procs.process_tree(root_pid):
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in args and str(port).encode() in args and any(a.endswith(b"rasa") for a in args):
                return Child(name, pid, log)
        time.sleep(0.5)
    raise RuntimeError(f"{name}: no process listening on {port} under {root_pid}")


class ProductionBot(Bot):
    """Our production profile as `make run-prod` starts it: nginx in front of 2 Rasa replicas and
    2 action servers, conversations in PostgreSQL, locks in Redis (throw-away databases)."""

    def __init__(self, apology: frozenset[str]):
        super().__init__("ours-prod", load.OUR_CONVERSATIONS, apology)
        self.supervisor: Optional[procs.Server] = None
        self.members: list[Child] = []
        self.cleanup: list[Any] = []

    def servers(self) -> list[Any]:
        return list(self.members)

    def stop(self) -> None:
        for member in self.members:
            member.stop()
        if self.supervisor:
            self.supervisor.stop()  # SIGTERM: run_prod.sh stops everything it started
        while self.cleanup:
            self.cleanup.pop()()


def start_ours_production(model: Path, env: dict[str, str], logs: Path) -> ProductionBot:
    import uuid

    import redis
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from bot.knowledge import load_knowledge

    bot = ProductionBot(frozenset(load_knowledge().line("action_error")))
    admin_url = make_url(os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"))
    token = uuid.uuid4().hex[:10]
    tracker_db, leads_db = f"coach_bench_{token}", f"coach_bench_{token}_leads"
    admin = sa.create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in (tracker_db, leads_db):
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop_databases() -> None:
        with admin.connect() as connection:
            for name in (tracker_db, leads_db):
                connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                           "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    bot.cleanup.append(drop_databases)
    redis_host, redis_port = os.environ.get("BENCH_REDIS_HOST", "127.0.0.1"), int(os.environ.get("BENCH_REDIS_PORT", "6379"))
    prefix = f"coachbench{token}"

    def clear_locks() -> None:
        client = redis.Redis(host=redis_host, port=redis_port, db=1)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)

    bot.cleanup.append(clear_locks)
    public, actions, web = procs.free_port(), procs.free_port(), procs.free_port()
    replicas, action_servers = [procs.free_port(), procs.free_port()], [procs.free_port(), procs.free_port()]
    env = dict(env)
    env.pop("TRACKER_DB_URL", None)
    env.update(
        COACH_MODEL=str(model), PROD_LOG_DIR=str(logs / "prod"), PUBLIC_HOST="127.0.0.1",
        RASA_PORT=str(public), ACTIONS_PORT=str(actions), WEB_PORT=str(web),
        RASA_REPLICA_PORTS=" ".join(map(str, replicas)), ACTIONS_REPLICA_PORTS=" ".join(map(str, action_servers)),
        TRACKER_DB_HOST=admin_url.host or "127.0.0.1", TRACKER_DB_PORT=str(admin_url.port or 5432),
        TRACKER_DB_NAME=tracker_db, TRACKER_DB_USER=admin_url.username or "",
        TRACKER_DB_PASSWORD=admin_url.password or "", LEADS_DB_NAME=leads_db, LEADS_DB_URL="",
        REDIS_HOST=redis_host, REDIS_PORT=str(redis_port), REDIS_DB="1", REDIS_KEY_PREFIX=prefix,
        LEADS_SPOOL_DIR=str(logs / "prod-spool"),
        # The visitors all come from 127.0.0.1: nginx's per-address limit would turn them away.
        NGINX_RATE_LIMIT="10000r/s", NGINX_RATE_BURST="10000",
    )
    try:
        return _start_production_stack(bot, env, logs, public, replicas, action_servers)
    except BaseException:
        bot.stop()  # the databases and locks go too
        raise


def _start_production_stack(bot: ProductionBot, env: dict[str, str], logs: Path, public: int,
                            replicas: list[int], action_servers: list[int]) -> ProductionBot:
    la0 = procs.loadavg()
    log(f"starting our production profile: nginx on 127.0.0.1:{public}, Rasa replicas {replicas}")
    bot.supervisor = procs.Server("production profile (scripts/run_prod.sh)", ["bash", "scripts/run_prod.sh"],
                                  ROOT, env, logs / "serve-ours-prod.log")
    bot.webhook = f"http://127.0.0.1:{public}/webhooks/rest/webhook"
    bot.start = wait_first_reply(bot.supervisor, bot.webhook, "Bonjour", timeout=900)
    for i, port in enumerate(replicas, 1):
        bot.members.append(listening_child(bot.supervisor.pid, port, f"our rasa replica {i}", logs / "prod" / f"rasa-{i}.log"))
    for i, port in enumerate(action_servers, 1):
        bot.members.append(listening_child(bot.supervisor.pid, port, f"our action server {i}", logs / "prod" / f"actions-{i}.log"))
    bot.start.update(loadavg_start=la0, loadavg_end=procs.loadavg(), command="scripts/run_prod.sh",
                     rss_after_first_reply_mib=max(m.memory()["vmrss_tree_mib"] for m in bot.members[:2]),
                     tracker_store=f"{our_tracker_store_type().rsplit('.', 1)[-1]} on PostgreSQL, Redis lock store, "
                                   "2 replicas behind nginx")
    log(f"production profile ready: {bot.start}")
    return bot


def warm_up(bot: Bot) -> dict[str, Any]:
    """Each conversation once, in order, not measured: loads lazy graphs, checks the replies."""
    problems = []
    transcript = []
    for i, script in enumerate(bot.conversations):
        replies = asyncio.run(load.one_conversation(bot.webhook, script, f"bench-warmup-{bot.name}-{i}"))
        for text, (status, body) in zip(script, replies):
            problem = (f"HTTP {status}" if not 200 <= (status or 0) < 300
                       else load.reply_problem(body, bot.apology))
            said = [m.get("text") or ("buttons" if m.get("buttons") else m.get("custom") and "custom")
                    for m in (body or []) if isinstance(m, dict)]
            transcript.append({"conversation": i, "visitor": text, "status": status, "bot": said,
                               "problem": problem})
            if problem:
                problems.append(f"conversation {i}, {text!r}: {problem}")
    return {"messages": len(transcript), "problems": problems, "transcript": transcript}


# --- Load levels -----------------------------------------------------------------------------
def run_level(bot: Bot, visitors: int, duration: float, max_conv: Optional[int], think: tuple[float, float],
              seed: int, samples_csv: Optional[Path] = None) -> dict[str, Any]:
    la0 = procs.loadavg()
    cpu0 = {s.name: s.cpu_seconds() for s in bot.servers()}
    result = asyncio.run(load.run_level(
        bot=bot.name, url=bot.webhook, conversations=bot.conversations, visitors=visitors,
        duration=duration, max_conversations=max_conv, think=think, apology_texts=bot.apology, seed=seed,
    ))
    summary = result.summary()
    if samples_csv:
        with samples_csv.open("w") as f:
            f.write("start_s,latency_ms,ok,error\n")
            for smp in result.samples:
                f.write(f"{smp.start:.3f},{smp.latency * 1000:.1f},{int(smp.ok)},{smp.error or ''}\n")
    summary["loadavg_start"], summary["loadavg_end"] = la0, procs.loadavg()
    summary["server_cpu_s"] = {s.name: round(s.cpu_seconds() - cpu0[s.name], 2) for s in bot.servers()}
    total_cpu = sum(summary["server_cpu_s"].values())
    summary["server_cpu_ms_per_request"] = round(1000 * total_cpu / summary["requests"], 1) if summary["requests"] else None
    summary["error_samples"] = sorted({s.error for s in result.samples if not s.ok})[:5]
    return summary


def profile_bot(bot: Bot, visitors: int, duration: int, think: tuple[float, float], py_spy: Path,
                outdir: Path) -> dict[str, Any]:
    recordings = {}
    for server in bot.servers():
        raw = outdir / f"profile-{bot.name}-{'actions' if 'action' in server.name else 'rasa'}.raw"
        recordings[server.name] = (raw, profiling.start_recording(py_spy, server.pid, raw, duration + 2))
    time.sleep(1)  # py-spy attached
    level = run_level(bot, visitors, duration, None, think, seed=7)
    out: dict[str, Any] = {"visitors": visitors, "duration_s": duration, "level": level, "servers": {}}
    for name, (raw, proc) in recordings.items():
        try:
            stdout, _ = proc.communicate(timeout=duration + 60)
        except subprocess.TimeoutExpired:
            procs.stop(proc)
            stdout = "py-spy timed out"
        summary = profiling.summarise(raw, ROOT)
        summary["raw"] = str(raw)
        summary["py_spy_output"] = (stdout or "").strip()[-300:]
        out["servers"][name] = summary
    return out


def tracker_stats(db: Path) -> dict[str, Any]:
    """Remote action calls per visitor message, from our tracker store after the run.

    Custom actions are logged as action events; a form (Rasa-side) turn is logged once but calls
    the action server for `validate_<form>` and for the next `action_ask_<slot>`: counted as 2,
    an estimate (activation and completion turns differ slightly)."""
    import sqlite3

    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    custom = {a if isinstance(a, str) else next(iter(a)) for a in domain.get("actions", [])}
    forms = set((domain.get("forms") or {}).keys())
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("select type_name, action_name, count(*) from events "
                            "where sender_id like 'bench-%' group by 1, 2").fetchall()
    users = sum(n for t, _, n in rows if t == "user")
    actions = sum(n for t, a, n in rows if t == "action" and a in custom)
    form_turns = sum(n for t, a, n in rows if t == "action" and a in forms)
    calls = actions + 2 * form_turns
    return {"user_messages": users, "custom_action_events": actions, "form_turns": form_turns,
            "estimated_remote_calls": calls,
            "estimated_remote_calls_per_message": round(calls / users, 2) if users else None}


def run_micro(logs: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(BENCH / "micro.py")], capture_output=True, text=True,
                          timeout=900, env=base_env(), cwd=ROOT)
    (logs / "micro.log").write_text(proc.stderr[-20000:])
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"micro.py exit {proc.returncode}, see {logs / 'micro.log'}"}


# --- Main ------------------------------------------------------------------------------------
def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short load levels (12 s each) and a short profile")
    p.add_argument("--levels", default="1,10,50", help="concurrent visitors, comma-separated (default 1,10,50)")
    p.add_argument("--duration", type=float, help="seconds of load per level and bot (default 60, quick 12)")
    p.add_argument("--max-conversations", type=int, help="stop each visitor after this many conversations")
    p.add_argument("--think", default="3,8",
                   help="visitor think time range in seconds: reading a two- or three-sentence reply, then "
                        "typing or clicking (default 3,8); 0.2,0.5 measures saturation instead")
    p.add_argument("--single-visitor-think", default="0.2,0.5",
                   help="think time of the 1-visitor level: the server is idle between two messages "
                        "either way, a short pause only gives more samples (default 0.2,0.5)")
    p.add_argument("--model", type=Path, default=PROJECT_MODEL,
                   help="our model to serve (default models/coach.tar.gz, copied first)")
    p.add_argument("--serve-trained", action="store_true",
                   help="serve the model this run just trained instead of models/coach.tar.gz")
    p.add_argument("--production-profile", action="store_true",
                   help="also run every level against our production profile (scripts/run_prod.sh: nginx, "
                        "2 Rasa replicas, 2 action servers, PostgreSQL, Redis on localhost)")
    p.add_argument("--skip-our-training", action="store_true", help="do not train (and time) our project")
    p.add_argument("--stock-project", type=Path,
                   help="reuse a scaffolded and trained stock project (its models-bench/stock.tar.gz): no stock training")
    p.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                   help="py-spy profile under the highest level: when a target is missed (auto), always, never")
    p.add_argument("--profile-duration", type=int, help="seconds of profiled load per bot (default 20, quick 10)")
    p.add_argument("--no-install", action="store_true", help="never pip-install py-spy (into bench/out/tools)")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for every server of both bots (an experiment, e.g. MALLOC_ARENA_MAX=2)")
    p.add_argument("--experiment", choices=sorted(EXPERIMENTS), action="append", default=[],
                   help="serve both bots with a bench-only change (bench/experiments/), to measure a proposed fix")
    p.add_argument("--keep-workdir", action="store_true", help="keep the temp dir (trained stock bot, logs)")
    p.add_argument("--results", type=Path, default=BENCH / "results.md", help="where to write the report")
    p.add_argument("--report-only", type=Path, metavar="RESULTS_JSON",
                   help="only re-render the report from a results JSON")
    args = p.parse_args(argv)
    args.level_list = [int(x) for x in args.levels.split(",") if x.strip()]
    args.think_range = tuple(float(x) for x in args.think.split(","))
    args.single_think_range = tuple(float(x) for x in args.single_visitor_think.split(","))
    if args.duration is None:
        args.duration = 12.0 if args.quick else 60.0
    if args.profile_duration is None:
        args.profile_duration = 10 if args.quick else 20
    return args


def is_main_report(path: Path) -> bool:
    """bench/analysis.md reads the main run: it is appended to bench/results.md only."""
    return path.resolve() == (BENCH / "results.md").resolve()


def command_line(argv: list[str]) -> str:
    return " ".join([".venv/bin/python", "bench/run.py", *argv])


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.report_only:
        data = json.loads(args.report_only.read_text())
        for run in ((data.get("profile") or {}).get("runs") or {}).values():
            for name, summary in run["servers"].items():  # raw stacks still there: summarise again
                raw = Path(summary.get("raw", ""))
                if raw.is_file():
                    run["servers"][name] = dict(profiling.summarise(raw, ROOT), raw=str(raw),
                                                py_spy_output=summary.get("py_spy_output", ""))
        data["targets"] = report.targets(data)
        args.results.with_suffix(".json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
        args.results.write_text(report.render(data, with_analysis=is_main_report(args.results)))
        log(f"wrote {args.results}")
        return 0

    def on_term(signum, frame):  # noqa: ARG001
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = OUT / f"run-{stamp}"
    logs.mkdir(parents=True)
    workdir = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    env = base_env()
    server_env = dict(env, **dict(kv.split("=", 1) for kv in args.server_env))
    if args.experiment:
        server_env["BENCH_EXPERIMENTS"] = ",".join(args.experiment)
        server_env["PYTHONPATH"] = os.pathsep.join(
            [str(BENCH / "experiments")] + [p for p in [env.get("PYTHONPATH")] if p])
    t_start = time.perf_counter()
    data: dict[str, Any] = {
        "command": command_line(argv),
        "machine": machine(),
        "settings": {"levels": args.level_list, "duration_s": args.duration, "think_s": args.think_range,
                     "single_visitor_think_s": args.single_think_range,
                     "max_conversations": args.max_conversations, "quick": args.quick,
                     "server_env": args.server_env, "experiments": args.experiment,
                     "request_timeout_s": 30, "workdir": str(workdir), "logs": str(logs)},
        "production_profile": args.production_profile,
        "training": {}, "start": {}, "levels": [], "memory": {}, "warmup": {}, "profile": None, "notes": [],
    }
    log(f"bench: workdir {workdir}, logs {logs}, load average {data['machine']['loadavg_start']}")
    bots: list[Bot] = []
    try:
        if not args.model.exists() and not (args.serve_trained and not args.skip_our_training):
            raise SystemExit(f"{args.model} is missing: run `make train` first (the benchmark does not train "
                             f"the project's model)")
        # 1. Training, stock then ours, each from an empty cache.
        if args.stock_project:
            stock_dir = args.stock_project.resolve()
            stock_model = stock_dir / "models-bench" / "stock.tar.gz"
            data["notes"].append(f"stock training not measured: reused {stock_dir}")
        else:
            stock_dir = workdir / "stock"
            scaffold_stock(stock_dir, env)
            data["training"]["stock"] = train("stock", stock_dir, "stock", env, logs)
            stock_model = Path(data["training"]["stock"]["model"])
        our_model_trained = None
        if not args.skip_our_training:
            copy_project(workdir / "coach")
            data["training"]["ours"] = train("ours", workdir / "coach", "coach-bench", env, logs)
            our_model_trained = Path(data["training"]["ours"]["model"])
        else:
            data["notes"].append("our training not measured (--skip-our-training)")
        if args.serve_trained and our_model_trained:
            our_model = our_model_trained
        else:
            our_model = workdir / "coach-served.tar.gz"
            shutil.copy2(args.model, our_model)  # a snapshot: a retrain elsewhere cannot swap it mid-run
        data["served_model"] = file_info(args.model if our_model.name == "coach-served.tar.gz" else our_model)

        # 2. Servers, one after the other (start times are not measured against each other).
        stock = start_stock(stock_dir, stock_model, server_env, logs)
        bots.append(stock)
        data["start"]["stock"] = stock.start
        ours = start_ours(workdir, our_model, server_env, logs)
        bots.append(ours)
        data["start"]["ours"] = ours.start
        if args.production_profile:
            prod = start_ours_production(our_model, server_env, logs)
            bots.append(prod)
            data["start"]["ours-prod"] = prod.start
        for bot in bots:
            log(f"warm-up {bot.name}")
            data["warmup"][bot.name] = warm_up(bot)
            if data["warmup"][bot.name]["problems"]:
                log(f"warm-up problems for {bot.name}: {data['warmup'][bot.name]['problems']}")

        # 3. Load levels: ours and stock in turn, the order alternating from one level to the next.
        for i, visitors in enumerate(args.level_list):
            runners = [ours, stock] + [b for b in bots if b.name == "ours-prod"]
            order = runners[i % len(runners):] + runners[:i % len(runners)]  # who goes first rotates
            think = args.single_think_range if visitors == 1 else args.think_range
            for bot in order:
                log(f"level {visitors} visitors, {bot.name}: {args.duration:g} s, think {think[0]:g}-{think[1]:g} s")
                summary = run_level(bot, visitors, args.duration, args.max_conversations, think,
                                    seed=1000 + visitors, samples_csv=logs / f"samples-{bot.name}-{visitors}.csv")
                summary["think_s"] = list(think)
                data["levels"].append(summary)
                log(f"  p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, p99 {summary['p99_ms']} ms, "
                    f"{summary['throughput_rps']} req/s, {summary['requests']} requests, "
                    f"{summary['errors']} errors, load {summary['loadavg_end']}")
                for s in bot.servers():
                    if not s.alive():
                        raise RuntimeError(f"{s.name} died during the load:\n{s.tail()}")
                time.sleep(2)

        # 4. Targets; profile when one is missed.
        for bot in bots:
            data["memory"][bot.name] = {s.name: s.memory() for s in bot.servers()}
        targets = report.targets(data)
        missed = [t for t in targets if t["status"] == "missed"]
        if args.profile == "always" or (args.profile == "auto" and missed):
            py_spy, how = profiling.find_py_spy(OUT / "tools", install=not args.no_install)
            data["profile"] = {"tool": how, "pin": profiling.PY_SPY_PIN, "runs": {}}
            if py_spy:
                visitors = max(args.level_list)
                for bot in (ours, stock):
                    log(f"profiling {bot.name} under {visitors} visitors for {args.profile_duration} s")
                    data["profile"]["runs"][bot.name] = profile_bot(bot, visitors, args.profile_duration,
                                                                   args.think_range, py_spy, logs)
            else:
                log(how)
        for bot in bots:  # memory again: the profiled runs count too
            data["memory"][bot.name] = {s.name: s.memory() for s in bot.servers()}
        if ours.tracker_db and ours.tracker_db.exists():
            data["tracker_stats"] = tracker_stats(ours.tracker_db)
        for bot in bots:
            bot.stop()
        if data["profile"] is not None:
            log("isolated costs (bench/micro.py), servers stopped")
            data["micro"] = run_micro(logs)
    finally:
        for bot in bots:
            bot.stop()
        procs.stop_all()
        data["machine"]["loadavg_end"] = procs.loadavg()
        data["total_wall_s"] = round(time.perf_counter() - t_start, 1)
        (logs / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir}")
    data["targets"] = report.targets(data)
    public = {k: v for k, v in data.items()}
    public["warmup"] = {k: {"messages": v["messages"], "problems": v["problems"]} for k, v in data["warmup"].items()}
    args.results.with_suffix(".json").write_text(json.dumps(public, indent=2, ensure_ascii=False))
    (logs / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    args.results.write_text(report.render(public, with_analysis=is_main_report(args.results)))
    log(f"done in {data['total_wall_s']} s: {args.results}")
    for t in data["targets"]:
        log(f"target {t['name']}: {t['status']} ({t['measured']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
