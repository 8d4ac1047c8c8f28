"""The diagnostic form: asks the twelve questions, reads free answers, gives the verdict.

What an answer means is decided in `bot/diagnostic/dialogue.py`; the verdict in
`bot/diagnostic/engine.py`. Here we only move slots and messages.
"""
from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import coach, latest_intent, latest_text, send
from bot.answers import warm_up
from bot.diagnostic import evaluate, load_questionnaire
from bot.diagnostic.dialogue import (
    ANSWER,
    REPHRASE,
    REPHRASED_SLOT,
    REQUIRED_SLOTS,
    answers_from_slots,
    is_complete,
    is_started,
    key_for,
    own_words,
    prompt_for,
    read_turn,
    slot_for,
)
from bot.diagnostic.keys import QUESTION_KEYS
from bot.replies import Button, Reply

FORM = "diagnostic_form"
REQUESTED_SLOT = "requested_slot"
RESULT_SLOT = "diag_result"
WORDS_SLOT = "diag_words"

# Load spaCy and compile the answer cues while the server starts, not on a visitor's first answer.
threading.Thread(target=warm_up, name="answers-warm-up", daemon=True).start()


def _diagnostic_slots(tracker: Tracker) -> Dict[str, Optional[str]]:
    return {slot: tracker.get_slot(slot) for slot in REQUIRED_SLOTS}


class ValidateDiagnosticForm(FormValidationAction):
    """Fills only the question being asked, from whatever the visitor typed or clicked."""

    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        key = key_for(tracker.get_slot(REQUESTED_SLOT))
        if key is None:
            return []
        # spaCy parsing is CPU work: keep it off the event loop so other visitors are served.
        turn = await asyncio.to_thread(
            read_turn, key, latest_text(tracker), latest_intent(tracker),
            tracker.get_slot(REPHRASED_SLOT) == key,
        )
        if turn.kind == ANSWER:
            events = [SlotSet(slot_for(key), turn.value), SlotSet(REPHRASED_SLOT, None)]
            words = own_words(key, latest_text(tracker))
            if words:  # kept with the answer: the consultant reads « oui — "…" »
                events.append(SlotSet(WORDS_SLOT, {**(tracker.get_slot(WORDS_SLOT) or {}), key: words}))
            return events
        if turn.kind == REPHRASE:
            return [SlotSet(REPHRASED_SLOT, key)]
        return []  # not an answer: the form is rejected and the rules answer the visitor


class AskDiagnosticQuestion(Action, ABC):
    """`action_ask_diag_<key>`: Marc's question, or its rephrasing after an unclear answer."""

    @property
    @abstractmethod
    def key(self) -> str:
        """The question key (one subclass per question, made below)."""

    def name(self) -> Text:
        return f"action_ask_{slot_for(self.key)}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        prompt = prompt_for(self.key, rephrased=tracker.get_slot(REPHRASED_SLOT) == self.key)
        buttons = tuple(Button(title, payload) for title, payload in prompt.buttons)
        send(dispatcher, tracker, Reply((f"{prompt.progress} : {prompt.text}",), buttons))
        return []


# One ask action per question, named as Rasa expects (action_ask_diag_autonomy, ...); kept in
# a dict because rasa-sdk finds actions through `__subclasses__`, which holds them weakly.
ASK_ACTIONS = {
    key: type(f"ActionAskDiag_{key}", (AskDiagnosticQuestion,), {"key": key})
    for key in QUESTION_KEYS
}


class ActionStartDiagnostic(Action):
    """Before the form: introduce it, resume it, or start a fresh one after a finished one."""

    def name(self) -> Text:
        return "action_start_diagnostic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        slots = _diagnostic_slots(tracker)
        marc = coach()
        if is_complete(slots):
            send(dispatcher, tracker, marc.line("diagnostic_again"))
            return [SlotSet(slot, None) for slot in REQUIRED_SLOTS] + [SlotSet(REPHRASED_SLOT, None), SlotSet(WORDS_SLOT, None)]
        if is_started(slots):
            send(dispatcher, tracker, marc.line("diagnostic_resume"))
        else:
            send(dispatcher, tracker, marc.line("diagnostic_intro"))
        return []


class ActionExplainQuestion(Action):
    """"Pourquoi cette question ?": the question's reason, from the text; the form asks again."""

    def name(self) -> Text:
        return "action_explain_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        requested = tracker.get_slot(REQUESTED_SLOT) or ""
        key = key_for(requested)
        if requested.startswith("contact_"):
            send(dispatcher, tracker, coach().line("why_contact"))
        elif key is None:
            send(dispatcher, tracker, coach().line("why_asked_idle"))
        else:
            send(dispatcher, tracker, Reply((load_questionnaire().question(key).why,)))
        return []


class ActionPauseDiagnostic(Action):
    """"Stop" or "au revoir" mid-diagnostic: keep the answers, leave the form."""

    def name(self) -> Text:
        return "action_pause_diagnostic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        marc = coach()
        if latest_intent(tracker) == "goodbye":
            send(dispatcher, tracker, marc.line("goodbye"))
        else:
            send(dispatcher, tracker, marc.line("diagnostic_paused", ("resume_diagnostic", "question")))
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


class ActionDiagnosticVerdict(Action):
    """The verdict in Marc's words, the structured result for the widget, then the offer."""

    def name(self) -> Text:
        return "action_diagnostic_verdict"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        relationship, answers = answers_from_slots(_diagnostic_slots(tracker))
        words = {k: v for k, v in (tracker.get_slot(WORDS_SLOT) or {}).items() if k in QUESTION_KEYS}
        result = evaluate(relationship=relationship, answers=answers, words=words)
        marc = coach()
        verdict, *rest = result.messages
        send(dispatcher, tracker, Reply((verdict,), custom=result.to_payload()))  # the widget draws the table here
        send(dispatcher, tracker, Reply(tuple(rest)).then(marc.line("diagnostic_offer", ("book", "contact", "no_thanks"))))
        snapshot = result.to_dict()
        snapshot["words"] = words
        return [SlotSet(RESULT_SLOT, snapshot)]
