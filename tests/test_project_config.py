"""The configuration files `make run` uses, read the way Rasa reads them."""
import os
from pathlib import Path

import pytest
from rasa.utils.endpoints import read_endpoint_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def actions_secret(monkeypatch):
    """make run draws it; Rasa refuses to read the endpoints without it."""
    monkeypatch.setenv("ACTIONS_SECRET", "s3cret-s3cret-s3cret")


def test_the_action_endpoint_follows_ACTIONS_PORT_and_shows_the_secret(monkeypatch):
    monkeypatch.setenv("ACTIONS_PORT", "6123")
    monkeypatch.setenv("ACTIONS_SECRET", "s3cret-s3cret-s3cret")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint.url == "http://127.0.0.1:6123/webhook"
    assert endpoint.headers == {"X-Actions-Secret": "s3cret-s3cret-s3cret"}
    assert "X-Actions-Secret: ${ACTIONS_SECRET}" in (ROOT / "endpoints.prod.yml").read_text()


def test_the_default_tracker_store_is_sqlite_under_var():
    store = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    assert store.type == "channels.tracker_store.LeanSQLTrackerStore" and store.kwargs["dialect"] == "sqlite"
    assert store.kwargs["db"] == "var/tracker.sqlite3"


def test_the_rest_channel_is_ours_under_the_standard_name():
    text = (ROOT / "credentials.yml").read_text()
    assert "channels.rest.CoachRestInput" in text
    from channels.rest import CoachRestInput
    assert CoachRestInput.name() == "rest"   # so the URL stays /webhooks/rest/webhook


def test_rasa_builds_our_sql_tracker_store_from_both_profiles(monkeypatch, tmp_path):
    """A tracker store class Rasa cannot import silently becomes an in-memory store."""
    from rasa.core.tracker_store import create_tracker_store
    from rasa.shared.core.domain import Domain
    from channels.tracker_store import LeanSQLTrackerStore

    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    store = create_tracker_store(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"), Domain.empty())
    while hasattr(store, "_tracker_store"):  # Rasa's wrappers (awaitable, fail-safe)
        store = store._tracker_store
    assert isinstance(store, LeanSQLTrackerStore)
    import re
    for name in set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.prod.yml").read_text())):
        monkeypatch.setenv(name, "1")
    prod = read_endpoint_config(str(ROOT / "endpoints.prod.yml"), "tracker_store")
    assert prod.type == "channels.tracker_store.LeanSQLTrackerStore" and prod.kwargs["dialect"] == "postgresql"
