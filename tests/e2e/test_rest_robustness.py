"""Bad and hostile input on the REST channel, and the action server going away."""
import json
import uuid

import pytest

from bot.knowledge import load_knowledge

pytestmark = pytest.mark.e2e
K = load_knowledge()


def sender() -> str:
    return f"robust-{uuid.uuid4()}"


@pytest.mark.parametrize("body", [
    b"[]", b"{}", b"42", b'"bonjour"', b"null", b"{not json", b"",
    json.dumps({"sender": "x"}).encode(),
    json.dumps({"message": "bonjour"}).encode(),
    json.dumps({"sender": 12, "message": "bonjour"}).encode(),
    json.dumps({"sender": "a b c <script>", "message": "bonjour"}).encode(),
    json.dumps({"sender": "x" * 500, "message": "bonjour"}).encode(),
    json.dumps({"sender": "ok-id", "message": ["liste"]}).encode(),
    json.dumps({"sender": "ok-id", "message": {"texte": 1}}).encode(),
])
def test_malformed_bodies_get_a_french_400_never_a_500(live_stack, body):
    status, raw = live_stack.post_raw(body)
    assert status == 400
    assert json.loads(raw)["error"].startswith("Requête invalide")


@pytest.mark.parametrize("message", ["", "   ", "\n\t  \n"])
def test_empty_messages_get_a_polite_answer(live_stack, message):
    reply = live_stack.chat(sender(), message)
    assert [m["text"] for m in reply] == list(K.lines["empty"])


@pytest.mark.parametrize("message", [
    "bonjour\x00\x01\x02\x1b[31m",
    "😀🤝💼 partenariat ?",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE events; --",
    "{{ 7*7 }} ${7*7} #{7*7} {0.__class__} %s%s%s%n",
    "\u202e\u200b\ufeff zéro largeur",
    # Long, yet under the 64 KiB body limit (bigger bodies: the French 413,
    # test_rest_forms_and_trust.py); the JSON escapes « é » as 6 bytes.
    "x" * 60_000,
    "é" * 10_000,
])
def test_hostile_messages_are_answered_in_french_and_change_nothing(live_stack, message):
    visitor = sender()
    reply = live_stack.chat(visitor, message, timeout=120)
    assert reply and all(m.get("recipient_id") == visitor for m in reply)
    assert any(m.get("text") for m in reply)
    # The server is still healthy and the conversation still works.
    follow_up = live_stack.chat(visitor, "C'est quoi les quatre piliers ?")
    assert follow_up[0]["text"] == K.topics["pillars"].messages[0]


def test_the_action_server_going_down_gives_an_apology_then_recovers(live_stack):
    visitor = sender()
    live_stack.chat(visitor, "/start_coaching")
    live_stack.stop_actions()
    try:
        reply = live_stack.chat(visitor, "/continue")
        assert [m["text"] for m in reply] == list(K.lines["action_error"])
    finally:
        live_stack.start_actions()
    again = live_stack.chat(visitor, "/continue")
    assert again and again[0].get("text")


def test_a_conversation_survives_a_rasa_server_restart(live_stack):
    """The default tracker store is SQLite: the session's place is not lost with the process."""
    visitor = sender()
    live_stack.chat(visitor, "/start_coaching")
    live_stack.chat(visitor, "/continue")                      # step 2 shown
    live_stack.restart_rasa()
    reply = live_stack.chat(visitor, "/continue", timeout=120)
    assert [m["text"] for m in reply] == list(K.steps[2].messages)
