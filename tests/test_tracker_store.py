"""LeanSQLTrackerStore reads and writes exactly what Rasa's SQLTrackerStore does, on the same
table, on SQLite and PostgreSQL: either store can read what the other wrote."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from channels import server_tuning
from channels.tracker_store import LeanSQLTrackerStore

server_tuning.apply()
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [continue]
slots:
  coaching_step:
    type: float
    influence_conversation: false
    mappings: [{type: custom}]
"""
)


def session(start: float) -> list:
    return [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]


def turn(number: int, at: float) -> list:
    intent = {"name": "continue", "confidence": 0.97}
    return [
        UserUttered(f"la suite {number}", intent, [], {"intent": intent, "text": f"la suite {number}"}, timestamp=at),
        ActionExecuted("action_coach_step", timestamp=at + 0.1),
        BotUttered("Le point suivant, c’est le pilotage.", {"buttons": [{"title": "Continuer", "payload": "/continue"}]}, timestamp=at + 0.2),
        SlotSet("coaching_step", number, timestamp=at + 0.3),
        ActionExecuted("action_listen", timestamp=at + 0.4),
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_settings(request, tmp_path) -> dict:
    if request.param == "sqlite":
        return {"dialect": "sqlite", "db": str(tmp_path / "tracker.sqlite3")}
    url = make_url(request.getfixturevalue("postgres_url"))
    return {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database,
            "username": url.username, "password": url.password}


def stores(settings: dict) -> tuple[LeanSQLTrackerStore, SQLTrackerStore]:
    return LeanSQLTrackerStore(domain=DOMAIN, **settings), SQLTrackerStore(domain=DOMAIN, **settings)


def stored_rows(store: SQLTrackerStore) -> list[tuple]:
    events = store.SQLEvent.__table__
    with store.engine.connect() as connection:
        query = sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp,
                          events.c.intent_name, events.c.action_name, events.c.data)
        return [tuple(row) for row in connection.execute(query.order_by(events.c.id))]


async def test_a_message_at_a_time_both_stores_write_the_same_rows(store_settings, tmp_path):
    lean, _ = stores(store_settings)
    reference = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "reference.sqlite3"))
    for store in (lean, reference):
        tracker = DialogueStateTracker.from_events("visiteur", session(100.0), DOMAIN.slots)
        await store.save(tracker)
        for number in range(1, 4):
            tracker = await store.retrieve("visiteur")
            for event in turn(number, 100.0 + number):
                tracker.update(event)
            await store.save(tracker)
            await store.save(tracker)  # saving again adds nothing
    assert stored_rows(lean) == stored_rows(reference)
    assert len(stored_rows(lean)) == 3 + 3 * 5


async def test_either_store_reads_what_the_other_wrote(store_settings):
    lean, rasa_store = stores(store_settings)
    events = session(10.0) + turn(1, 11.0)
    await rasa_store.save(DialogueStateTracker.from_events("a", events, DOMAIN.slots))
    await lean.save(DialogueStateTracker.from_events("b", events, DOMAIN.slots))
    for sender in ("a", "b"):
        by_lean, by_rasa = await lean.retrieve(sender), await rasa_store.retrieve(sender)
        assert list(by_lean.events) == list(by_rasa.events) == events
        assert by_lean.get_slot("coaching_step") == 1


async def test_only_the_latest_session_is_read_and_counted(store_settings):
    lean, rasa_store = stores(store_settings)
    first = session(10.0) + turn(1, 11.0)
    tracker = DialogueStateTracker.from_events("visiteur", first, DOMAIN.slots)
    await lean.save(tracker)
    for event in session(500.0) + turn(2, 501.0):  # a new session, a day later
        tracker.update(event)
    await lean.save(tracker)  # the tracker holds both sessions, the new one is appended once

    latest = await lean.retrieve("visiteur")
    assert list(latest.events) == list((await rasa_store.retrieve("visiteur")).events)
    assert list(latest.events) == session(500.0) + turn(2, 501.0)
    full = await lean.retrieve_full_tracker("visiteur")
    assert list(full.events) == first + session(500.0) + turn(2, 501.0)


async def test_an_unknown_conversation_is_none(store_settings):
    lean, _ = stores(store_settings)
    assert await lean.retrieve("personne") is None


async def test_conversations_do_not_mix(store_settings):
    lean, _ = stores(store_settings)
    await lean.save(DialogueStateTracker.from_events("a", session(1.0) + turn(1, 2.0), DOMAIN.slots))
    await lean.save(DialogueStateTracker.from_events("b", session(1.0), DOMAIN.slots))
    assert len((await lean.retrieve("a")).events) == 8
    assert len((await lean.retrieve("b")).events) == 3


FORM_DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform, stop_session]
slots:
  contact_email:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  forget_since:
    type: float
    influence_conversation: false
    mappings: [{type: custom}]
"""
)


async def test_forget_since_redacts_the_turn_that_asked_it_once_stored(store_settings):
    """The message that ends the form (« stop, … mon e-mail ») is not in the store yet when the
    action runs: the store redacts it right after writing the turn."""
    from rasa.shared.core.events import ActiveLoop

    store = LeanSQLTrackerStore(domain=FORM_DOMAIN, **store_settings)
    intent = {"name": "inform", "confidence": 0.9}
    tracker = DialogueStateTracker.from_events("visiteur", session(10.0) + [
        UserUttered("Bonjour", intent, timestamp=11.0),
        ActiveLoop("contact_form", timestamp=12.0),
        UserUttered("karim@example.org", intent, timestamp=13.0),
        SlotSet("contact_email", "karim@example.org", timestamp=13.1),
    ], FORM_DOMAIN.slots)
    await store.save(tracker)
    for event in [
        UserUttered("stop, je garde karim.stopper@example.org pour moi", intent, timestamp=20.0),
        SlotSet("forget_since", 12.0, timestamp=20.1),
        BotUttered("C'est noté : j'oublie tout.", timestamp=20.2),
        SlotSet("contact_email", None, timestamp=20.3),
    ]:
        tracker.update(event)
    await store.save(tracker)
    dump = " ".join(row[5] for row in stored_rows(store))
    assert "karim" not in dump and "example.org" not in dump
    assert "Bonjour" in dump  # what was said before the form stays
    stored = await store.retrieve("visiteur")
    assert len(stored.events) == len(tracker.events)  # rewritten in place, nothing appended twice
    await store.save(stored)
    assert len(stored_rows(store)) == len(tracker.events)


def turn_now(number: int) -> list:
    """A turn as Rasa writes it: each event stamped when it happens."""
    intent = {"name": "continue", "confidence": 0.97}
    return [
        UserUttered(f"la suite {number}", intent, [], {"intent": intent, "text": f"la suite {number}"}),
        ActionExecuted("action_coach_step"),
        BotUttered("Le point suivant, c’est le pilotage."),
        SlotSet("coaching_step", number),
        ActionExecuted("action_listen"),
    ]


ROLL_DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [continue, inform]
slots:
  coaching_step:
    type: float
    influence_conversation: false
    mappings: [{type: custom}]
  contact_name:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
forms:
  contact_form:
    required_slots: [contact_name]
"""
)


async def test_a_long_session_is_rolled_over_and_the_conversation_goes_on(store_settings, monkeypatch):
    """Past TRACKER_ROLLOVER_EVENTS, a message reads a bounded session that carries the
    slots, the open form and the last two turns; the table keeps every original."""
    from rasa.shared.core.events import ActiveLoop

    monkeypatch.setenv("TRACKER_ROLLOVER_EVENTS", "40")
    store = LeanSQLTrackerStore(domain=ROLL_DOMAIN, **store_settings)
    tracker = DialogueStateTracker.from_events("long", session(time.time()), ROLL_DOMAIN.slots)
    await store.save(tracker)
    sizes = []
    for number in range(1, 61):
        tracker = await store.retrieve("long")
        sizes.append(len(tracker.events))
        for event in turn_now(number):
            tracker.update(event)
        if number == 30:
            tracker.update(ActiveLoop("contact_form"))
            tracker.update(SlotSet("contact_name", "Léa"))
            tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
    assert max(sizes) <= 40 + 20  # bounded, whatever the length of the conversation
    latest = await store.retrieve("long")
    assert latest.get_slot("coaching_step") == 60 and latest.get_slot("contact_name") == "Léa"
    assert latest.active_loop_name == "contact_form"
    assert latest.latest_message.text == "la suite 60"
    assert store.turns("long") == 60
    full = await store.retrieve_full_tracker("long")
    originals = [e.text for e in full.events if isinstance(e, UserUttered)
                 and "coach_rollover" not in (e.metadata or {})]
    assert originals == [f"la suite {n}" for n in range(1, 61)]


async def test_the_transcript_shows_each_message_once_after_rollovers(store_settings, monkeypatch):
    from bot.leads.transcript import read_transcript

    monkeypatch.setenv("TRACKER_ROLLOVER_EVENTS", "20")
    store = LeanSQLTrackerStore(domain=DOMAIN, **store_settings)
    tracker = DialogueStateTracker.from_events("t", session(time.time()), DOMAIN.slots)
    await store.save(tracker)
    for number in range(1, 16):
        tracker = await store.retrieve("t")
        for event in turn_now(number):
            tracker.update(event)
        await store.save(tracker)
    url = store.engine.url.render_as_string(hide_password=False)
    said = [line.text for line in read_transcript("t", url) if line.speaker == "visitor"]
    assert said == [f"la suite {n}" for n in range(1, 16)]


async def test_no_rollover_while_the_bot_is_still_acting(store_settings, monkeypatch):
    from channels.tracker_store import rollover_rows

    monkeypatch.setenv("TRACKER_ROLLOVER_EVENTS", "5")
    events = session(1.0) + turn(1, 2.0) + turn(2, 3.0)
    tracker = DialogueStateTracker.from_events("x", events[:-1], DOMAIN.slots)  # no action_listen yet
    assert rollover_rows(tracker, 5) == []
    tracker = DialogueStateTracker.from_events("x", events, DOMAIN.slots)
    assert rollover_rows(tracker, 0) == []  # 0: never
    rows = rollover_rows(tracker, 5)
    assert rows[1]["event"] == "session_started" and rows[1]["metadata"]["coach_rollover"]["turns_before"] == 2


def test_each_message_s_queries_read_the_latest_session_through_an_index(tmp_path):
    """The cost of a message must not grow with the conversation: none of the per-message
    statements may read all of a conversation's rows (SQLite's query plan)."""
    store = LeanSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "plan.sqlite3"))
    with store.engine.connect() as connection:
        for statement in (store._session_start.params(sender_id="a"),
                          store._read_latest_session.params(sender_id="a", start=5.0),
                          store._count_latest_session.params(sender_id="a", start=5.0),
                          store._read_turn_rows.params(sender_id="a", start=5.0)):
            sql = statement.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True})
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            details = " ".join(row[-1] for row in plan)
            # Bounded by the session: an index on (sender_id, [type_name,] timestamp), searched
            # on the timestamp or the event type; never all of the conversation's rows.
            assert "SCAN events" not in details and "USING" in details and "ix_events_coach_" in details, details
            assert "timestamp>" in details or "type_name=" in details, details
