"""The diagnostic form's actions: free answers in, slots and Marc's words out."""
import asyncio

import pytest

from actions.diagnostic import (
    ASK_ACTIONS,
    ActionDiagnosticVerdict,
    ActionExplainQuestion,
    ActionPauseDiagnostic,
    ActionStartDiagnostic,
    ValidateDiagnosticForm,
)
from bot.diagnostic import QUESTION_KEYS, load_questionnaire
from bot.diagnostic.dialogue import REQUIRED_SLOTS
from bot.knowledge import load_knowledge
from tests.actions.helpers import make_tracker, run_action, slot_events

K = load_knowledge()
Q = load_questionnaire()


def validate(requested, text, intent="affirm", **slots):
    tracker = make_tracker(intent, text, slots={"requested_slot": requested, **slots}, active_loop="diagnostic_form")
    slots = slot_events(asyncio.run(ValidateDiagnosticForm().run(None, tracker, {})))
    slots.pop("diag_words", None)  # checked on its own below
    return slots


def test_the_visitors_own_words_are_kept_with_a_typed_answer_not_with_a_button():
    tracker = make_tracker("affirm", "j'espère... disons que lui est moins motivé que moi",
                           slots={"requested_slot": "diag_shared_desire", "diag_words": {"autonomy": "oui"}},
                           active_loop="diagnostic_form")
    slots = slot_events(asyncio.run(ValidateDiagnosticForm().run(None, tracker, {})))
    assert slots["diag_shared_desire"] == "partly"
    assert slots["diag_words"] == {"autonomy": "oui", "shared_desire": "j'espère... disons que lui est moins motivé que moi"}
    clicked = make_tracker("affirm", "Oui", slots={"requested_slot": "diag_balance"}, active_loop="diagnostic_form")
    assert "diag_words" not in slot_events(asyncio.run(ValidateDiagnosticForm().run(None, clicked, {})))


@pytest.mark.parametrize("requested, text, intent, expected", [
    ("diag_relationship", "Un partenaire", "affirm", {"diag_relationship": "partnership"}),
    ("diag_relationship", "c'est mon fournisseur", "out_of_scope", {"diag_relationship": "supplier"}),
    ("diag_contract", "on a signé un accord cadre", "ask_pillars", {"diag_contract": "yes"}),
    ("diag_contract", "rien d'écrit pour l'instant", "deny", {"diag_contract": "no"}),
    ("diag_balance", "c'est plutôt lui qui décide de tout", "out_of_scope", {"diag_balance": "no"}),
    ("diag_autonomy", "ben oui évidemment", "affirm", {"diag_autonomy": "yes"}),
    ("diag_autonomy", "Je ne sais pas", "deny", {"diag_autonomy": "unknown"}),
])
def test_free_answers_fill_the_question_asked(requested, text, intent, expected):
    events = validate(requested, text, intent)
    assert {k: v for k, v in events.items() if k != "diag_rephrased"} == expected


def test_a_question_to_marc_is_not_taken_as_an_answer():
    assert validate("diag_contract", "c'est quoi un contrat de partenariat ?", "ask_pillars") == {}


@pytest.mark.parametrize("intent", ["stop_session", "why_asked", "restart", "start_coaching"])
def test_steering_intents_leave_the_form_to_the_rules(intent):
    assert validate("diag_balance", "peu importe", intent) == {}


def test_a_goodbye_intent_never_takes_an_answer_away():
    assert validate("diag_piloting", "oui un point par mois, au revoir", "goodbye")["diag_piloting"] == "yes"


def test_an_unclear_answer_is_asked_again_once_then_recorded_unknown():
    first = validate("diag_balance", "blablabla", "out_of_scope")
    assert first == {"diag_rephrased": "balance"}
    second = validate("diag_balance", "blablabla", "out_of_scope", diag_rephrased="balance")
    assert second == {"diag_balance": "unknown", "diag_rephrased": None}


def test_ask_actions_exist_for_every_question_with_quick_replies():
    assert sorted(ASK_ACTIONS) == sorted(QUESTION_KEYS)
    messages, _ = run_action(ASK_ACTIONS["contract"](), make_tracker())
    assert Q.question("contract").prompt in messages[0]["text"]
    assert "Question 10 sur 12" in messages[0]["text"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["Oui", "En partie", "Non", "Je ne sais pas"]


def test_the_rephrased_question_is_used_after_an_unclear_answer():
    messages, _ = run_action(ASK_ACTIONS["balance"](), make_tracker(slots={"diag_rephrased": "balance"}))
    assert Q.question("balance").rephrase in messages[0]["text"]


def test_why_explains_the_question_being_asked():
    messages, _ = run_action(ActionExplainQuestion(), make_tracker("why_asked", slots={"requested_slot": "diag_balance"}))
    assert messages[0]["text"] == Q.question("balance").why


def test_start_introduces_resumes_or_starts_afresh():
    messages, events = run_action(ActionStartDiagnostic(), make_tracker("start_diagnostic"))
    assert messages[0]["text"] == K.lines["diagnostic_intro"][0] and events == []
    messages, events = run_action(ActionStartDiagnostic(), make_tracker("start_diagnostic", slots={"diag_relationship": "client"}))
    assert messages[0]["text"] == K.lines["diagnostic_resume"][0] and events == []
    done = {slot: "yes" for slot in REQUIRED_SLOTS}
    messages, events = run_action(ActionStartDiagnostic(), make_tracker("start_diagnostic", slots=done))
    assert messages[0]["text"] == K.lines["diagnostic_again"][0]
    assert all(value is None for value in slot_events(events).values())


def test_pause_leaves_the_form_and_keeps_the_answers():
    messages, events = run_action(ActionPauseDiagnostic(), make_tracker("stop_session", slots={"diag_relationship": "client"}))
    assert messages[0]["text"] == K.lines["diagnostic_paused"][0]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert "diag_relationship" not in slot_events(events)


def test_verdict_sends_the_message_the_picture_and_the_offer():
    slots = {slot: "yes" for slot in REQUIRED_SLOTS}
    slots.update(diag_relationship="partnership", diag_contract="no", diag_balance="partly")
    messages, events = run_action(ActionDiagnosticVerdict(), make_tracker(slots=slots))
    verdict = messages[0]
    assert verdict["custom"]["type"] == "diagnostic"
    assert verdict["custom"]["missing_pillars"] == ["balance", "contract"]
    assert verdict["custom"]["verdict"] == "wobbly"
    assert messages[-1]["text"] == K.lines["diagnostic_offer"][0]
    assert "/request_contact" in [b["payload"] for b in messages[-1]["buttons"]]
    assert slot_events(events)["diag_result"]["verdict"] == "wobbly"


@pytest.mark.parametrize("title, value", [("Je ne sais pas", "unknown"), ("En partie", "partly"), ("Non", "no")])
def test_a_quick_reply_is_an_answer_whatever_the_nlu_thought(title, value):
    assert validate("diag_balance", title, "want_to_ask") == {"diag_balance": value, "diag_rephrased": None}
