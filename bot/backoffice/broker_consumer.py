"""``sip-coach events consume``: the production profile's RabbitMQ queue → ``EVENTS_DB_URL``.

Rasa publishes each (minimised, channels/event_broker.py) event on a fanout exchange bound to
the durable queue ``RABBITMQ_QUEUE`` (default ``coach_events``); this consumer writes each one
into the same ``events`` table (id, sender_id, data) the SQL broker of the default profile
writes, so the funnel reads one shape in both profiles. A message is acknowledged only once
its row is committed: a crash re-delivers it rather than losing it.

``RABBITMQ_URL`` defaults to ``amqp://guest:guest@127.0.0.1:5672/%2F``.
"""
from __future__ import annotations

import json
import logging
import os
import signal
from typing import Mapping, Optional


from bot.backoffice.funnel import broker_events, broker_metadata
from bot.backoffice.settings import BackofficeSettings
from bot.leads.db import make_engine

log = logging.getLogger(__name__)
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_QUEUE = "coach_events"


def store_event(connection, body: bytes) -> bool:  # noqa: ANN001
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(event, dict):
        return False
    sender_id = str(event.get("sender_id") or "")[:255]
    connection.execute(broker_events.insert().values(sender_id=sender_id, data=json.dumps(event, ensure_ascii=False)))
    return True


def consume_from_env(
    queue: Optional[str] = None, max_messages: Optional[int] = None, env: Optional[Mapping[str, str]] = None,
) -> int:
    import pika

    env = os.environ if env is None else env
    queue = queue or env.get("RABBITMQ_QUEUE") or DEFAULT_QUEUE
    engine = make_engine(BackofficeSettings.from_env(env).events_db_url)
    broker_metadata.create_all(engine)
    parameters = pika.URLParameters(env.get("RABBITMQ_URL") or DEFAULT_URL)
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)  # as Rasa declares it
    channel.basic_qos(prefetch_count=100)
    stored = 0
    stopping = False

    def stop(*_args) -> None:  # noqa: ANN002
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        for method, _properties, body in channel.consume(queue, inactivity_timeout=1.0):
            if stopping:
                break
            if method is None:  # a quiet second: check for SIGTERM, wait again
                continue
            with engine.begin() as db:
                if store_event(db, body):
                    stored += 1
                else:
                    log.warning("event broker: a message that is not a JSON event was dropped")
            channel.basic_ack(method.delivery_tag)
            if max_messages is not None and stored >= max_messages:
                break
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            channel.cancel()
            connection.close()
        finally:
            engine.dispose()
    return stored
