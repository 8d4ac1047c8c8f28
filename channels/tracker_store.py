"""Rasa's SQL tracker store with its two per-message queries written in SQLAlchemy Core.

Every message costs the Rasa server one read of the conversation (all events of its latest
session) and one write (the events the message added). Rasa 3.6's `SQLTrackerStore` builds both
with the ORM: a new `Query` with a sub-query per call, one ORM object hydrated per stored event
on read, one ORM object per new event and a unit-of-work flush on write. Under 50 visitors that
was a tenth of the Rasa server's profile samples, most of it SQLAlchemy's own Python
(bench/results.md). This store runs the same SQL on the same `events` table, built once and
executed with bound parameters; the rows read, their order and the rows written are the same.

It rolls a long session over (TRACKER_ROLLOVER_EVENTS, 100 events, a few turns): the
cost of a message grows with the events of the latest session (read, replayed, sent to the
action server, featurised by the policies), so past that size a new session is written that
carries the slots, the active form and copies of the last two turns; the next messages read
only that. The visitor sees nothing of it; transcripts skip the copies.

It also forgets on request: when an action sets the slot `forget_since` (a visitor left the
contact form without consenting), the rows since that moment are redacted right after the turn
is written, the turn's own message included (an action runs before its turn is stored).

Everything else (engine, pool, schema, `keys`, the full-history read, streaming to an event
broker) is Rasa's. Configured in endpoints.yml and endpoints.prod.yml:

    tracker_store:
      type: channels.tracker_store.LeanSQLTrackerStore
      dialect: sqlite
      db: var/tracker.sqlite3
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import time
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.leads.transcript import FORGET_SLOT, redact_rows

logger = logging.getLogger(__name__)

# A conversation's latest session is rolled over past this many events (a few turns, after
# the copied ones): every message reads, replays, sends to the action server and featurises the latest
# session, so its cost must not grow with the conversation (bench/long_conversation.py).
DEFAULT_ROLLOVER_EVENTS = 100
KEPT_TURNS = 2
ROLLOVER_KEY = "coach_rollover"
SAVED_UPTO = "_coach_saved_upto"
ROLLED_OVER = "_coach_rolled_over"


class LeanSQLTrackerStore(SQLTrackerStore):
    """Same table, same rows as `SQLTrackerStore`; cheaper per message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = self.SQLEvent.__table__
        self._create_session_indexes(events)
        sender_id = sa.bindparam("sender_id")
        # The latest session starts at the last SessionStarted event (Rasa's definition,
        # timestamps included); a conversation without one is a single session.
        # Two statements, not one with a sub-query: `timestamp >= (sub-query) OR (sub-query) IS
        # NULL` cannot use an index, and scanned the whole conversation on every message.
        self._session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
        )
        in_latest_session = sa.and_(
            events.c.sender_id == sender_id, events.c.timestamp >= sa.bindparam("start"),
        )
        self._read_latest_session = (
            sa.select(events.c.data).where(in_latest_session).order_by(events.c.id)
        )
        self._count_latest_session = (
            sa.select(sa.func.count()).select_from(events).where(in_latest_session)
        )
        self._insert_event = events.insert()
        self.rollover_events = rollover_threshold()
        self._read_turn_rows = (
            sa.select(events.c.type_name, events.c.data).where(in_latest_session)
            .where(events.c.type_name.in_(("user", SessionStarted.type_name)))
        )

    def _latest(self, session: Any, sender_id: str) -> dict[str, Any]:
        """The parameters that select the conversation's latest session: from its last
        SessionStarted event (Rasa's definition, timestamps included), or all of it."""
        start = session.execute(self._session_start, {"sender_id": sender_id}).scalar()
        return {"sender_id": sender_id, "start": float("-inf") if start is None else start}

    def _create_session_indexes(self, events: sa.Table) -> None:
        """Rasa indexes `sender_id` only: finding a conversation's latest session start, and
        reading from it, scanned every row of the conversation (a 2,000-turn one: 30,000
        rows, three times per message). With these two, both are index range reads bounded
        by the session. Created once, if missing (the table stays Rasa's)."""
        # Plain DDL, not sa.Index: an Index object would join Rasa's shared table metadata, and
        # its create_all would then create it twice (PostgreSQL rolls the table back with it).
        for name, columns in (
            ("ix_events_coach_sender_type_time", "sender_id, type_name, timestamp"),
            ("ix_events_coach_sender_time", "sender_id, timestamp"),
        ):
            try:
                with self.engine.begin() as connection:
                    connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {events.name} ({columns})")
            except sa.exc.SQLAlchemyError as exc:  # another replica created it meanwhile
                logger.debug("Index %s not created: %s", name, exc)

    def turns(self, sender_id: str) -> int:
        """The visitor's messages since the session began, rollovers included (the REST
        channel's turn limit, CONVERSATION_MAX_TURNS): read from the latest session only, so
        bounded like the rest."""
        with self.session_scope() as session:
            rows = session.execute(self._read_turn_rows, self._latest(session, sender_id)).all()
        before, count = 0, 0
        for type_name, data in rows:
            if type_name == SessionStarted.type_name:
                mark = (json.loads(data).get("metadata") or {}).get(ROLLOVER_KEY) or {}
                before = int(mark.get("turns_before") or 0)
            elif ROLLOVER_KEY not in data:
                count += 1
        return before + count

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:  # exports and tests, not the message path
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = session.execute(self._read_latest_session, self._latest(session, sender_id))
            events = [json.loads(data) for data in rows.scalars()]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            # Saved before by this store (a rollover changed what the table's latest session
            # holds): what is new is what came after that save.
            stored = getattr(tracker, SAVED_UPTO, None)
            if stored is None:
                stored = session.execute(
                    self._count_latest_session, self._latest(session, tracker.sender_id)
                ).scalar_one()
            new_events = itertools.islice(tracker.events, stored, len(tracker.events))
            rows = [_event_row(tracker.sender_id, event) for event in new_events]
            rollover = rollover_rows(tracker, self.rollover_events)
            if rollover:
                rows += [_row_from_data(tracker.sender_id, data) for data in rollover]
            if rows:
                session.execute(self._insert_event, rows)
            forget_since = _forget_requested(tracker.events, stored)
            if forget_since is not None:
                # The turn that asked to forget is stored now: its own messages (« stop, … mon
                # e-mail ») are blanked with the rest, in the same transaction.
                redact_rows(session.connection(), tracker.sender_id, forget_since)
            session.commit()
            setattr(tracker, SAVED_UPTO, len(tracker.events))
            if forget_since is not None and self.engine.dialect.name == "sqlite":
                with self.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        logger.debug("Tracker stored (%d new events).", len(rows))


def rollover_threshold(env: Optional[dict] = None) -> int:
    """TRACKER_ROLLOVER_EVENTS (default 100; 0: never roll over)."""
    raw = ((os.environ if env is None else env).get("TRACKER_ROLLOVER_EVENTS") or "").strip()
    try:
        value = int(raw) if raw else DEFAULT_ROLLOVER_EVENTS
    except ValueError:
        logger.warning("TRACKER_ROLLOVER_EVENTS=%r is not a whole number: %d used", raw, DEFAULT_ROLLOVER_EVENTS)
        value = DEFAULT_ROLLOVER_EVENTS
    return max(0, value)


def rollover_rows(tracker: DialogueStateTracker, threshold: int) -> list[dict]:
    """When the latest session holds more than `threshold` events and the bot waits for the
    visitor: the events of a new session that carries the conversation on (events as dicts,
    written after this turn's). Empty otherwise.

    The new session is what Rasa itself writes at a session start (action_session_start,
    session_started, the slots, the active form), followed by copies of the last
    KEPT_TURNS turns, so that the rules still see the recent history. Copies are marked
    (`metadata.coach_rollover`) and skipped by the transcripts; their timestamps follow the
    rollover's, the original kept in the mark. The table keeps every original row."""
    events = tracker.events
    if not threshold or getattr(tracker, ROLLED_OVER, False) or not events:
        return []
    last = events[-1]
    if not (isinstance(last, ActionExecuted) and last.action_name == ACTION_LISTEN_NAME):
        return []
    start = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], SessionStarted):
            start = index
            break
    if len(events) - start <= threshold:
        return []
    turns, first_kept = 0, len(events)
    for index in range(len(events) - 1, start, -1):
        if isinstance(events[index], UserUttered):
            turns += 1
            first_kept = index
            if turns == KEPT_TURNS:
                break
    # This replica's clock, as Rasa dates its own session starts: carrying a clock that ran
    # ahead (another replica's) forward would hide every later event until it caught up.
    now = time.time()
    latest = max((e.timestamp for e in itertools.islice(events, start, None)), default=0.0)
    if latest > now:
        logger.warning("Rollover of %s: events %.1f s in the future (clock skew between replicas?)",
                       tracker.sender_id, latest - now)
    opening = events[start]
    session_mark = ((opening.metadata or {}).get(ROLLOVER_KEY) or {}) if isinstance(opening, SessionStarted) else {}
    turns_before = int(session_mark.get("turns_before") or 0) + sum(
        1 for e in itertools.islice(events, start, None)
        if isinstance(e, UserUttered) and ROLLOVER_KEY not in (e.metadata or {})
    )
    head: list[dict] = [
        ActionExecuted(ACTION_SESSION_START_NAME).as_dict(),
        SessionStarted(metadata={ROLLOVER_KEY: {"turns_before": turns_before}}).as_dict(),
    ]
    head += [SlotSet(name, slot.value).as_dict() for name, slot in tracker.slots.items()
             if slot.value is not None and slot.value != slot.initial_value]
    if tracker.active_loop_name:
        # When the form started (what to forget from, actions/contact.py), as for the copies.
        started = next((e for e in reversed(events) if isinstance(e, ActiveLoop)
                        and e.name == tracker.active_loop_name), None)
        loop = ActiveLoop(tracker.active_loop_name).as_dict()
        if started is not None:
            original = (started.metadata or {}).get(ROLLOVER_KEY, {}).get("original_timestamp")
            loop["metadata"] = {ROLLOVER_KEY: {"original_timestamp": original or started.timestamp}}
        head.append(loop)
    copies = []
    for event in itertools.islice(events, first_kept, None):
        data = event.as_dict()
        if data.get("event") in ("session_started",) or data.get("name") == ACTION_SESSION_START_NAME:
            continue
        metadata = dict(data.get("metadata") or {})
        original = (metadata.get(ROLLOVER_KEY) or {}).get("original_timestamp")  # a copy of a copy
        metadata[ROLLOVER_KEY] = {"original_timestamp": original or data.get("timestamp")}
        data["metadata"] = metadata
        copies.append(data)
    rows = head + copies
    for offset, data in enumerate(rows):
        data["timestamp"] = now + offset * 1e-5  # after every event of the old session, in order
    setattr(tracker, ROLLED_OVER, True)
    return rows


def _forget_requested(events: Any, stored: int) -> Optional[float]:
    """The moment from which to forget, when one of the new events asks it (actions/contact.py
    sets the slot `forget_since` when unconsented personal data must go)."""
    since = None
    for event in itertools.islice(events, stored, None):
        if isinstance(event, SlotSet) and event.key == FORGET_SLOT and event.value is not None:
            since = float(event.value) if since is None else min(since, float(event.value))
    return since


def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The columns `SQLTrackerStore.save` writes for one event."""
    return _row_from_data(sender_id, event.as_dict())


def _row_from_data(sender_id: str, data: dict) -> dict[str, Any]:
    return {
        "sender_id": sender_id,
        "type_name": data["event"],
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
