"""The contact form and the lead hand-off (bot/contact.py reads answers, bot/leads stores).

Database and network work runs in a worker thread (`asyncio.to_thread`): rasa-sdk serves all
conversations on one event loop, and a slow database must not stall the other visitors.
Personal data never goes to the logs; without consent it is not kept, not even in the
conversation history (the form's messages are redacted from the tracker store).
"""
from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import coach, idle_seconds, latest_intent, latest_text, send
from bot.contact import (
    CHOOSING,
    FIELD_LABELS,
    FIELDS,
    FIX_SLOT,
    NOTICE_RECAP,
    NOTICE_SHOWN,
    NOTICE_SLOT,
    REQUIRED_SLOTS,
    filled,
    form_ttl_seconds,
    has_personal_data,
    is_expired,
    read_contact_turn,
    recap_lines,
    slot_for,
)
from bot.booking.slots import parse_slot_key
from bot.leads.consent import get_notice
from bot.leads.service import LeadService, LeadSubmission, TooManySubmissions
from bot.leads.spool import LeadSpool, replay_in_background, spool_after_outage
from bot.leads.transcript import FORGET_SLOT
from bot.repetition import is_repeat, previous_turn
from bot.replies import Button, Reply

logger = logging.getLogger(__name__)

FORM = "contact_form"
REQUESTED_SLOT = "requested_slot"
LEAD_SLOT = "lead_id"
FUNNEL_CONSENTED = "funnel_consented"  # a milestone of markers/funnel.yml
# When the current contact form first started: what to forget from (kept while it is paused).
STARTED_SLOT = "contact_started_at"
BOOKING_SLOTS = ("booking_slot", "booking_mode", "booking_offered", "booking_wish", "booking_lead_in")

@lru_cache(maxsize=1)
def lead_service() -> LeadService:
    return LeadService.from_env()


def contact_slots(tracker: Tracker) -> Dict[str, Optional[str]]:
    slots = {slot: tracker.get_slot(slot) for slot in REQUIRED_SLOTS}
    slots[FIX_SLOT] = tracker.get_slot(FIX_SLOT)
    slots[NOTICE_SLOT] = tracker.get_slot(NOTICE_SLOT)
    return slots


def _clear_contact_slots() -> List[Dict[str, Any]]:
    return [SlotSet(slot, None) for slot in (*REQUIRED_SLOTS, FIX_SLOT, NOTICE_SLOT, STARTED_SLOT)]


def _form_started_at(tracker: Tracker) -> Optional[float]:
    """When the contact form was last activated: the start of what to redact."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            # A copy made when the session was rolled over remembers when the form started.
            copied = (event.get("metadata") or {}).get("coach_rollover") or {}
            return copied.get("original_timestamp") or event.get("timestamp")
    return None


# Tells the widget to clear its own copy of the conversation (web/widget.js keeps one in
# localStorage): what the visitor typed without consenting leaves the browser too.
FORGET_PAYLOAD = {"type": "forget"}


def forget_personal_data(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    """The event that has the tracker store redact the contact form's messages once this turn
    is stored (channels/tracker_store.py): this turn's own message is not in the store yet.
    Sent first in the reply, the widget's signal to forget its copy as well. From the form's
    first start (`contact_started_at`: a paused then resumed form, or one carried over a
    rollover, has no activation event of its own left to find)."""
    started = tracker.get_slot(STARTED_SLOT) or _form_started_at(tracker)
    if started is None:
        return []
    dispatcher.utter_message(json_message=FORGET_PAYLOAD)
    return [SlotSet(FORGET_SLOT, started)]


def _offered_buttons(field_name: str, slots: Dict[str, Optional[str]]) -> tuple[str, ...]:
    """The button titles shown with the question being answered."""
    questions = coach().k.contact_questions
    if field_name == "consent":
        if slots.get(FIX_SLOT) == CHOOSING:
            return tuple(FIELD_LABELS[f] for f in FIELDS[:-1])
        return questions["summary"][1]
    key = "phone_optional" if field_name == "phone" and filled(slots, "email") else field_name
    return questions[key][1]


class ValidateContactForm(FormValidationAction):
    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        requested = tracker.get_slot(REQUESTED_SLOT) or ""
        field_name = requested[len("contact_"):] if requested.startswith("contact_") else None
        if field_name not in FIELDS:
            return []
        if is_expired(contact_slots(tracker), idle_seconds(tracker), form_ttl_seconds()):
            # Abandoned, then resumed (by the visitor, or by whoever has the id now): forget.
            forget = forget_personal_data(tracker, dispatcher)
            send(dispatcher, tracker, coach().line("contact_expired"))
            # The form asks the first field again (an empty requested slot would end it).
            return [*forget, *_clear_contact_slots()]
        turn = await asyncio.to_thread(
            read_contact_turn, field_name, latest_text(tracker), latest_intent(tracker), contact_slots(tracker),
            _offered_buttons(field_name, contact_slots(tracker)),
        )
        if not turn.is_answer:
            return []  # the form is rejected: the rules answer (a question, "stop"...)
        if turn.error:
            # The same wrong value again: a hint rather than the same error bubble.
            previous_message, previous_reply, message = previous_turn(tracker.events)
            if is_repeat(previous_message, previous_reply[:1], message, Reply((turn.error,))):
                send(dispatcher, tracker, coach().line("repeated_contact"))
            else:
                dispatcher.utter_message(text=turn.error)
            return [SlotSet(requested, None)]  # keeps the form going: it asks the same field again
        slots = dict(turn.slots)
        if parse_slot_key(tracker.get_slot("booking_slot")) is not None:
            # A meeting is being booked: its moment is the callback field, whatever the
            # answers (« pas de téléphone » skips the call-back moment, not the meeting).
            slots.pop(slot_for("callback"), None)
        return [SlotSet(slot, value) for slot, value in slots.items()]


class AskContactField(Action, ABC):
    @property
    @abstractmethod
    def field_name(self) -> str:
        """The field asked (one subclass per field, made below)."""

    def name(self) -> Text:
        return f"action_ask_{slot_for(self.field_name)}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        key = self.field_name
        if key == "phone" and filled(contact_slots(tracker), "email"):
            key = "phone_optional"  # at least one way to reach the visitor: e-mail given, phone optional
        text, titles = coach().k.contact_questions[key]
        send(dispatcher, tracker, Reply((text,), tuple(Button(t, t) for t in titles)))
        return []


class AskConsent(Action):
    """The consent step: what will be kept, the notice, an explicit yes or no (or a correction)."""

    def name(self) -> Text:
        return "action_ask_contact_consent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        slots = contact_slots(tracker)
        questions = coach().k.contact_questions
        if slots.get(FIX_SLOT) == CHOOSING:
            text, _ = questions["which_field"]
            titles = [FIELD_LABELS[f] for f in FIELDS[:-1]]  # all of them: a skipped phone can be added
            send(dispatcher, tracker, Reply((text,), tuple(Button(t, t) for t in titles)))
            return []
        notice = get_notice()
        intro, titles = questions["summary"]
        recap = "\n".join([intro, *recap_lines(slots, idle_seconds(tracker))])
        buttons = tuple(Button(t, t) for t in titles)
        shown = slots.get(NOTICE_SLOT)
        if shown == NOTICE_SHOWN:
            messages = (notice.question,)  # the notice was read: one line and the buttons
        elif shown == NOTICE_RECAP:
            messages = (recap, notice.question)  # a field was corrected: the new recap
        else:
            messages = (recap, notice.text, notice.question)
        send(dispatcher, tracker, Reply(messages, buttons))
        return [SlotSet(NOTICE_SLOT, NOTICE_SHOWN)]


ASK_ACTIONS = {
    name: type(f"ActionAskContact_{name}", (AskContactField,), {"field_name": name})
    for name in FIELDS if name != "consent"
}


class ActionStartContact(Action):
    """Before the form: say what happens. A visitor who paused the form finds it where it was
    (until it expires); after a lead, a new request starts afresh (that lead is then updated,
    never duplicated)."""

    def name(self) -> Text:
        return "action_start_contact"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        slots = contact_slots(tracker)
        paused = has_personal_data(slots) and slots.get(slot_for("consent")) != "yes"
        if paused and not is_expired(slots, idle_seconds(tracker), form_ttl_seconds()):
            send(dispatcher, tracker, coach().line("contact_resumed"))
            return [SlotSet(FIX_SLOT, None)]
        send(dispatcher, tracker, coach().line("contact_intro"))
        return [*_clear_contact_slots(), SlotSet(STARTED_SLOT, time.time())]


class ActionPauseContact(Action):
    """"Stop" mid-form: leave it, and keep what was typed until the form expires
    (CONTACT_FORM_TTL_MINUTES) so that « reprendre » continues where it was; « Tout effacer »
    (a restart) forgets it at once. No consent was given: nothing reaches the leads."""

    def name(self) -> Text:
        return "action_pause_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        if has_personal_data(contact_slots(tracker)):
            minutes = round(form_ttl_seconds() / 60)
            reply = coach().line("contact_paused", ("resume_contact", "forget"))
            reply = Reply(tuple(m.replace("{minutes}", str(minutes)) for m in reply.messages), reply.buttons)
            send(dispatcher, tracker, reply)
        else:
            send(dispatcher, tracker, coach().line("contact_cancelled", ("coaching", "question")))
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


class ActionSubmitLead(Action):
    """After the form: store the lead with its consent proof, or forget everything."""

    def name(self) -> Text:
        return "action_submit_lead"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        slots = contact_slots(tracker)
        marc = coach()
        if slots.get(slot_for("consent")) != "yes":
            forget = forget_personal_data(tracker, dispatcher)
            send(dispatcher, tracker, Reply((get_notice().refused,), marc.menu()))
            # No consent: no meeting either (a slot chosen before is let go).
            return [*forget, *_clear_contact_slots(), *[SlotSet(s, None) for s in BOOKING_SLOTS]]
        submission = LeadSubmission(
            sender_id=tracker.sender_id,
            name=filled(slots, "name") or "",
            company=filled(slots, "company") or "",
            email=filled(slots, "email"),
            phone=filled(slots, "phone"),
            callback_time=filled(slots, "callback"),
            need=filled(slots, "need"),
            consent=True,
            consent_version=get_notice().version,
            diagnostic=tracker.get_slot("diag_result"),
        )
        try:
            lead_id = await asyncio.to_thread(lead_service().submit, submission)
        except TooManySubmissions:
            logger.warning("Lead submission refused for conversation %s: rate limit", tracker.sender_id)
            send(dispatcher, tracker, marc.line("contact_too_many", ("question",)))
            return _clear_contact_slots()
        except Exception as error:
            # Leads database down: the submission waits in the local spool (LEADS_SPOOL_DIR)
            # and is written exactly once when the database is back (bot/leads/spool.py).
            if await asyncio.to_thread(spool_after_outage, error, submission, lead_service):
                send(dispatcher, tracker, marc.line("contact_done", ("coaching", "question")))
                return []
            logger.exception("Lead of conversation %s could not be stored", tracker.sender_id)
            send(dispatcher, tracker, marc.line("contact_failed", ("question",)))
            return []
        logger.info("Lead %s stored for conversation %s", lead_id, tracker.sender_id)
        if LeadSpool.from_env().count():
            replay_in_background(lead_service)  # the database is back: write what waited
        if parse_slot_key(tracker.get_slot("booking_slot")) is not None:
            from actions.booking import book_now  # the meeting chosen before the details

            booked = await book_now(dispatcher, tracker, lead_id, tracker.get_slot("booking_slot"),
                                    tracker.get_slot("booking_mode") or "phone")
            return [SlotSet(LEAD_SLOT, float(lead_id)), SlotSet(FUNNEL_CONSENTED, True), *booked]
        send(dispatcher, tracker, marc.line("contact_done", ("coaching", "question")))
        return [SlotSet(LEAD_SLOT, float(lead_id)), SlotSet(FUNNEL_CONSENTED, True)]
