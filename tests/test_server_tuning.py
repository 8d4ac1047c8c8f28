"""The Rasa-server tuning keeps Rasa's checks identical and puts the SQLite tracker store in WAL mode."""
import asyncio
import jsonschema
import pytest
import sqlalchemy as sa
from rasa.core.actions.action import RemoteAction

from channels import server_tuning

server_tuning.apply()
SPEC = RemoteAction.action_response_format_spec()


def test_a_valid_action_reply_passes():
    jsonschema.validate({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "ok"}]}, SPEC)


@pytest.mark.parametrize("reply", [{"events": "pas une liste"}, {"responses": [{"text": 3}], "events": [{}]}])
def test_an_invalid_action_reply_is_still_refused(reply):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, SPEC)


def test_rasa_still_rejects_a_malformed_reply():
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [], "responses": []})
    with pytest.raises(Exception):
        action._validate_action_result({"events": "x"})


def test_the_sqlite_tracker_store_uses_wal(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_other_sqlite_files_keep_their_journal_mode(tmp_path):
    # WAL is written into the file: the leads database, opened in this process by a test or a
    # tool, must stay as its own programs expect it (rollback journal).
    engine = sa.create_engine(f"sqlite:///{tmp_path}/leads.sqlite3")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"


def test_postgresql_tracker_store_connections_are_checked_before_use():
    from rasa.core import tracker_store
    from channels import server_tuning
    server_tuning.apply()
    kwargs = tracker_store.create_engine_kwargs("postgresql://coach@localhost/tracker")
    assert kwargs["pool_pre_ping"] is True and "pool_size" in kwargs  # Rasa's own settings kept



def test_the_sqlite_tracker_store_keeps_its_connections():
    from rasa.core import tracker_store
    from sqlalchemy.pool import QueuePool
    from channels import server_tuning
    server_tuning.apply()
    kwargs = tracker_store.create_engine_kwargs("sqlite:///var/tracker.sqlite3")
    assert kwargs["poolclass"] is QueuePool
    assert kwargs["connect_args"] == {"check_same_thread": False, "factory": server_tuning._WalConnection}
    assert tracker_store.create_engine_kwargs("sqlite://") == {}  # in memory: left alone


def test_rasas_sqlite_tracker_store_works_with_the_pool(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from channels import server_tuning
    server_tuning.apply()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    assert type(store.engine.pool).__name__ == "QueuePool"
    tracker = DialogueStateTracker.from_events("visitor", [UserUttered("bonjour"), SlotSet("x", "y")])
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("encore"))
    asyncio.run(store.save(tracker))
    again = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    events = asyncio.run(again.retrieve("visitor")).events
    assert [e.text for e in events if isinstance(e, UserUttered)] == ["bonjour", "encore"]


def test_event_classes_are_found_by_name_as_rasa_finds_them():
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    for cls in all_subclasses(Event):
        first = next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is first
    assert Event.resolve_by_type("topic") is None  # Rasa's compatibility with old TopicSet events
    assert Event.resolve_by_type("inconnu", default=Event) is Event
    with pytest.raises(ValueError):
        Event.resolve_by_type("inconnu")


def test_an_event_class_defined_later_is_found():
    from rasa.shared.core.events import Event, SlotSet

    assert Event.resolve_by_type("slot") is SlotSet  # the table is built

    class CoachingNote(SlotSet):
        type_name = "coaching_note_for_test"

    assert Event.resolve_by_type("coaching_note_for_test") is CoachingNote
    assert Event.from_parameters({"event": "coaching_note_for_test", "name": "x", "value": 1}) \
        == CoachingNote("x", 1)


def test_known_event_names_no_longer_walk_the_class_tree(monkeypatch):
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils import common

    Event.resolve_by_type("user")  # the table is built
    monkeypatch.setattr(common, "all_subclasses", lambda cls: pytest.fail("class tree walked"))
    assert Event.resolve_by_type("user") is UserUttered
