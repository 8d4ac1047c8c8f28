"""The configuration files `make run` uses, read the way Rasa reads them."""
import os
from pathlib import Path

import pytest
from rasa.utils.endpoints import read_endpoint_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_action_endpoint_follows_ACTIONS_PORT(monkeypatch):
    monkeypatch.setenv("ACTIONS_PORT", "6123")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint.url == "http://127.0.0.1:6123/webhook"


def test_the_default_tracker_store_is_sqlite_under_var():
    store = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    assert store.type == "SQL" and store.kwargs["dialect"] == "sqlite"
    assert store.kwargs["db"] == "var/tracker.sqlite3"


def test_the_rest_channel_is_ours_under_the_standard_name():
    text = (ROOT / "credentials.yml").read_text()
    assert "channels.rest.CoachRestInput" in text
    from channels.rest import CoachRestInput
    assert CoachRestInput.name() == "rest"   # so the URL stays /webhooks/rest/webhook
