"""Simulated visitors: an asyncio client (aiohttp) running realistic conversations on the REST channel.

Closed-loop model: N visitors, each one runs whole conversations one after the other (a new
sender id per conversation), waits a think time between two messages, and never has more than
one request in flight. A level stops by itself: after `duration` seconds (or `max_conversations`
per visitor) no new message is sent; requests in flight finish (or time out) and are counted.
"""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import aiohttp

# --- Conversations ---------------------------------------------------------------------------
# Ours: what a visitor of the firm's website does: greets, starts the guided session, clicks
# "continue" a few times, types a question in the middle, resumes, then starts the diagnostic
# and answers its first questions in free text (the diagnostic form and its validation run in
# the action server).
OUR_CONVERSATIONS: list[list[str]] = [
    [
        "Bonjour !",
        "/start_coaching",
        "/continue",
        "/continue",
        "au fait, c'est quoi les quatre piliers d'un partenariat ?",
        "on reprend",
        "/continue",
        "je veux évaluer mon partenariat",
        "on monte un projet ensemble, c'est un partenaire",
        "oui chacun reste indépendant",
        "ben oui évidemment",
        "oui",
    ],
    [
        "salut",
        "/start_coaching",
        "/continue",
        "/continue",
        "/continue",
        "c koi un partenariat en fait",
        "on reprend",
        "/continue",
        "Fais-moi le diagnostic de mon projet de partenariat",
        "Un partenaire",
        "oui",
        "oui bien sûr",
        "non pas vraiment",
    ],
    [
        "Bonjour",
        "Quels sont les cinq points obligatoires d'un partenariat ?",
        "/start_coaching",
        "/continue",
        "/continue",
        "on risque pas de se faire manger en partageant ?",
        "on reprend",
        "/continue",
        "je veux évaluer mon partenariat",
        "c'est un partenaire",
        "oui",
        "carrément",
    ],
]

# Stock `rasa init` moodbot: its three stories and its two rules, in English.
STOCK_CONVERSATIONS: list[list[str]] = [
    ["hello", "I am great", "bye"],
    ["hi", "I am sad", "yes", "bye"],
    ["hey", "very unhappy", "no"],
    ["good morning", "are you a bot?", "amazing", "bye bye"],
]


# --- Reply checks ----------------------------------------------------------------------------
def reply_problem(messages: Any, apology_texts: frozenset[str]) -> Optional[str]:
    """Why a 200 reply is still a failure for the visitor, or None when it is fine."""
    if not isinstance(messages, list) or not messages:
        return "empty reply"
    if apology_texts and any(isinstance(m, dict) and m.get("text") in apology_texts for m in messages):
        return "apology (action error)"
    return None


# --- Measurements ----------------------------------------------------------------------------
@dataclass
class Sample:
    start: float        # seconds since the level started
    latency: float      # seconds
    ok: bool
    error: Optional[str] = None


@dataclass
class LevelResult:
    bot: str
    visitors: int
    duration_planned: float
    samples: list[Sample] = field(default_factory=list)
    conversations_done: int = 0
    peak_accept_queue: Optional[int] = None   # connections waiting for the server's accept()
    window: float = 0.0           # first request sent -> last reply received, seconds

    def summary(self) -> dict[str, Any]:
        ok = sorted(s.latency for s in self.samples if s.ok)
        errors: dict[str, int] = {}
        for s in self.samples:
            if not s.ok:
                errors[s.error or "error"] = errors.get(s.error or "error", 0) + 1
        return {
            "bot": self.bot,
            "visitors": self.visitors,
            "duration_planned_s": self.duration_planned,
            "window_s": round(self.window, 2),
            "requests": len(self.samples),
            "ok": len(ok),
            "errors": sum(errors.values()),
            "errors_by_kind": errors,
            "conversations_done": self.conversations_done,
            "peak_accept_queue": self.peak_accept_queue,
            "throughput_rps": round(len(ok) / self.window, 2) if self.window > 0 else 0.0,
            "p50_ms": ms(percentile(ok, 50)),
            "p95_ms": ms(percentile(ok, 95)),
            "p99_ms": ms(percentile(ok, 99)),
            "mean_ms": ms(sum(ok) / len(ok)) if ok else None,
            "max_ms": ms(ok[-1]) if ok else None,
        }


def percentile(sorted_values: list[float], q: float) -> Optional[float]:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds * 1000, 1)


def accept_queue(port: int) -> Optional[int]:
    """Connections the kernel has accepted for the server's listening socket but the server has
    not yet taken (`accept()`): rx_queue of the LISTEN entry in /proc/net/tcp."""
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return int(parts[4].split(":")[1], 16)
        except OSError:
            continue
    return None


# --- The client ------------------------------------------------------------------------------
async def post_message(session: aiohttp.ClientSession, url: str, sender: str, text: str,
                       timeout: float) -> tuple[Optional[int], Any]:
    async with session.post(url, json={"sender": sender, "message": text},
                            timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
        status = resp.status
        try:
            body = await resp.json(content_type=None)
        except Exception:
            body = None
        return status, body


async def run_level(*, bot: str, url: str, conversations: list[list[str]], visitors: int,
                    duration: float, max_conversations: Optional[int], think: tuple[float, float],
                    apology_texts: frozenset[str] = frozenset(), request_timeout: float = 30.0,
                    seed: int = 42) -> LevelResult:
    result = LevelResult(bot=bot, visitors=visitors, duration_planned=duration)
    rng = random.Random(seed)
    port = int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    t0 = time.perf_counter()
    deadline = t0 + duration
    last_reply = t0

    async def visitor(index: int) -> None:
        # One browser per visitor: its own HTTP keep-alive connection, kept across its conversations.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            await visit(index, session)

    async def visit(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal last_reply
        # Visitors do not all start at the same instant: spread over the first think time.
        await asyncio.sleep(rng.uniform(0, think[1]))
        done = 0
        while time.perf_counter() < deadline and (max_conversations is None or done < max_conversations):
            script = conversations[(index + done) % len(conversations)]
            sender = f"bench-{bot}-{visitors}-{index}-{uuid.uuid4()}"
            finished = True
            for turn, text in enumerate(script):
                if time.perf_counter() >= deadline:
                    finished = False
                    break
                if turn:
                    await asyncio.sleep(rng.uniform(*think))
                start = time.perf_counter()
                error: Optional[str] = None
                try:
                    status, body = await post_message(session, url, sender, text, request_timeout)
                    if status is None or not 200 <= status < 300:
                        error = f"HTTP {status}"
                    else:
                        error = reply_problem(body, apology_texts)
                except asyncio.TimeoutError:
                    error = f"timeout > {request_timeout:g} s"
                except aiohttp.ClientError as exc:
                    error = f"{type(exc).__name__}"
                end = time.perf_counter()
                last_reply = max(last_reply, end)
                result.samples.append(Sample(start - t0, end - start, error is None, error))
            if finished:
                done += 1
                result.conversations_done += 1

    running = True

    async def watch_accept_queue() -> None:
        while running:
            q = accept_queue(port)
            if q is not None:
                result.peak_accept_queue = max(result.peak_accept_queue or 0, q)
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch_accept_queue())
    try:
        await asyncio.gather(*(visitor(i) for i in range(visitors)))
    finally:
        running = False
        await watcher
    result.window = last_reply - t0
    return result


async def one_conversation(url: str, script: list[str], sender: str, timeout: float = 120) -> list[Any]:
    """A single conversation, replies returned (warm-up and smoke checks)."""
    replies = []
    async with aiohttp.ClientSession() as session:
        for text in script:
            status, body = await post_message(session, url, sender, text, timeout)
            replies.append((status, body))
    return replies
