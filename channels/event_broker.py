"""Rasa's event brokers (SQL, RabbitMQ), publishing only what the funnel needs.

The back office's funnel (markers/funnel.yml, bot/backoffice/funnel.py) reads which intents
were detected, which actions ran and which slots were set, in which session. Rasa's own
brokers publish every event whole: the visitor's words, Marc's, every slot's value, the
parse data. A contact form filled and then refused would then sit in the broker's database
although the tracker store redacts it (channels/tracker_store.py, ``forget_since``). So these
brokers publish a minimised copy of each event: its type, time, intent or action name, slot
name, and a slot's value only for the few slots that are progress, never personal
(:data:`VALUE_KEPT_SLOTS`); any other set slot is published as ``true``. No text, ever.

Configured in endpoints.yml (SQL, its own database: Rasa's table is also called ``events``,
which collides with the tracker store's) and endpoints.prod.yml (RabbitMQ)::

    event_broker:
      type: channels.event_broker.FunnelSQLEventBroker
      dialect: sqlite
      db: var/events.sqlite3
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.brokers.sql import SQLEventBroker

VALUE_KEPT_SLOTS = ("coaching_step", "coaching_status", "requested_slot")
KEPT_EVENT_FIELDS = ("sender_id", "event", "timestamp")


def minimised(event: Dict[str, Any]) -> Dict[str, Any]:
    """The event as the funnel needs it (see the module docstring)."""
    kept = {k: event[k] for k in KEPT_EVENT_FIELDS if k in event}
    kind = event.get("event")
    if kind == "user":
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        kept["text"] = None
        kept["parse_data"] = {"intent": {"name": intent, "confidence": 1.0}, "entities": []}
    elif kind in ("action", "active_loop", "followup"):
        kept["name"] = event.get("name")
    elif kind == "slot":
        name, value = event.get("name"), event.get("value")
        kept["name"] = name
        kept["value"] = value if name in VALUE_KEPT_SLOTS or value is None else True
    return kept


class FunnelSQLEventBroker(SQLEventBroker):
    """Rasa's SQL broker (table ``events``: id, sender_id, data), minimised events."""

    def publish(self, event: Dict[str, Any]) -> None:
        super().publish(minimised(event))


class FunnelPikaEventBroker(PikaEventBroker):
    """Rasa's RabbitMQ broker (fanout exchange, durable queues), minimised events."""

    def publish(self, event: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        super().publish(minimised(event), headers)
