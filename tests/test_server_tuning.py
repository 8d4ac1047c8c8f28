"""The Rasa-server tuning keeps Rasa's checks identical and puts SQLite in WAL mode."""
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


def test_sqlite_connections_use_wal(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_postgresql_tracker_store_connections_are_checked_before_use():
    from rasa.core import tracker_store
    from channels import server_tuning
    server_tuning.apply()
    kwargs = tracker_store.create_engine_kwargs("postgresql://coach@localhost/tracker")
    assert kwargs["pool_pre_ping"] is True and "pool_size" in kwargs  # Rasa's own settings kept
    assert tracker_store.create_engine_kwargs("sqlite:///var/tracker.sqlite3") == {}
