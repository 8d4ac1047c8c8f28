"""Build rasa-sdk Trackers for action tests without a Rasa server."""
from __future__ import annotations

import asyncio
import inspect
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def make_tracker(
    intent: str = "greet",
    text: str = "bonjour",
    slots: Optional[dict[str, Any]] = None,
    ranking: Optional[list[dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    sender_id: str = "visitor-1",
    events: Optional[list[dict[str, Any]]] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [],
    }
    return Tracker(
        sender_id=sender_id,
        slots={"coaching_step": -1.0, "coaching_status": "idle", **(slots or {})},
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run_action(action, tracker: Tracker, domain: Optional[dict] = None):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain or {})
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return dispatcher.messages, result


def slot_events(events) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
