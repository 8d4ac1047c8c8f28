"""Rasa's SQL tracker store with its two per-message queries written in SQLAlchemy Core.

Every message costs the Rasa server one read of the conversation (all events of its latest
session) and one write (the events the message added). Rasa 3.6's `SQLTrackerStore` builds both
with the ORM: a new `Query` with a sub-query per call, one ORM object hydrated per stored event
on read, one ORM object per new event and a unit-of-work flush on write. Under 50 visitors that
was a tenth of the Rasa server's profile samples, most of it SQLAlchemy's own Python
(bench/results.md). This store runs the same SQL on the same `events` table, built once and
executed with bound parameters; the rows read, their order and the rows written are the same.

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
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.leads.transcript import FORGET_SLOT, redact_rows

logger = logging.getLogger(__name__)


class LeanSQLTrackerStore(SQLTrackerStore):
    """Same table, same rows as `SQLTrackerStore`; cheaper per message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = self.SQLEvent.__table__
        sender_id = sa.bindparam("sender_id")
        # The latest session starts at the last SessionStarted event (Rasa's definition,
        # timestamps included); a conversation without one is a single session.
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_latest_session = sa.and_(
            events.c.sender_id == sender_id,
            sa.or_(events.c.timestamp >= session_start, session_start.is_(None)),
        )
        self._read_latest_session = (
            sa.select(events.c.data).where(in_latest_session).order_by(events.c.id)
        )
        self._count_latest_session = (
            sa.select(sa.func.count()).select_from(events).where(in_latest_session)
        )
        self._insert_event = events.insert()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:  # exports and tests, not the message path
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = session.execute(self._read_latest_session, {"sender_id": sender_id})
            events = [json.loads(data) for data in rows.scalars()]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = session.execute(
                self._count_latest_session, {"sender_id": tracker.sender_id}
            ).scalar_one()
            new_events = itertools.islice(tracker.events, stored, len(tracker.events))
            rows = [_event_row(tracker.sender_id, event) for event in new_events]
            if rows:
                session.execute(self._insert_event, rows)
            forget_since = _forget_requested(tracker.events, stored)
            if forget_since is not None:
                # The turn that asked to forget is stored now: its own messages (« stop, … mon
                # e-mail ») are blanked with the rest, in the same transaction.
                redact_rows(session.connection(), tracker.sender_id, forget_since)
            session.commit()
            if forget_since is not None and self.engine.dialect.name == "sqlite":
                with self.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        logger.debug("Tracker stored (%d new events).", len(rows))


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
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
