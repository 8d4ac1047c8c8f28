"""Booking a meeting in the chat (bot/booking): the slots as buttons, phone or video, then the
contact form's details and consent (asked only when this conversation has no lead yet), the
booking itself, and cancel or move.

The slots shown are computed before the form asks (when it starts, and when the visitor asks
for others), so the ask action only displays them; every calendar call runs in a worker
thread. Nothing is booked without a consenting lead; a calendar that fails turns the request
into a callback lead.
"""
from __future__ import annotations

import asyncio
import logging
import time
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import coach, latest_intent, latest_text, send
from actions.contact import STARTED_SLOT, contact_slots, lead_service, _clear_contact_slots
from bot.booking.calendar import CalendarUnavailable
from bot.booking.dialogue import CALLBACK, read_mode, read_slot_reply
from bot.booking.invitation import MODE_LABELS
from bot.booking.service import BookingService, BookingView, NoBooking, NotBookable, SlotTaken
from bot.booking.settings import working_hours_text
from bot.booking.slots import Wish, parse_slot_key
from bot.booking.wishes import read_wish
from bot.callback import mentions_moment
from bot.contact import FREE_TEXT_MAX, has_personal_data, slot_for
from bot.nlp import normalise
from bot.replies import Button, Reply

logger = logging.getLogger(__name__)

FORM = "booking_form"
SLOT, MODE, OFFERED, WISH, LEAD_IN = "booking_slot", "booking_mode", "booking_offered", "booking_wish", "booking_lead_in"


@lru_cache(maxsize=1)
def booking_service() -> BookingService:
    return BookingService.from_env(lead_service())


def _lines(key: str, **values: Any) -> tuple:
    return tuple(m.format(**values) for m in coach().k.line(key))


def _clear_booking() -> List[Dict[str, Any]]:
    return [SlotSet(s, None) for s in (SLOT, MODE, OFFERED, WISH, LEAD_IN)]


async def _offer(svc: BookingService, wish: Wish, lead_in: str, ignore_uid: Optional[str] = None,
                 **values: Any) -> Optional[List[Dict[str, Any]]]:
    """The slots for ``wish`` as slot events (shown by the ask action), or, when none fits,
    the soonest with « rien de libre à ce moment-là »; None when no slot is free at all.
    Raises CalendarUnavailable."""
    slots = await asyncio.to_thread(svc.propose, wish, None, ignore_uid)
    if not slots and wish != Wish():
        slots = await asyncio.to_thread(svc.propose, Wish(), None, ignore_uid)
        lead_in, wish = "booking_no_fit", Wish()
    if not slots:
        return None
    text = " ".join(_lines(lead_in, minutes=round(svc.settings.duration.total_seconds() / 60),
                           hours=working_hours_text(svc.settings), **values))
    return [SlotSet(OFFERED, [{"key": s.key, "label": svc.label(s.start)} for s in slots]),
            SlotSet(WISH, wish.to_dict()), SlotSet(LEAD_IN, text)]


def _offered(tracker: Tracker) -> List[dict]:
    value = tracker.get_slot(OFFERED)
    return [o for o in value if isinstance(o, dict) and parse_slot_key(o.get("key"))] if isinstance(value, list) else []


class ActionStartBooking(Action):
    """« je voudrais un rendez-vous », « on peut se voir mardi ? », « déplacer mon rdv »."""

    def name(self) -> Text:
        return "action_start_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        svc = booking_service()
        marc = coach()
        if not svc.enabled:
            send(dispatcher, tracker, marc.line("booking_unavailable", ("contact", "no_thanks")))
            return []
        try:
            active = await asyncio.to_thread(svc.active, tracker.sender_id)
            moving = active is not None and latest_intent(tracker) == "move_booking"
            if active is not None and not moving:
                send(dispatcher, tracker, Reply(
                    _lines("booking_already", slot=active.label, mode=MODE_LABELS[active.mode]),
                    tuple(marc.k.button(k) for k in ("move_booking", "cancel_booking", "question"))))
                return []
            text = latest_text(tracker)
            reading = read_wish(text, svc.clock(), (), svc.settings.timezone)
            wish = reading.wish or Wish()
            if moving:
                events = await _offer(svc, wish, "booking_move_intro", ignore_uid=active.uid, slot=active.label)
            else:
                events = await _offer(svc, wish, "booking_intro")
        except CalendarUnavailable:
            send(dispatcher, tracker, marc.line("booking_unavailable", ("contact", "no_thanks")))
            return []
        if events is None:
            send(dispatcher, tracker, marc.line("booking_none", ("contact",)))
            return _clear_booking()
        mode = active.mode if moving else read_mode(text)
        return [*_clear_booking(), *events, SlotSet(MODE, mode), FollowupAction(FORM)]


class AskBookingSlot(Action):
    def name(self) -> Text:
        return "action_ask_booking_slot"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        offered = _offered(tracker)
        lead_in = tracker.get_slot(LEAD_IN) or " ".join(coach().k.line("booking_slot_unclear"))
        more, callback = coach().k.line("booking_slot_buttons")
        buttons = tuple(Button(o["label"], o["label"]) for o in offered) + (Button(more, more), Button(callback, callback))
        send(dispatcher, tracker, Reply((lead_in,), buttons))
        return [SlotSet(LEAD_IN, None)]  # asked again after an aside: « Lequel vous va ? »


class AskBookingMode(Action):
    def name(self) -> Text:
        return "action_ask_booking_mode"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        titles = coach().k.line("booking_mode_buttons")
        send(dispatcher, tracker, Reply(coach().k.line("booking_mode_question"), tuple(Button(t, t) for t in titles)))
        return []


class ValidateBookingForm(FormValidationAction):
    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        if requested == MODE:
            mode = read_mode(text)
            return [SlotSet(MODE, mode)] if mode else []
        if requested != SLOT:
            return []
        svc = booking_service()
        offered = _offered(tracker)
        shown = [parse_slot_key(o["key"]) for o in offered]
        reply = read_slot_reply(text, shown, [o["label"] for o in offered], svc.clock(), svc.settings.timezone)
        if reply.kind == "chosen":
            return [SlotSet(SLOT, next(o["key"] for o, s in zip(offered, shown) if s == reply.chosen))]
        if reply.kind == "callback":
            return [SlotSet(SLOT, CALLBACK), SlotSet(MODE, "phone")]
        if reply.kind == "not_an_answer":
            return []
        active = await asyncio.to_thread(svc.active, tracker.sender_id)
        ignore = active.uid if active else None
        try:
            if reply.kind == "problem":
                events = await _offer(svc, Wish.from_dict(tracker.get_slot(WISH)), "booking_problem",
                                      ignore_uid=ignore, problem=reply.problem)
            elif reply.kind == "none_fit":
                return [SlotSet(SLOT, None), SlotSet(LEAD_IN, None)]
            else:
                wish = Wish.from_dict(tracker.get_slot(WISH)).merged(reply.wish) if not reply.earlier else Wish()
                events = await _offer(svc, wish, "booking_soonest" if reply.earlier else "booking_more", ignore_uid=ignore)
        except CalendarUnavailable:
            return [SlotSet(SLOT, CALLBACK), SlotSet(MODE, "phone"), SlotSet(LEAD_IN, "unavailable")]
        if events is None:
            return [SlotSet(SLOT, CALLBACK), SlotSet(MODE, "phone"), SlotSet(LEAD_IN, "none")]
        return [*events, SlotSet(SLOT, None)]


def _start_contact_for_booking(tracker: Tracker, wanted: Optional[str]) -> List[Dict[str, Any]]:
    """The contact form with the wanted meeting (or the visitor's own words about when to call)
    as its « moment », so it is not asked; without one the form asks it. What a paused form
    already holds is kept."""
    slots = contact_slots(tracker)
    kept = has_personal_data(slots) and slots.get(slot_for("consent")) != "yes"
    events = [] if kept else [*_clear_contact_slots(), SlotSet(STARTED_SLOT, time.time())]
    if wanted:
        events.append(SlotSet(slot_for("callback"), wanted))
    return [*events, FollowupAction("contact_form")]


def callback_words(tracker: Tracker) -> Optional[str]:
    """The visitor's message, as typed, when it asks for a call back and says when
    (« rappelez-moi plutôt, après 17h »): the lead keeps those words and their normalised
    window, as for a moment typed in the contact form. None for a bare « Plutôt être rappelé »:
    a button says no moment, the contact form then asks it."""
    text = normalise(latest_text(tracker))[:FREE_TEXT_MAX].strip()
    return text if mentions_moment(text) else None


def wanted_text(svc: BookingService, key: str, mode: str) -> str:
    start = parse_slot_key(key)
    return f"{svc.label(start)}, {MODE_LABELS.get(mode, '')} (rendez-vous)"


async def _offer_again(dispatcher: CollectingDispatcher, tracker: Tracker, error: Exception,
                       failed_line: str, ignore_uid: Optional[str] = None) -> List[Dict[str, Any]]:
    """The slot chosen was taken meanwhile (or refused): the next free ones, the form again."""
    svc = booking_service()
    lead_in = "booking_taken" if isinstance(error, SlotTaken) else "booking_problem"
    try:
        events = await _offer(svc, Wish(), lead_in, ignore_uid=ignore_uid, problem=str(error))
    except CalendarUnavailable:
        events = False
    if not events:
        send(dispatcher, tracker, coach().line("booking_none" if events is None else failed_line, ("contact", "question")))
        return _clear_booking()
    return [*events, SlotSet(SLOT, None), FollowupAction(FORM)]


async def book_now(dispatcher: CollectingDispatcher, tracker: Tracker, lead_id: int, key: str,
                   mode: str) -> List[Dict[str, Any]]:
    """Book for a consenting lead; on a slot taken meanwhile, the next free ones."""
    marc = coach()
    try:
        view: BookingView = await asyncio.to_thread(booking_service().book, tracker.sender_id, lead_id,
                                                    parse_slot_key(key), mode)
    except (SlotTaken, NotBookable) as error:
        return [SlotSet(MODE, mode), *await _offer_again(dispatcher, tracker, error, "booking_calendar_failed")]
    except CalendarUnavailable:
        send(dispatcher, tracker, marc.line("booking_calendar_failed", ("question",)))
        return _clear_booking()
    invite = " ".join(_lines("booking_done_invite_email" if view.email else "booking_done_invite_phone"))
    send(dispatcher, tracker, Reply(
        _lines("booking_done", slot=view.label, minutes=round((view.end - view.start).total_seconds() / 60),
               mode=MODE_LABELS[view.mode], invite=invite),
        tuple(marc.k.button(k) for k in ("question", "coaching")),
    ))
    return [*_clear_booking(), SlotSet("funnel_booked", True)]  # a milestone of markers/funnel.yml


class ActionBookingChosen(Action):
    """The form is done: a slot and a mode (or « plutôt être rappelé »)."""

    def name(self) -> Text:
        return "action_booking_chosen"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        svc = booking_service()
        marc = coach()
        key, mode = tracker.get_slot(SLOT), tracker.get_slot(MODE) or "phone"
        if key == CALLBACK or parse_slot_key(key) is None:
            reason = tracker.get_slot(LEAD_IN)
            line = {"unavailable": "booking_unavailable", "none": "booking_none"}.get(reason, "booking_callback")
            send(dispatcher, tracker, Reply(marc.k.line(line)[:1]))
            return [*_clear_booking(), *_start_contact_for_booking(tracker, callback_words(tracker))]
        active = await asyncio.to_thread(svc.active, tracker.sender_id)
        if active is not None:
            try:
                view = await asyncio.to_thread(svc.move, tracker.sender_id, parse_slot_key(key))
            except (SlotTaken, NotBookable) as error:
                return await _offer_again(dispatcher, tracker, error, "booking_cancel_failed", ignore_uid=active.uid)
            except CalendarUnavailable:
                send(dispatcher, tracker, marc.line("booking_cancel_failed", ("question",)))
                return _clear_booking()
            invite = " ".join(_lines("booking_moved_invite_email")) if view.email else ""
            send(dispatcher, tracker, Reply(
                tuple(m.strip() for m in _lines("booking_moved", slot=view.label, mode=MODE_LABELS[view.mode], invite=invite)),
                tuple(marc.k.button(k) for k in ("question", "coaching"))))
            return _clear_booking()
        lead_id = await asyncio.to_thread(lead_service().find_lead_id, tracker.sender_id)
        if lead_id is not None:
            # This conversation's visitor already consented to be contacted: the meeting is that.
            return await book_now(dispatcher, tracker, lead_id, key, mode)
        send(dispatcher, tracker, Reply(_lines("booking_chosen", slot=svc.label(parse_slot_key(key)), mode=MODE_LABELS[mode])))
        return _start_contact_for_booking(tracker, wanted_text(svc, key, mode))


class ActionCancelBooking(Action):
    def name(self) -> Text:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        svc = booking_service()
        marc = coach()
        if not svc.enabled:
            send(dispatcher, tracker, marc.line("booking_none_to_cancel", ("question",)))
            return []
        try:
            view = await asyncio.to_thread(svc.cancel, tracker.sender_id)
        except NoBooking:
            send(dispatcher, tracker, marc.line("booking_none_to_cancel", ("book", "question")))
            return []
        except CalendarUnavailable:
            send(dispatcher, tracker, marc.line("booking_cancel_failed", ("question",)))
            return []
        email = "".join(_lines("booking_cancelled_email")) if view.email else ""
        send(dispatcher, tracker, Reply(_lines("booking_cancelled", slot=view.label, email=email),
                                        tuple(marc.k.button(k) for k in ("book", "question"))))
        return _clear_booking()


class ActionPauseBooking(Action):
    """« stop » while the slots are shown: nothing was booked, nothing is kept."""

    def name(self) -> Text:
        return "action_pause_booking"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        send(dispatcher, tracker, coach().line("booking_paused", ("book", "question")))
        return [ActiveLoop(None), SlotSet("requested_slot", None), *_clear_booking()]
