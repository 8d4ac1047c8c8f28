"""Where the server's CPU time goes: py-spy samples of a live process, summarised by package.

py-spy (a sampling profiler, separate binary) attaches to the running Rasa server and action
server while the simulated visitors load them; `--nonblocking` keeps its cost on the server low.
The raw output (collapsed stacks, root first) is summarised here: self time by package (which
code is on the CPU) and inclusive time by file (which code the time is spent under), each frame
marked as ours (this repository) or third-party (Rasa, TensorFlow, spaCy, …).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

PY_SPY_PIN = "py-spy==0.4.3"
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
OUR_DIRS = ("channels", "bot", "actions", "nlu_components")


def find_py_spy(tools_dir: Path, install: bool) -> tuple[Optional[Path], str]:
    """py-spy on PATH, in the venv, or in bench/out/tools; installed there (pinned) if allowed."""
    candidates = [shutil.which("py-spy"), str(Path(sys.executable).parent / "py-spy"),
                  str(tools_dir / "bin" / "py-spy")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return Path(c), "found"
    if not install:
        return None, "py-spy not found (install: pip install --target bench/out/tools " + PY_SPY_PIN + ")"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(tools_dir),
                           PY_SPY_PIN], capture_output=True, text=True, timeout=300)
    exe = tools_dir / "bin" / "py-spy"
    if proc.returncode == 0 and exe.exists():
        return exe, f"installed {PY_SPY_PIN} into {tools_dir}"
    return None, f"py-spy install failed: {proc.stderr.strip()[-300:]}"


def start_recording(py_spy: Path, pid: int, out: Path, duration: int, rate: int = 100) -> subprocess.Popen:
    return subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--output", str(out),
         "--duration", str(duration), "--rate", str(rate), "--full-filenames", "--function",
         "--nonblocking"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def classify(file: str, root: Path) -> str:
    """A package label for a frame's file: `ours:<dir>`, a site-packages top-level, or stdlib."""
    root_s = str(root) + "/"
    if file.startswith(root_s) and "/.venv/" not in file:
        rel = file[len(root_s):]
        top = rel.split("/", 1)[0]
        return f"ours:{top}" if top in OUR_DIRS else f"repo:{rel}"
    if "site-packages/" in file:
        rest = file.split("site-packages/", 1)[1]
        top = rest.split("/", 1)[0]
        return top.removesuffix(".py")
    m = re.search(r"/lib/python3\.\d+/([^/]+)", file)
    if m:
        return f"stdlib:{m.group(1).removesuffix('.py')}"
    return file or "?"


def short_file(file: str, root: Path) -> str:
    root_s = str(root) + "/"
    if file.startswith(root_s) and "/.venv/" not in file:
        return file[len(root_s):]
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    m = re.search(r"/lib/python3\.\d+/(.+)$", file)
    return f"stdlib/{m.group(1)}" if m else file


# Where a sample's time goes. First the specific activities, most specific first: a sample
# goes to the first one any of its frames matches (frames are "function (file)", the file
# relative to site-packages or to the repository). Library code (TensorFlow, jsonschema,
# SQLAlchemy, …) is counted under the Rasa or project code that called it.
VALIDATE = "Rasa: validating the action server's JSON reply (jsonschema)"
TRACKER = "Rasa: tracker store (SQLAlchemy, SQLite)"
SPACY = "Rasa NLU: SpacyNLP (spaCy pipeline)"
LOOP = "HTTP server (sanic) and its event loop, incl. waiting for I/O"
BUCKETS: list[tuple[str, str, Any]] = [
    (VALIDATE, "rasa", lambda fn, f: fn == "_validate_action_result"),
    (TRACKER, "rasa", lambda fn, f: f.startswith("rasa/core/tracker_store")),
    (SPACY, "rasa", lambda fn, f: f.startswith("rasa/nlu/utils/spacy_utils")),
    ("Rasa NLU: DIETClassifier (TensorFlow)", "rasa", lambda fn, f: f.startswith("rasa/nlu/classifiers/diet")),
    ("ours: TextNormalizer (nlu_components/)", "ours", lambda fn, f: f.startswith("nlu_components/")),
    ("Rasa NLU: tokenizers, featurizers, other", "rasa", lambda fn, f: f.startswith("rasa/nlu/")),
    ("Rasa: HTTP call to the action server (aiohttp)", "rasa", lambda fn, f: f.startswith("rasa/utils/endpoints")),
    ("Rasa: dialogue policies (rules, memoization, TED)", "rasa", lambda fn, f: f.startswith("rasa/core/policies/")),
    ("ours: bot/ (answers, diagnostic, spaCy in the action server)", "ours", lambda fn, f: f.startswith("bot/")),
    ("ours: actions/", "ours", lambda fn, f: f.startswith("actions/")),
]
# Otherwise the innermost frame that belongs to a known owner decides; the start-up frames
# every sample shares (rasa CLI, `serve_application`, sanic's `serve`) never do.
BOOTSTRAP = ("rasa/__main__.py", "rasa/cli/", "rasa/core/run.py", "rasa/api.py", "rasa_sdk/__main__.py",
             "rasa_sdk/endpoint.py:run", "sanic/app.py", "sanic/server/runners.py")
FALLBACK: list[tuple[str, str, Any]] = [
    ("ours: REST channel (channels/)", "ours", lambda f: f.startswith("channels/")),
    ("Rasa: graph runner (dask) and other dialogue code", "rasa", lambda f: f.startswith(("rasa/", "dask/"))),
    ("rasa_sdk (action server framework)", "rasa", lambda f: f.startswith("rasa_sdk/")),
    (VALIDATE, "rasa", lambda f: f.startswith("jsonschema/")),
    (TRACKER, "rasa", lambda f: f.startswith("sqlalchemy/")),
    (SPACY, "rasa", lambda f: f.startswith(("spacy/", "thinc/"))),
    ("TensorFlow (caller not captured)", "rasa", lambda f: f.startswith(("tensorflow/", "keras/"))),
    (LOOP, "other",
     lambda f: f.startswith(("sanic/", "stdlib/asyncio", "uvloop", "connection_task", "handle_request", "send"))),
]


def _bootstrap(fn: str, f: str) -> bool:
    return f.startswith(BOOTSTRAP) or f"{f}:{fn}".startswith(BOOTSTRAP) or f.endswith("/bin/rasa")


def bucket(frames: list[tuple[str, str]], root: Path) -> tuple[str, str]:
    short = [(fn, short_file(f, root)) for fn, f in frames]
    for label, owner, match in BUCKETS:
        if any(match(fn, f) for fn, f in short):
            return label, owner
    for fn, f in reversed(short):
        if _bootstrap(fn, f):
            continue
        for label, owner, match in FALLBACK:
            if match(f):
                return label, owner
    if all(_bootstrap(fn, f) for fn, f in short):
        return LOOP, "other"
    if any(f.startswith(("stdlib/threading", "stdlib/concurrent")) for _, f in short):
        return "worker threads (thread pools, mostly waiting)", "other"
    return "other (stacks py-spy could not resolve)", "other"


def parse_raw(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    if not path.exists():
        return stacks
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line or " " not in line:
            continue
        body, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = []
        for part in body.split(";"):
            m = FRAME.match(part)
            if m:
                frames.append((m.group("func"), m.group("file")))
        if frames:
            stacks.append((frames, n))
    return stacks


def summarise(path: Path, root: Path, top: int = 15) -> dict[str, Any]:
    stacks = parse_raw(path)
    total = sum(n for _, n in stacks)
    self_by_pkg: Counter[str] = Counter()
    incl_by_file: Counter[str] = Counter()
    incl_by_func: Counter[str] = Counter()
    ours_inclusive = 0
    ours_self = 0
    by_bucket: Counter[str] = Counter()
    by_owner: Counter[str] = Counter()
    leaf_by_bucket: dict[str, Counter[str]] = {}
    for frames, n in stacks:
        label, owner = bucket(frames, root)
        by_bucket[label] += n
        by_owner[owner] += n
        fn, f = frames[-1]
        leaf_by_bucket.setdefault(label, Counter())[f"{fn} ({short_file(f, root)})"] += n
        leaf_pkg = classify(frames[-1][1], root)
        self_by_pkg[leaf_pkg] += n
        if leaf_pkg.startswith("ours:"):
            ours_self += n
        files = {short_file(f, root) for _, f in frames}
        for f in files:
            incl_by_file[f] += n
        funcs = {f"{fn} ({short_file(f, root)})" for fn, f in frames}
        for fn in funcs:
            incl_by_func[fn] += n
        if any(classify(f, root).startswith("ours:") for _, f in frames):
            ours_inclusive += n

    def pct(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    return {
        "samples": total,
        "ours_inclusive_pct": pct(ours_inclusive),
        "ours_self_pct": pct(ours_self),
        "by_activity": [(k, v, pct(v)) for k, v in by_bucket.most_common()],
        "by_owner": {k: pct(v) for k, v in by_owner.items()},
        # The innermost functions of the three biggest activities: what the samples were doing.
        "hot_leaves": {label: [(k, v, pct(v)) for k, v in leaf_by_bucket[label].most_common(4)]
                       for label, _ in by_bucket.most_common(3)},
        "self_by_package": [(k, v, pct(v)) for k, v in self_by_pkg.most_common(top)],
        "inclusive_by_file": [(k, v, pct(v)) for k, v in incl_by_file.most_common(top * 2)],
        "inclusive_by_function": [(k, v, pct(v)) for k, v in incl_by_func.most_common(top * 2)],
    }
