"""The visitors' funnel, per week: how many sessions reached each stage, where the guided
session and the diagnostic lose people, and the topics asked most.

The stages are the Rasa markers of ``markers/funnel.yml``; the events are those the event
broker published (``EVENTS_DB_URL``: the SQL broker's ``events`` table in the default profile,
filled by ``sip-coach events consume`` from RabbitMQ in the production profile), already
minimised (channels/event_broker.py). The markers are evaluated by an *evaluator* given by
the caller (channels/markers.py: Rasa's own engine), so this module stays plain Python and
counts exactly what ``rasa evaluate markers`` counts.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa

from bot.leads.db import make_engine, sqlite_file_missing
from bot.leads.report import paris_time

WEEKS = 12

STAGES = (
    ("opened_chat", "Ont ouvert la discussion"),
    ("wrote", "Ont écrit ou cliqué"),
    ("started_coaching", "Ont commencé la séance guidée"),
    ("finished_coaching", "Ont terminé la séance guidée"),
    ("started_diagnostic", "Ont commencé le diagnostic"),
    ("got_verdict", "Ont reçu leur verdict"),
    ("opened_contact_form", "Ont ouvert le formulaire de contact"),
    ("consented", "Ont donné leur accord (lead)"),
    ("booked", "Ont pris rendez-vous"),
)
DIAGNOSTIC_MARKER_PREFIX = "diag_asked_"

broker_metadata = sa.MetaData()
# Rasa 3.6's SQLEventBroker table (rasa/core/brokers/sql.py): the event as JSON in ``data``.
broker_events = sa.Table(
    "events", broker_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("data", sa.Text),
)

Evaluator = Callable[[str, Sequence[Dict[str, Any]]], Iterable[Any]]  # (sender, events) → sessions


@dataclass
class Week:
    start: dt.date
    counts: Dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"semaine du {self.start.strftime('%d/%m/%Y')}"


@dataclass
class Funnel:
    weeks: List[Week] = field(default_factory=list)
    totals: Dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    steps: List[tuple] = field(default_factory=list)        # (step number, title, sessions that saw it)
    questions: List[tuple] = field(default_factory=list)    # (question key, label, sessions asked)
    topics: List[tuple] = field(default_factory=list)       # (intent, title, times asked)


def read_events(url: str, since: Optional[dt.datetime] = None) -> Dict[str, List[Dict[str, Any]]]:
    """The broker's events by conversation, oldest first; empty when nothing was published yet."""
    if sqlite_file_missing(url):
        return {}
    engine = make_engine(url, create_dir=False)
    try:
        if not sa.inspect(engine).has_table("events"):
            return {}
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(broker_events.c.sender_id, broker_events.c.data).order_by(broker_events.c.id)
            ).all()
    finally:
        engine.dispose()
    cutoff = since.timestamp() if since else None
    by_sender: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for sender_id, data in rows:
        try:
            event = json.loads(data or "")
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        by_sender[sender_id or event.get("sender_id") or ""].append(event)
    if cutoff is not None:  # whole conversations: a session is never cut in two
        by_sender = {s: e for s, e in by_sender.items() if (e[-1].get("timestamp") or 0) >= cutoff}
    return dict(by_sender)


def week_of(timestamp: Optional[float]) -> dt.date:
    local = paris_time(dt.datetime.fromtimestamp(timestamp or 0, tz=dt.timezone.utc)).date()
    return local - dt.timedelta(days=local.weekday())


def _steps_seen(events: Sequence[Dict[str, Any]]) -> int:
    """How many steps of the guided session were shown (``coaching_step`` is the last one's
    index, from 0)."""
    steps = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == "coaching_step"]
    numbers = [int(v) for v in steps if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(numbers) + 1 if numbers else 0


def _sessions_of(events: Sequence[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """Split like Rasa's markers (at each action_session_start; what comes before the first is
    not a session when there is one)."""
    starts = [i for i, e in enumerate(events) if e.get("event") == "action" and e.get("name") == "action_session_start"]
    if not starts:
        return [list(events)]
    return [list(events[a:b]) for a, b in zip(starts, starts[1:] + [len(events)])]


def build_funnel(
    by_sender: Dict[str, List[Dict[str, Any]]],
    evaluate: Evaluator,
    step_titles: Sequence[str] = (),
    question_labels: Optional[Dict[str, str]] = None,
    topic_titles: Optional[Dict[str, str]] = None,
    since: Optional[dt.datetime] = None,
) -> Funnel:
    """The figures of the sessions that started at ``since`` or later (all without it)."""
    question_labels = question_labels or {}
    topic_titles = topic_titles or {}
    funnel = Funnel()
    weeks: Dict[dt.date, Week] = {}
    totals: Counter = Counter()
    question_counts: Counter = Counter()
    step_counts: Counter = Counter()
    topic_counts: Counter = Counter()
    for sender_id, events in by_sender.items():
        sessions = list(evaluate(sender_id, events))
        raw_sessions = _sessions_of(events)
        for result, raw in zip(sessions, raw_sessions):
            if since is not None and (result.started_at or 0) < since.timestamp():
                continue  # an older session of a conversation still going on
            funnel.sessions += 1
            start = week_of(result.started_at)
            week = weeks.setdefault(start, Week(start, {key: 0 for key, _ in STAGES}))
            for key, _ in STAGES:
                if key in result.applied:
                    week.counts[key] += 1
                    totals[key] += 1
            for name in result.applied:
                if name.startswith(DIAGNOSTIC_MARKER_PREFIX):
                    question_counts[name[len(DIAGNOSTIC_MARKER_PREFIX):]] += 1
            if "started_coaching" in result.applied:
                for step in range(1, _steps_seen(raw) + 1):
                    step_counts[step] += 1
            for event in raw:
                if event.get("event") == "user":
                    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
                    if intent in topic_titles:
                        topic_counts[intent] += 1
    funnel.weeks = [weeks[k] for k in sorted(weeks, reverse=True)][:WEEKS]
    funnel.totals = {key: totals.get(key, 0) for key, _ in STAGES}
    funnel.steps = [(n, title, step_counts.get(n, 0)) for n, title in enumerate(step_titles, 1)]
    funnel.questions = [(k, label, question_counts.get(k, 0)) for k, label in question_labels.items()]
    funnel.topics = [(i, topic_titles[i], c) for i, c in topic_counts.most_common(10)]
    return funnel
