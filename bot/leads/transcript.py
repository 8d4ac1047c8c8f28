"""Conversation transcripts read from Rasa's SQL tracker store, and their erasure.

Rasa's ``SQLTrackerStore`` keeps one row per event in the table ``events`` (columns
``id, sender_id, type_name, timestamp, intent_name, action_name, data``; ``data`` is the
event as JSON text). A visitor's message is a ``user`` event, Marc's a ``bot`` event, the
words being ``data["text"]``.

``TRACKER_DB_URL`` (default ``sqlite:///var/tracker.sqlite3``) is an SQLAlchemy URL of that
database; it must point at the same database as the tracker store in ``endpoints.yml``.
A missing SQLite file or a missing ``events`` table reads as an empty transcript (and is
never created here).

Two ways to forget:

* :func:`delete_conversations` deletes every event of some conversations (``sip-coach leads
  erase`` / ``purge``: the visitor asked to be forgotten, the conversation is over);
* :func:`redact_since` blanks, **in place**, what was said in a conversation since a moment
  (the contact form of a visitor who then refused consent), while the conversation goes
  on. Rows are rewritten, never deleted: Rasa's ``SQLTrackerStore.save`` appends the
  tracker's events after the *number* of rows already stored, so deleting rows of a live
  conversation would make Rasa write them again.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from typing import Iterable, List, Mapping, Optional, Sequence, Union

import sqlalchemy as sa

from bot.leads.db import make_engine, sqlite_file_missing

log = logging.getLogger(__name__)

# The slot an action sets when unconsented personal data must be forgotten: the tracker store
# redacts from that moment once the turn is stored (channels/tracker_store.py).
FORGET_SLOT = "forget_since"
# Events the tracker store copied into a new session (channels/tracker_store.py, rollover):
# the originals are in the table too, a transcript shows them once.
ROLLOVER_KEY = "coach_rollover"

DEFAULT_TRACKER_DB_URL = "sqlite:///var/tracker.sqlite3"

tracker_metadata = sa.MetaData()
# The columns of Rasa 3.6's SQLTrackerStore.SQLEvent (enough to read, delete, or build one).
events_table = sa.Table(
    "events",
    tracker_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

SPEAKERS = {"user": "visitor", "bot": "bot"}
REDACTED = "[effacé]"


@dataclass(frozen=True)
class TranscriptLine:
    sender_id: str
    timestamp: Optional[dt.datetime]  # aware UTC
    speaker: str  # "visitor" | "bot"
    text: str

    @property
    def speaker_fr(self) -> str:
        return "Visiteur" if self.speaker == "visitor" else "Marc"

    def to_dict(self) -> dict:
        return {
            "sender_id": self.sender_id,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "speaker": self.speaker,
            "text": self.text,
        }


def tracker_db_url(env: Optional[Mapping[str, str]] = None) -> str:
    from bot.paths import absolute_sqlite_url

    env = os.environ if env is None else env
    return absolute_sqlite_url(env.get("TRACKER_DB_URL") or DEFAULT_TRACKER_DB_URL, env)


def _ids(sender_ids: Union[str, Iterable[str]]) -> List[str]:
    if isinstance(sender_ids, str):
        return [sender_ids]
    return [s for s in dict.fromkeys(sender_ids) if s]


def _engine_or_none(url: str):
    if sqlite_file_missing(url):
        return None
    engine = make_engine(url, create_dir=False)
    if not sa.inspect(engine).has_table("events"):
        engine.dispose()
        return None
    return engine


def _text_of(data: Optional[str]) -> Optional[str]:
    """The message's words; None for an event without any, or for a copy the tracker store
    made when it rolled the session over (its original is in the table too)."""
    if not data:
        return None
    try:
        payload = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(payload, dict) or ROLLOVER_KEY in (payload.get("metadata") or {}):
        return None
    text = payload.get("text")
    return text if isinstance(text, str) and text.strip() else None


def read_transcript(
    sender_ids: Union[str, Sequence[str]], url: Optional[str] = None
) -> List[TranscriptLine]:
    """The visitor's and Marc's messages of these conversations, oldest first."""
    ids = _ids(sender_ids)
    if not ids:
        return []
    engine = _engine_or_none(url or tracker_db_url())
    if engine is None:
        return []
    try:
        query = (
            sa.select(
                events_table.c.sender_id,
                events_table.c.type_name,
                events_table.c.timestamp,
                events_table.c.data,
            )
            .where(events_table.c.sender_id.in_(ids))
            .where(events_table.c.type_name.in_(tuple(SPEAKERS)))
            .order_by(events_table.c.timestamp, events_table.c.id)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    lines = []
    for sender_id, type_name, timestamp, data in rows:
        text = _text_of(data)
        if text is None:
            continue
        when = (
            dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
            if timestamp is not None
            else None
        )
        lines.append(TranscriptLine(sender_id, when, SPEAKERS[type_name], text))
    return lines


class TrackerUnavailable(RuntimeError):
    """The conversations' database cannot be reached: nothing was erased there."""

    def __init__(self, url: str, cause: Exception) -> None:
        from bot.leads.db import safe_url

        super().__init__(
            f"base des conversations inaccessible ({safe_url(url)}) : {type(cause).__name__} ; "
            "rien n’y a été effacé, relancez la commande quand elle répond"
        )


def _checkpoint(connection) -> None:  # noqa: ANN001
    """SQLite in WAL mode (the Rasa server's tracker store) keeps the rows just rewritten or
    deleted in the -wal file until a checkpoint: after an erasure, write them over now."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def delete_conversations(
    sender_ids: Union[str, Sequence[str]], url: Optional[str] = None
) -> int:
    """Delete every tracker event of these conversations; return the number of rows deleted.
    Raises TrackerUnavailable when the database exists but cannot be reached."""
    ids = _ids(sender_ids)
    if not ids:
        return 0
    url = url or tracker_db_url()
    try:
        engine = _engine_or_none(url)
        if engine is None:
            return 0
        try:
            with engine.begin() as connection:
                result = connection.execute(
                    sa.delete(events_table).where(events_table.c.sender_id.in_(ids))
                )
                deleted = result.rowcount or 0
            with engine.connect() as connection:
                _checkpoint(connection)
        finally:
            engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        raise TrackerUnavailable(url, exc) from exc
    log.info("deleted %d tracker events of %d conversation(s)", deleted, len(ids))
    return deleted


def _redact(type_name: str, payload: dict, slot_prefixes: Sequence[str]) -> bool:
    """Blank the personal content of one event's JSON; True if something changed."""
    before = json.dumps(payload, sort_keys=True)
    if type_name == "user":
        payload["text"] = REDACTED
        parse_data = payload.get("parse_data")
        if isinstance(parse_data, dict):
            parse_data["text"] = REDACTED
            parse_data["entities"] = []
    elif type_name == "bot":
        if payload.get("text") is not None:
            payload["text"] = REDACTED
        if payload.get("data"):
            payload["data"] = {}
    elif type_name == "slot":
        name = str(payload.get("name") or "")
        if any(name.startswith(prefix) for prefix in slot_prefixes):
            payload["value"] = None
    elif type_name == "entities":
        payload["entities"] = []
    return json.dumps(payload, sort_keys=True) != before


def redact_rows(
    connection, sender_id: str, since: float, slot_prefixes: Sequence[str] = ("contact_",)  # noqa: ANN001
) -> int:
    """Blank, in the rows of an open connection, what was said in ``sender_id`` since the Rasa
    timestamp ``since``; the number of events rewritten. Used by :func:`redact_since` and by
    the tracker store right after it saved a turn (channels/tracker_store.py)."""
    t = events_table
    changed = 0
    rows = connection.execute(
        sa.select(t.c.id, t.c.type_name, t.c.data)
        .where(t.c.sender_id == sender_id, t.c.timestamp >= since)
        .where(t.c.type_name.in_(("user", "bot", "slot", "entities")))
    ).all()
    for row_id, type_name, data in rows:
        try:
            payload = json.loads(data) if data else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            continue
        if _redact(type_name, payload, slot_prefixes):
            connection.execute(sa.update(t).where(t.c.id == row_id).values(data=json.dumps(payload)))
            changed += 1
    return changed


def redact_since(
    sender_id: str,
    since: float,
    url: Optional[str] = None,
    slot_prefixes: Sequence[str] = ("contact_",),
) -> int:
    """Blank what the visitor and Marc said in ``sender_id`` since the Rasa timestamp
    ``since`` (user and bot texts, entities, the values of slots named ``contact_*``),
    rewriting the rows in place. Returns the number of events rewritten."""
    engine = _engine_or_none(url or tracker_db_url())
    if engine is None:
        return 0
    try:
        with engine.begin() as connection:
            changed = redact_rows(connection, sender_id, since, slot_prefixes)
        with engine.connect() as connection:
            _checkpoint(connection)
    finally:
        engine.dispose()
    log.info("redacted %d tracker events of one conversation", changed)
    return changed

def idle_conversations(before: float, url: Optional[str] = None) -> List[str]:
    """Conversations whose last event is older than the Rasa timestamp ``before``."""
    engine = _engine_or_none(url or tracker_db_url())
    if engine is None:
        return []
    t = events_table
    try:
        with engine.connect() as connection:
            return list(connection.execute(
                sa.select(t.c.sender_id).group_by(t.c.sender_id)
                .having(sa.func.max(t.c.timestamp) < before)
            ).scalars())
    finally:
        engine.dispose()


def unconsented_form_starts(
    sender_ids: Sequence[str], url: Optional[str] = None, form: str = "contact_form",
) -> dict:
    """For those of ``sender_ids`` whose tracker still holds a contact detail (a ``contact_*``
    slot with a value), when their contact form first started: what to redact from."""
    ids = _ids(sender_ids)
    if not ids:
        return {}
    engine = _engine_or_none(url or tracker_db_url())
    if engine is None:
        return {}
    t = events_table
    holding = (
        sa.select(t.c.sender_id).where(t.c.sender_id.in_(sa.bindparam("ids", expanding=True)))
        .where(t.c.type_name == "slot", t.c.data.like('%"name": "contact\\_%', escape="\\"))
        .where(t.c.data.notlike('%"value": null%')).distinct()
    )
    starts = (
        sa.select(t.c.sender_id, sa.func.min(t.c.timestamp))
        .where(t.c.sender_id.in_(holding), t.c.type_name == "active_loop")
        .where(t.c.data.like(f'%"name": "{form}"%')).group_by(t.c.sender_id)
    )
    found = {}
    try:
        with engine.connect() as connection:
            for chunk_start in range(0, len(ids), 500):  # bounded IN lists
                chunk = ids[chunk_start:chunk_start + 500]
                found.update(dict(connection.execute(starts, {"ids": chunk}).all()))
    finally:
        engine.dispose()
    return found
