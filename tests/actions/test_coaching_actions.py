"""The coaching actions translate faithfully between Rasa trackers and bot/coaching.py."""
from actions.coaching import ActionContinue, ActionGoodbye, ActionGreet, ActionRestart, ActionStartCoaching, ActionStop
from actions.questions import ActionAnswerQuestion, ActionClarify, ActionSmallTalk
from bot.knowledge import load_knowledge
from bot.text import MAX_MESSAGE_CHARS
from tests.actions.helpers import make_tracker, run_action, slot_events

K = load_knowledge()


def test_greet_sends_bubbles_with_buttons_under_the_last_one():
    messages, events = run_action(ActionGreet(), make_tracker())
    assert [m["text"] for m in messages] == list(K.lines["greet"])
    assert messages[0]["buttons"] == []
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/start_coaching", "/start_diagnostic", "/want_to_ask"]
    assert events == []


def test_start_then_continue_moves_the_step_slot():
    messages, events = run_action(ActionStartCoaching(), make_tracker("start_coaching"))
    assert [m["text"] for m in messages] == list(K.steps[0].messages)
    assert slot_events(events) == {"coaching_step": 0.0, "coaching_status": "in_progress"}
    tracker = make_tracker("continue", slots={"coaching_step": 0.0, "coaching_status": "in_progress"})
    messages, events = run_action(ActionContinue(), tracker)
    assert [m["text"] for m in messages] == list(K.steps[1].messages)
    assert slot_events(events) == {"coaching_step": 1.0}


def test_stop_and_goodbye_pause_a_running_session():
    running = {"coaching_step": 3.0, "coaching_status": "in_progress"}
    _, events = run_action(ActionStop(), make_tracker("stop_session", slots=running))
    assert slot_events(events) == {"coaching_status": "paused"}
    messages, events = run_action(ActionGoodbye(), make_tracker("goodbye", slots=running))
    assert slot_events(events) == {"coaching_status": "paused"}
    assert "06 34 22 31 71" in messages[-1]["text"]


def test_restart_resets_the_tracker_and_shows_the_menu():
    messages, events = run_action(ActionRestart(), make_tracker("restart"))
    assert events == [{"event": "restart", "timestamp": None}]
    assert messages[0]["text"] == K.lines["restart"][0]
    assert messages[-1]["buttons"]


def test_answer_reads_the_topic_from_the_intent():
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker("ask_piloting", "piloter ?"))
    assert messages[0]["text"] == K.topics["piloting"].messages[0]


def test_small_talk_out_of_scope():
    messages, _ = run_action(ActionSmallTalk(), make_tracker("out_of_scope", "la météo ?"))
    assert [m["text"] for m in messages] == list(K.lines["out_of_scope"])


def test_clarify_offers_the_likeliest_topics_from_the_ranking():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "ask_pillars", "confidence": 0.40},
        {"name": "ask_pillars_not_enough", "confidence": 0.38},
        {"name": "greet", "confidence": 0.1},
    ]
    messages, _ = run_action(ActionClarify(), make_tracker("nlu_fallback", "les pieds de la table", ranking=ranking))
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/ask_pillars", "/ask_pillars_not_enough", "/want_to_ask"]


def test_clarify_on_an_empty_message_asks_for_one():
    messages, _ = run_action(ActionClarify(), make_tracker("nlu_fallback", "   "))
    assert messages[0]["text"] == K.lines["empty"][0]


def test_a_long_message_is_acknowledged_before_the_answer():
    long_text = "x" * MAX_MESSAGE_CHARS
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker("ask_pillars", long_text))
    assert messages[0]["text"] == K.lines["too_long"][0]
    assert messages[1]["text"] == K.topics["pillars"].messages[0]
