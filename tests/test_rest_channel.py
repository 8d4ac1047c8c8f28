"""The hardened REST channel's own decisions, its handler called directly (no server)."""
from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace

import pytest

from bot.knowledge import load_knowledge
from channels.rest import CoachRestInput, as_text_unless_payload, max_turns


class FakeStore:
    def __init__(self, turns: int) -> None:
        self.count = turns

    def turns(self, sender_id: str) -> int:
        return self.count


def webhook_handler(received: list):
    async def on_new_message(message):
        received.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "Réponse de Marc")

    blueprint = CoachRestInput().blueprint(on_new_message)
    return next(r.handler for r in blueprint._future_routes if r.uri == "/webhook")


def request(body: dict, turns: int = 0, content_type: str = "application/json"):
    agent = SimpleNamespace(tracker_store=SimpleNamespace(_tracker_store=FakeStore(turns)))
    return SimpleNamespace(json=body, content_type=content_type, app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)))


def call(handler, req):
    answer = asyncio.run(handler(req))
    return answer.status, json.loads(answer.body)


def test_a_conversation_past_its_turn_limit_is_told_how_to_start_afresh(monkeypatch):
    monkeypatch.setenv("CONVERSATION_MAX_TURNS", "50")
    received = []
    handler = webhook_handler(received)
    sender = str(uuid.uuid4())
    status, body = call(handler, request({"sender": sender, "message": "la suite"}, turns=49))
    assert status == 200 and body[0]["text"] == "Réponse de Marc" and received == ["la suite"]
    status, body = call(handler, request({"sender": sender, "message": "la suite"}, turns=50))
    assert status == 200 and [m["text"] for m in body] == list(load_knowledge().line("conversation_too_long"))
    assert received == ["la suite"]  # not handled


def test_only_json_is_read():
    handler = webhook_handler([])
    status, body = call(handler, request({"sender": str(uuid.uuid4()), "message": "x"}, content_type="text/plain"))
    assert status == 415 and "application/json" in body["error"]


@pytest.mark.parametrize("typed, read", [
    ("/greet", "/greet"),
    ("/karim@example.org", "karim@example.org"),
    ("/ Jeanne Martin", "Jeanne Martin"),
    ('/greet{"email": "lea@example.org"}', "/greet"),
    ("/inconnue", "inconnue"),
    ("bonjour /x", "bonjour /x"),
])
def test_a_slash_message_is_a_payload_only_for_the_domain_s_intents(typed, read):
    assert as_text_unless_payload(typed) == read


def test_max_turns_defaults_to_1000():
    assert max_turns({}) == 1000 and max_turns({"CONVERSATION_MAX_TURNS": "x"}) == 1000
    assert max_turns({"CONVERSATION_MAX_TURNS": "20"}) == 20
