"""Processes the benchmark starts: timed runs, servers, memory and CPU read from /proc.

Every process is started in its own session and stopped by its process-group id (never by
name); `stop_all()` runs on exit, Ctrl-C and SIGTERM.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Optional

PAGE_TICKS = os.sysconf("SC_CLK_TCK")
_STARTED: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- /proc readers ---------------------------------------------------------------------------
def _ppid_map() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may hold spaces and parentheses: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry)] = int(fields[1])
    return out


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, parent in _ppid_map().items():
        children.setdefault(parent, []).append(child)
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def status_kb(pid: int, field: str) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            pass
    return total / PAGE_TICKS


class RssSampler(threading.Thread):
    """Peak resident memory of a process and its children, sampled every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_tree_kb = 0
        self.peak_tree_pids = 1
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = process_tree(self.pid)
            total = sum(status_kb(p, "VmRSS") or 0 for p in pids)
            if total > self.peak_tree_kb:
                self.peak_tree_kb, self.peak_tree_pids = total, len(pids)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


# --- Starting and stopping -------------------------------------------------------------------
def _spawn(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    _STARTED.append(proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    if proc in _STARTED:
        _STARTED.remove(proc)


def stop_all() -> None:
    for proc in list(_STARTED):
        stop(proc)


def timed_run(args: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float) -> dict[str, Any]:
    """Run to completion: wall time, exit code, peak RSS (ru_maxrss of the process), load average."""
    la_start = loadavg()
    t0 = time.perf_counter()
    proc = _spawn(args, cwd, env, log)
    deadline = t0 + timeout
    status, rusage = 0, None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    _STARTED.remove(proc)
    return {
        "command": " ".join(args),
        "wall_s": round(wall, 1),
        "exit_code": proc.returncode,
        "timed_out": wall >= timeout,
        "peak_rss_mib": round(rusage.ru_maxrss / 1024, 1) if rusage else None,
        "cpu_s": round(rusage.ru_utime + rusage.ru_stime, 1) if rusage else None,
        "loadavg_start": la_start,
        "loadavg_end": loadavg(),
        "log": str(log),
    }


class Server:
    """A long-running server process with its memory sampler."""

    def __init__(self, name: str, args: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.name, self.log = name, log
        self.t0 = time.perf_counter()
        self.proc = _spawn(args, cwd, env, log)
        self.sampler = RssSampler(self.proc.pid)
        self.sampler.start()
        self.command = " ".join(args)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        return cpu_seconds(process_tree(self.pid))

    def memory(self) -> dict[str, Any]:
        tree = process_tree(self.pid)
        hwm = [status_kb(p, "VmHWM") or 0 for p in tree]
        return {
            "vmhwm_main_mib": round((status_kb(self.pid, "VmHWM") or 0) / 1024, 1),
            "vmhwm_tree_sum_mib": round(sum(hwm) / 1024, 1),
            "peak_sampled_tree_rss_mib": round(self.sampler.peak_tree_kb / 1024, 1),
            "vmrss_tree_mib": round(sum(status_kb(p, "VmRSS") or 0 for p in tree) / 1024, 1),
            "processes_in_tree": len(tree),
        }

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        self.sampler.stop()
        stop(self.proc)
