"""Does a message cost more as the conversation grows? (issue 13, item 8)

Two stacks of the same project, same model, same machine, one after the other in one run:
- **whole session** (`TRACKER_ROLLOVER_EVENTS=0`): Rasa's behaviour, every message reads,
  replays, sends to the action server and featurises every event since the session began;
- **rolled over** (the default, channels/tracker_store.py): past 100 events the tracker store
  writes a new session carrying the conversation on, so a message reads a bounded session.

For each: one visitor talks without pause for `--turns` messages (a cycle of questions,
guided steps and small talk); reply latency is recorded per turn and reported as the median
of windows of turns (5, 100, 500, 2,000...). Then a fresh visitor's median reply time, alone,
and while the long conversation keeps going next to it.

    .venv/bin/python bench/long_conversation.py [--turns 2000] [--baseline-turns 500]

Writes bench/long_conversation.md and .json (summarised in bench/results.md, « Long
conversations »). Latency targets are checked here, never in the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procs  # noqa: E402  (bench/procs.py)

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "coach.tar.gz"
OUT = ROOT / "bench" / "out"

# What a talkative visitor writes: questions on the text, guided steps, small talk. None of
# them starts a form (a form would wait for an answer and change the cost being measured).
PACED_THINK = 0.25

CYCLE = [
    "c'est quoi un partenariat ?",
    "la suite",
    "quels sont les quatre piliers ?",
    "et le pilotage ?",
    "d'accord",
    "pourquoi faire un partenariat ?",
    "merci",
    "c'est quoi la différence entre un client et un partenaire ?",
]


def post(url: str, sender: str, message: str, timeout: float = 60) -> float:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        replies = json.loads(answer.read())
    elapsed = time.perf_counter() - started
    if not replies:
        raise RuntimeError(f"no reply to {message!r}")
    return elapsed


class Stack:
    def __init__(self, name: str, rollover_events: int, workdir: Path) -> None:
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        rasa_port, actions_port = procs.free_port(), procs.free_port()
        secret = secrets.token_urlsafe(32)
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore",
            SQLALCHEMY_SILENCE_UBER_WARNING="1", SANIC_HOST="127.0.0.1",
            ACTIONS_PORT=str(actions_port), ACTIONS_SECRET=secret,
            LEADS_DB_URL=f"sqlite:///{workdir}/leads.sqlite3",
            TRACKER_DB_URL=f"sqlite:///{workdir}/tracker.sqlite3",
            LEADS_MAIL_DIR=str(workdir / "mail"),
            TRACKER_ROLLOVER_EVENTS=str(rollover_events),
            CONVERSATION_MAX_TURNS="1000000",  # the benchmark measures past the turn limit
        )
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            f'  headers:\n    X-Actions-Secret: "{secret}"\n'
            f'tracker_store:\n  type: channels.tracker_store.LeanSQLTrackerStore\n'
            f'  dialect: sqlite\n  db: "{workdir}/tracker.sqlite3"\n'
        )
        import subprocess

        subprocess.run([str(VENV_BIN / "sip-coach"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        self.actions = procs.Server(f"{name} actions", [
            str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port),
        ], ROOT, env, workdir / "actions.log")
        self.rasa = procs.Server(f"{name} rasa", [
            str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(rasa_port),
            "--interface", "127.0.0.1", "--credentials", "credentials.yml", "--endpoints", str(endpoints),
        ], ROOT, dict(env, SANIC_REQUEST_MAX_SIZE="65536"), workdir / "rasa.log")
        self.webhook = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        deadline = time.monotonic() + 600
        while True:
            try:
                post(self.webhook, str(uuid.uuid4()), "bonjour", timeout=120)
                break
            except Exception:
                if time.monotonic() > deadline or not (self.rasa.alive() and self.actions.alive()):
                    raise RuntimeError(f"{name}: the stack did not start:\n{self.rasa.tail()}\n{self.actions.tail()}")
                time.sleep(1)
        for _ in range(20):  # warm caches
            post(self.webhook, str(uuid.uuid4()), "c'est quoi un partenariat ?")

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()


def long_conversation(stack: Stack, turns: int, sender: str, stop: Optional[threading.Event] = None,
                      think: float = 0.0) -> list[float]:
    latencies = []
    for index in range(turns):
        if stop is not None and stop.is_set():
            break
        latencies.append(post(stack.webhook, sender, CYCLE[index % len(CYCLE)]))
        if think and stop is not None:
            stop.wait(think)
    return latencies


def fresh_visitors(stack: Stack, messages: int) -> list[float]:
    """`messages` replies to fresh visitors (5 messages each)."""
    latencies = []
    while len(latencies) < messages:
        sender = str(uuid.uuid4())
        for text in CYCLE[:5]:
            latencies.append(post(stack.webhook, sender, text))
    return latencies[:messages]


def window_median(latencies: list[float], turn: int, half_width: int = 10) -> Optional[float]:
    """Median latency of the turns around `turn` (1-based)."""
    low, high = max(0, turn - half_width - 1), min(len(latencies), turn + half_width)
    if low >= high:
        return None
    return round(statistics.median(latencies[low:high]) * 1000, 1)


def measure(stack: Stack, turns: int, checkpoints: list[int], fresh_messages: int) -> dict[str, Any]:
    long_sender = str(uuid.uuid4())
    latencies = long_conversation(stack, turns, long_sender)
    at = {str(t): window_median(latencies, t) for t in checkpoints if t <= turns}
    alone = fresh_visitors(stack, fresh_messages)
    beside = {}
    # The long conversation goes on while fresh visitors talk: at a fast visitor's pace (a
    # message every quarter of a second), then without any pause (a script).
    for label, think in (("paced", PACED_THINK), ("no_pause", 0.0)):
        stop = threading.Event()
        background: list[float] = []
        thread = threading.Thread(target=lambda: background.extend(
            long_conversation(stack, 10 ** 6, long_sender, stop, think)), daemon=True)
        thread.start()
        fresh = fresh_visitors(stack, fresh_messages)
        stop.set()
        thread.join(120)
        beside[label] = {"fresh_p50_ms": round(statistics.median(fresh) * 1000, 1),
                         "long_p50_ms": round(statistics.median(background) * 1000, 1) if background else None,
                         "long_messages": len(background)}
        turns += len(background)
    return {
        "turns": turns,
        "p50_ms_at_turn": at,
        "fresh_p50_ms_alone": round(statistics.median(alone) * 1000, 1),
        "beside_long": beside,
    }


def report(results: dict[str, Any]) -> str:
    whole, rolled = results["whole_session"], results["rolled_over"]
    turns = sorted({int(t) for r in (whole, rolled) for t in r["p50_ms_at_turn"]})
    lines = [
        "| Reply p50 (ms) at turn | " + " | ".join(str(t) for t in turns) + " |",
        "| --- | " + " | ".join("---:" for _ in turns) + " |",
    ]
    for label, r in (("whole session (Rasa's default)", whole), ("rolled over (ours)", rolled)):
        cells = [r["p50_ms_at_turn"].get(str(t)) for t in turns]
        lines.append(f"| {label} | " + " | ".join("—" if c is None else f"{c:g}" for c in cells) + " |")
    lines += [
        "",
        "| Fresh visitor, reply p50 (ms) | alone | beside the long one, paced (ratio) | beside the long one, no pause (ratio) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, r in ((f"whole session (long one past {r_turns(whole)} turns)", whole),
                     (f"rolled over (long one past {r_turns(rolled)} turns)", rolled)):
        alone = r["fresh_p50_ms_alone"]
        cells = [f"{r['beside_long'][k]['fresh_p50_ms']:g} ({r['beside_long'][k]['fresh_p50_ms'] / alone:.2f})"
                 for k in ("paced", "no_pause")]
        lines.append(f"| {label} | {alone:g} | " + " | ".join(cells) + " |")
    five = rolled["p50_ms_at_turn"].get("5")
    five_hundred = rolled["p50_ms_at_turn"].get("500")
    if five and five_hundred:
        paced = rolled["beside_long"]["paced"]["fresh_p50_ms"] / rolled["fresh_p50_ms_alone"]
        lines += ["", f"Rolled over: turn 500 / turn 5 = {five_hundred / five:.2f} (target ≤ 1.3); "
                      f"fresh visitor beside the long one (paced) / alone = {paced:.2f} (target ≤ 1.2)."]
    return "\n".join(lines)


def r_turns(result: dict[str, Any]) -> int:
    return max(int(t) for t in result["p50_ms_at_turn"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000, help="turns of the long conversation, rolled over")
    parser.add_argument("--baseline-turns", type=int, default=500,
                        help="turns of the long conversation, whole session (it gets slow)")
    parser.add_argument("--fresh-messages", type=int, default=60, help="fresh visitors' messages measured")
    parser.add_argument("--rollover-events", type=int, default=None,
                        help="TRACKER_ROLLOVER_EVENTS of the rolled-over stack (default: the store's)")
    parser.add_argument("--report-only", type=Path, metavar="JSON", help="only write the report of a results JSON")
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads(args.report_only.read_text()))
        return 0
    if not MODEL.exists():
        print(f"{MODEL} is missing: run make train", file=sys.stderr)
        return 1
    from channels.tracker_store import DEFAULT_ROLLOVER_EVENTS

    rollover = args.rollover_events if args.rollover_events is not None else DEFAULT_ROLLOVER_EVENTS
    checkpoints = [5, 50, 100, 200, 500, 1000, 2000]
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "loadavg_start": procs.loadavg()},
                               "rollover_events": rollover, "started": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory(prefix="coach-long-") as tmp:
        try:
            for key, events, turns in (("whole_session", 0, args.baseline_turns),
                                       ("rolled_over", rollover, args.turns)):
                print(f"==> {key}: {turns} turns", flush=True)
                stack = Stack(key, events, Path(tmp) / key)
                try:
                    results[key] = measure(stack, turns, checkpoints, args.fresh_messages)
                finally:
                    stack.stop()
                print(json.dumps(results[key]), flush=True)
        finally:
            procs.stop_all()
    results["machine"]["loadavg_end"] = procs.loadavg()
    write_report(results)
    return 0


def write_report(results: dict[str, Any]) -> None:
    bench = ROOT / "bench"
    (bench / "long_conversation.json").write_text(json.dumps(results, indent=2))
    machine = results["machine"]
    text = "\n".join([
        "# Long conversations: cost per message against the conversation's length",
        "",
        f"Generated by `bench/long_conversation.py` (started {results['started']} UTC) on "
        f"{machine['cpus']} cores, load average {machine['loadavg_start']} at the start, "
        f"{machine.get('loadavg_end')} at the end; TRACKER_ROLLOVER_EVENTS={results['rollover_events']}. "
        "One visitor writes without pause (questions, guided steps, small talk); each figure is "
        "the median reply time of the 21 turns around the one named (turns 1–15 for turn 5). "
        "*Paced*: the long conversation goes on at a message every 0.25 s while fresh visitors "
        "talk; *no pause*: it goes on as fast as the server answers (a script).",
        "",
        report(results),
        "",
        "Reproduce: `.venv/bin/python bench/long_conversation.py` (about 8 minutes).",
        "",
    ])
    (bench / "long_conversation.md").write_text(text)
    print(report(results))


if __name__ == "__main__":
    sys.exit(main())
