"""What every action needs: the session state from slots, and a `Reply` sent to the visitor."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.coaching import FINISHED, Coach, SessionState
from bot.repetition import hint_key, is_repeat, previous_turn
from bot.replies import Button, Reply
from bot.typography import french_spacing
from bot.text import is_too_long

STEP_SLOT = "coaching_step"
QUESTIONS_KEY = "questions"  # set by nlu_components/linear_intent_classifier.py
STATUS_SLOT = "coaching_status"


@lru_cache(maxsize=1)
def coach() -> Coach:
    """One Coach per process: the content file is read and validated once, at first use."""
    return Coach()


def session_state(tracker: Tracker) -> SessionState:
    return SessionState.from_slots(tracker.get_slot(STEP_SLOT), tracker.get_slot(STATUS_SLOT))


def session_events(before: SessionState, after: SessionState) -> List[Dict[str, Any]]:
    events = []
    if after.last_step != before.last_step:
        events.append(SlotSet(STEP_SLOT, float(after.last_step)))
    if after.status != before.status:
        events.append(SlotSet(STATUS_SLOT, after.status))
        if after.status == FINISHED:  # a milestone of the funnel (markers/funnel.yml)
            events.append(SlotSet("funnel_coaching_finished", True))
    return events


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def idle_seconds(tracker: Tracker) -> Optional[float]:
    """Seconds between the visitor's previous message and this one (None: first message)."""
    times = [e.get("timestamp") for e in tracker.events if e.get("event") == "user"][-2:]
    if len(times) < 2 or None in times:
        return None
    return float(times[1]) - float(times[0])


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def intents_asked(tracker: Tracker) -> list[str]:
    """The intents of a message that asks several things, in order (else empty)."""
    intents = (tracker.latest_message or {}).get(QUESTIONS_KEY) or []
    return [i for i in intents if isinstance(i, str)]


def _first_reply_of_the_turn(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Nothing said yet since the visitor's message, by this action or an earlier one."""
    if dispatcher.messages:
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "bot":
            return False
    return True


def answers_asked_with_the_request(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Reply]:
    """« c'est quoi les piliers ? et vous pouvez évaluer mon projet ? »: the message's intent is
    the request (its rule runs); the questions that came with it are answered first, in the
    turn's first bubbles, whichever action speaks first."""
    intents = intents_asked(tracker)
    intent = latest_intent(tracker)
    if len(intents) < 2 or intent not in intents or intent.startswith("ask_"):
        return None
    if not _first_reply_of_the_turn(dispatcher, tracker):
        return None
    others = [i for i in intents if i != intent]
    if intent == "book_meeting":  # the free slots come with the number and the site already
        others = [i for i in others if i != "ask_contact_info"]
    return coach().answers_before_request(others)


def typeset(reply: Reply) -> Reply:
    return Reply(
        tuple(french_spacing(m) for m in reply.messages),
        tuple(Button(french_spacing(b.title), b.payload) for b in reply.buttons),
        reply.custom,
    )


def send(dispatcher: CollectingDispatcher, tracker: Tracker, reply: Reply) -> None:
    """One bubble per message, the buttons (and any custom payload) under the last one. The
    same message twice never gets the same bubbles twice (bot/repetition.py)."""
    questions_first = answers_asked_with_the_request(dispatcher, tracker)
    if questions_first is not None:
        reply = questions_first.then(reply)
    reply = typeset(reply)  # French spacing on every line, Python-made ones too (bot/typography.py)
    previous_message, previous_reply, message = previous_turn(tracker.events)
    if is_repeat(previous_message, previous_reply, message, reply):
        form = (tracker.active_loop or {}).get("name")
        reply = Reply(coach().line(hint_key(reply, form)).messages, reply.buttons, reply.custom)
    if is_too_long(latest_text(tracker)):
        reply = coach().line("too_long").then(reply)
    buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
    last = len(reply.messages) - 1
    for index, message in enumerate(reply.messages):
        if index == last:
            dispatcher.utter_message(text=message, buttons=buttons, json_message=reply.custom)
        else:
            dispatcher.utter_message(text=message)
