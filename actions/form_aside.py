"""An aside mid-form (bot/forms.py): one line from Marc, then the same question again; or,
on « stop », the form paused with everything kept. Nothing said before is ever lost here."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import booking, coaching, contact, diagnostic
from actions.common import coach, latest_intent, latest_text, send
from bot.diagnostic.dialogue import key_for
from bot.forms import aside_kind

LINES = {
    "goodbye": "form_aside_goodbye", "thanks": "form_aside_thanks", "unclear": "form_aside_unclear",
    "question": "form_aside_question", "wait": "form_aside_wait",
}


def ask_again(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> None:
    """The question on screen, asked again by its own ask action."""
    requested = tracker.get_slot("requested_slot") or ""
    if requested == booking.SLOT:
        booking.AskBookingSlot().run(dispatcher, tracker, domain)
    elif requested == booking.MODE:
        booking.AskBookingMode().run(dispatcher, tracker, domain)
    elif requested == "contact_consent":
        contact.AskConsent().run(dispatcher, tracker, domain)
    elif requested.startswith("contact_"):
        contact.ASK_ACTIONS[requested[len("contact_"):]]().run(dispatcher, tracker, domain)
    elif key_for(requested):
        diagnostic.ASK_ACTIONS[key_for(requested)]().run(dispatcher, tracker, domain)


class ActionFormAside(Action):
    def name(self) -> Text:
        return "action_form_aside"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        kind = aside_kind(latest_text(tracker), latest_intent(tracker))
        loop = (tracker.active_loop or {}).get("name")
        if kind == "restart":  # « je veux tout reprendre à zéro »
            return await coaching.ActionRestart().run(dispatcher, tracker, domain)
        if kind == "stop" and loop == booking.FORM:
            return booking.ActionPauseBooking().run(dispatcher, tracker, domain)
        if kind == "stop":
            pause = contact.ActionPauseContact() if loop == contact.FORM else diagnostic.ActionPauseDiagnostic()
            return await pause.run(dispatcher, tracker, domain) if loop == contact.FORM \
                else pause.run(dispatcher, tracker, domain)
        if kind == "why":  # « pourquoi vous me demandez ça ? »: the question's own reason
            diagnostic.ActionExplainQuestion().run(dispatcher, tracker, domain)
        else:
            send(dispatcher, tracker, coach().line(LINES[kind]))
        ask_again(dispatcher, tracker, domain)
        return []
