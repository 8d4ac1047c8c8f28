"""A new session (the visitor came back after `session_expiration_time`): carry the coaching
and diagnostic state over, never the contact form.

Rasa's own `action_session_start` copies every slot into the new session. The contact
form's values are personal data given without consent yet: an unfinished form is forgotten
(its messages redacted in the tracker store), and a finished one (a lead was stored) is not
carried either, so nothing personal is replayed to whoever resumes the conversation.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.contact import REQUESTED_SLOT, contact_slots, forget_personal_data
from bot.contact import SLOT_PREFIX, has_personal_data, slot_for
from bot.leads.transcript import FORGET_SLOT

# The funnel's milestones (markers/funnel.yml) count in the session where they happened only.
FUNNEL_SLOT_PREFIX = "funnel_"
NOT_CARRIED_PREFIXES = (SLOT_PREFIX, REQUESTED_SLOT, FORGET_SLOT, FUNNEL_SLOT_PREFIX)


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        slots = contact_slots(tracker)
        forget = []
        if has_personal_data(slots) and slots.get(slot_for("consent")) != "yes":
            forget = forget_personal_data(tracker, dispatcher)
        carried = [
            SlotSet(name, value) for name, value in tracker.slots.items()
            if value is not None and not name.startswith(NOT_CARRIED_PREFIXES)
        ]
        return [*forget, SessionStarted(), *carried, ActionExecuted("action_listen")]
