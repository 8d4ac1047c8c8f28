"""LeanSQLTrackerStore reads and writes exactly what Rasa's SQLTrackerStore does, on the same
table, on SQLite and PostgreSQL: either store can read what the other wrote."""
from __future__ import annotations

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
