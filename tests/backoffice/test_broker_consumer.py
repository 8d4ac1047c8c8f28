"""`sip-coach events consume`: RabbitMQ (the production profile's event broker) → the events
table the funnel reads; a message that is not a JSON event is dropped, never blocks the queue."""
from __future__ import annotations

import json
import os
import uuid

import pytest

from bot.backoffice.broker_consumer import consume_from_env
from bot.backoffice.funnel import read_events

RABBITMQ_URL = os.environ.get("PROD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture
def queue():
    import pika

    try:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL + "?connection_attempts=1&socket_timeout=5"))
    except pika.exceptions.AMQPError as exc:
        message = f"RabbitMQ is not reachable ({type(exc).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: never skipped)")
        pytest.skip(message)
    channel = connection.channel()
    name = f"coach_test_{uuid.uuid4().hex[:10]}"
    channel.queue_declare(name, durable=True)
    yield channel, name
    channel.queue_delete(name)
    connection.close()


def test_events_published_on_rabbitmq_land_in_the_events_table(queue, tmp_path):
    channel, name = queue
    events = [
        {"sender_id": "s1", "event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"sender_id": "s1", "event": "user", "text": None, "timestamp": 2.0,
         "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}},
    ]
    channel.basic_publish("", name, b"pas du json")
    for event in events:
        channel.basic_publish("", name, json.dumps(event).encode())
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    env = {"EVENTS_DB_URL": url, "RABBITMQ_URL": RABBITMQ_URL}
    assert consume_from_env(queue=name, max_messages=2, env=env) == 2
    assert read_events(url) == {"s1": events}
    assert channel.queue_declare(name, durable=True, passive=True).method.message_count == 0  # all acknowledged
