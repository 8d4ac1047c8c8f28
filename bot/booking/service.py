"""The facade the actions call (synchronous: run it in a worker thread).

::

    svc = BookingService.from_env(lead_service)     # settings.yml, CALDAV_*; None calendar: off
    slots = svc.propose(Wish())                     # CalendarUnavailable when the server fails
    booking = svc.book(sender_id, lead_id, slots[0].start, "video")
    svc.cancel(sender_id); svc.move(sender_id, new_start)

Rules enforced here:

* A start is bookable only if it is one of the office's slots (working hours, step, notice,
  horizon: a payload forged in the REST body is refused) and free at the moment of booking:
  the calendars are read again just before writing, and the database's partial unique index
  (one booked meeting per consultant and start) makes the second of two racing visitors lose
  cleanly, whatever process they are served by.
* The database row first, then the calendar event; if the calendar fails, the row is
  removed and :class:`CalendarUnavailable` raised: nothing is half-booked, and the caller
  keeps the request as a callback lead.
* Only the conversation that booked a meeting cancels or moves it.
* Notices go through the leads' outbox (e-mail): the consultant's (``booking.*``, the lead's
  summary) and the visitor's invitation (``invite.*``, the meeting only). The outbox only
  sends e-mails: a retry never writes a calendar.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.booking.calendar import CalendarUnavailable, Calendars, calendars_from_env
from bot.booking.invitation import Meeting, calendar_text
from bot.booking.settings import BookingSettings, default_settings
from bot.booking.slots import Interval, Slot, Wish, free_consultant, is_on_grid, offer, slot_label
from bot.leads.db import session_scope
from bot.leads.models import Booking, Lead, utcnow
from bot.leads.outbox import enqueue
from bot.leads.qualification import qualify
from bot.leads.repository import LeadRepository

log = logging.getLogger(__name__)

UID_DOMAIN = "coach-partenariat.sip"


class NotBookable(ValueError):
    """Not one of the office's slots (past, outside working hours, off the grid, forged)."""


class SlotTaken(RuntimeError):
    """Free when shown, taken since (another visitor, the consultant's own appointment)."""


class NoBooking(LookupError):
    """This conversation has no booked meeting (never had one, or already cancelled)."""


@dataclass(frozen=True)
class BookingView:
    id: int
    uid: str
    lead_id: int
    sender_id: str
    consultant_id: str
    start: dt.datetime
    end: dt.datetime
    mode: str
    status: str
    sequence: int
    label: str
    name: str = ""
    company: str = ""
    email: Optional[str] = None  # the visitor's, for « l'invitation part à votre adresse »

    def as_dict(self) -> dict:
        return {
            "id": self.id, "uid": self.uid, "lead_id": self.lead_id, "consultant": self.consultant_id,
            "start": self.start.isoformat(), "end": self.end.isoformat(), "mode": self.mode,
            "status": self.status, "slot": self.label, "name": self.name, "company": self.company,
        }


class BookingService:
    def __init__(self, settings: BookingSettings, calendars: Optional[Calendars], lead_service,
                 clock: Callable[[], dt.datetime] = utcnow, lead_link: Optional[str] = None) -> None:
        self.settings = settings
        self.calendars = calendars
        self.leads = lead_service
        self.factory = lead_service.factory
        self.clock = clock
        self.lead_link = lead_link
        lead_service.booking_settings = settings  # the booking e-mails use the same rules

    @classmethod
    def from_env(cls, lead_service, env=None) -> "BookingService":
        import os

        env = os.environ if env is None else env
        settings = default_settings()
        from bot.leads.report import backoffice_link

        return cls(settings, calendars_from_env(settings.timezone, env), lead_service,
                   lead_link=backoffice_link("{id}", env))  # a template: the lead's id comes later

    @property
    def enabled(self) -> bool:
        return self.calendars is not None

    # ---------------------------------------------------------------- availability
    def _busy(self, start: dt.datetime, end: dt.datetime, ignore_uid: Optional[str] = None) -> Dict[str, List[Interval]]:
        """Each consultant's busy time: their calendar's events and the meetings booked here
        (a booking another replica is writing at this very moment is already in the database)."""
        if self.calendars is None:
            raise CalendarUnavailable("no calendar configured (CALDAV_URL)")
        busy: Dict[str, List[Interval]] = {}
        with session_scope(self.factory) as session:
            rows = session.execute(
                sa.select(Booking.consultant_id, Booking.start_at, Booking.end_at, Booking.uid)
                .where(Booking.status == "booked", Booking.end_at > start, Booking.start_at < end)
            ).all()
        for consultant_id, begin, finish, uid in rows:
            if uid != ignore_uid:
                busy.setdefault(consultant_id, []).append(Interval(begin, finish))
        for consultant in self.settings.consultants:
            for interval in self.calendars.busy(consultant.calendar, start, end):
                busy.setdefault(consultant.id, []).append(interval)
        if ignore_uid is not None:
            # The meeting being moved is in the calendar too: its own interval is not busy.
            moving = self._row_interval(ignore_uid)
            if moving is not None:
                for consultant_id in busy:
                    busy[consultant_id] = [i for i in busy[consultant_id] if i != moving]
        return busy

    def _row_interval(self, uid: str) -> Optional[Interval]:
        with session_scope(self.factory) as session:
            row = session.execute(sa.select(Booking.start_at, Booking.end_at).where(Booking.uid == uid)).first()
        return Interval(row[0], row[1]) if row else None

    def _window(self, now: dt.datetime) -> tuple:
        return now, now + dt.timedelta(days=self.settings.horizon_days + 2)

    def propose(self, wish: Wish = Wish(), now: Optional[dt.datetime] = None,
                ignore_uid: Optional[str] = None) -> List[Slot]:
        """The slots to show for this wish (empty: none free that fits)."""
        now = now or self.clock()
        return offer(self.settings, self._busy(*self._window(now), ignore_uid=ignore_uid), now, wish)

    def label(self, start: dt.datetime) -> str:
        return slot_label(self.settings, start)

    def check_start(self, start: dt.datetime, now: Optional[dt.datetime] = None) -> None:
        now = now or self.clock()
        if start <= now:
            raise NotBookable("Ce créneau est déjà passé.")
        if not is_on_grid(self.settings, start, now):
            raise NotBookable("Ce créneau n’est pas un de ceux que je propose.")

    def _free_consultant(self, start: dt.datetime, ignore_uid: Optional[str] = None) -> str:
        end = start + self.settings.duration
        busy = self._busy(start - dt.timedelta(hours=12), end + dt.timedelta(hours=12), ignore_uid)
        consultant_id = free_consultant(self.settings, start, end, busy)
        if consultant_id is None:
            raise SlotTaken(start.isoformat())
        return consultant_id

    # ---------------------------------------------------------------- booking
    def book(self, sender_id: str, lead_id: int, start: dt.datetime, mode: str,
             now: Optional[dt.datetime] = None) -> BookingView:
        now = now or self.clock()
        if mode not in ("phone", "video"):
            raise NotBookable("Par téléphone ou en visio ?")
        self.check_start(start, now)
        consultant_id = self._free_consultant(start)
        uid = f"{uuid.uuid4()}@{UID_DOMAIN}"
        try:
            with session_scope(self.factory) as session:
                lead = LeadRepository(session).get(lead_id)
                if lead is None or sender_id not in lead.sender_ids:
                    raise NoBooking("this conversation has no lead to book for")
                session.add(Booking(
                    uid=uid, lead_id=lead_id, sender_id=sender_id, consultant_id=consultant_id,
                    start_at=start, end_at=start + self.settings.duration, mode=mode,
                    status="booked", sequence=0, created_at=now, updated_at=now,
                ))
                session.flush()
        except IntegrityError:
            raise SlotTaken(start.isoformat()) from None  # the other visitor's row came first
        try:
            self.calendars.write(self.settings.consultant(consultant_id).calendar, uid,
                                 calendar_text(self._meeting(uid), self.settings.timezone))
        except CalendarUnavailable:
            with session_scope(self.factory) as session:
                session.execute(sa.delete(Booking).where(Booking.uid == uid))
            raise
        self._after_change(uid, ("booking.created", "invite.request"))
        log.info("booking %s for lead %d", uid.split("@")[0][:8], lead_id)
        return self._view(uid)

    def active(self, sender_id: str) -> Optional[BookingView]:
        with session_scope(self.factory) as session:
            uid = session.execute(
                sa.select(Booking.uid).where(Booking.sender_id == sender_id, Booking.status == "booked")
                .order_by(Booking.id.desc())
            ).scalars().first()
        return self._view(uid) if uid else None

    def cancel(self, sender_id: str, now: Optional[dt.datetime] = None) -> BookingView:
        now = now or self.clock()
        current = self.active(sender_id)
        if current is None:
            raise NoBooking(sender_id)
        calendar = self.settings.consultant(current.consultant_id)
        if self.calendars is None:
            raise CalendarUnavailable("no calendar configured (CALDAV_URL)")
        self.calendars.remove(calendar.calendar if calendar else current.consultant_id, current.uid)
        with session_scope(self.factory) as session:
            booking = session.execute(sa.select(Booking).where(Booking.uid == current.uid)).scalar_one()
            booking.status, booking.cancelled_at, booking.updated_at = "cancelled", now, now
            booking.sequence += 1
        self._after_change(current.uid, ("booking.cancelled", "invite.cancel"))
        return self._view(current.uid)

    def move(self, sender_id: str, start: dt.datetime, now: Optional[dt.datetime] = None) -> BookingView:
        now = now or self.clock()
        current = self.active(sender_id)
        if current is None:
            raise NoBooking(sender_id)
        self.check_start(start, now)
        consultant_id = self._free_consultant(start, ignore_uid=current.uid)
        old = (current.consultant_id, current.start, current.end, current.sequence)
        try:
            with session_scope(self.factory) as session:
                booking = session.execute(sa.select(Booking).where(Booking.uid == current.uid)).scalar_one()
                booking.consultant_id, booking.start_at = consultant_id, start
                booking.end_at, booking.updated_at = start + self.settings.duration, now
                booking.sequence += 1
        except IntegrityError:
            raise SlotTaken(start.isoformat()) from None
        try:
            if old[0] != consultant_id:
                self.calendars.remove(self.settings.consultant(old[0]).calendar, current.uid)
            self.calendars.write(self.settings.consultant(consultant_id).calendar, current.uid,
                                 calendar_text(self._meeting(current.uid), self.settings.timezone))
        except CalendarUnavailable:
            with session_scope(self.factory) as session:
                booking = session.execute(sa.select(Booking).where(Booking.uid == current.uid)).scalar_one()
                booking.consultant_id, booking.start_at, booking.end_at, booking.sequence = old
            raise
        self._after_change(current.uid, ("booking.moved", "invite.request"))
        return self._view(current.uid)

    def list(self, include_cancelled: bool = False) -> List[BookingView]:
        with session_scope(self.factory) as session:
            query = sa.select(Booking.uid).order_by(Booking.start_at)
            if not include_cancelled:
                query = query.where(Booking.status == "booked")
            uids = list(session.execute(query).scalars())
        return [self._view(uid) for uid in uids]

    # ---------------------------------------------------------------- helpers
    def _after_change(self, uid: str, events: tuple) -> None:
        """The lead is « hot » once a meeting is booked; the notices go to the outbox."""
        with session_scope(self.factory) as session:
            booking = session.execute(sa.select(Booking).where(Booking.uid == uid)).scalar_one()
            lead = LeadRepository(session).get(booking.lead_id)
            latest = lead.latest_diagnostic
            result = qualify(latest.data if latest else None, lead.need, booked=lead.active_booking is not None)
            lead.qualification, lead.score = result.label, result.score
            lead.updated_at = utcnow()
            channels = self.leads.notifier.channels
            for event in events:
                if event.startswith("invite."):  # the visitor's invitation: by e-mail, if any
                    if lead.email and "email" in channels:
                        enqueue(session, lead.id, ["email"], event)
                elif channels:  # the consultant's notice: on every channel, as for a new lead
                    enqueue(session, lead.id, channels, event)
            lead_id = lead.id
        if self.leads.deliver_on_submit:
            self.leads._deliver_in_background(lead_id)

    def _view(self, uid: str) -> BookingView:
        with session_scope(self.factory) as session:
            booking = session.execute(sa.select(Booking).where(Booking.uid == uid)).scalar_one()
            lead = session.get(Lead, booking.lead_id)
            return BookingView(
                id=booking.id, uid=booking.uid, lead_id=booking.lead_id, sender_id=booking.sender_id,
                consultant_id=booking.consultant_id, start=booking.start_at, end=booking.end_at,
                mode=booking.mode, status=booking.status, sequence=booking.sequence,
                label=self.label(booking.start_at), name=lead.name if lead else "",
                company=lead.company if lead else "", email=lead.email if lead else None,
            )

    def _meeting(self, uid: str, for_visitor: bool = False) -> Meeting:
        with session_scope(self.factory) as session:
            booking = session.execute(sa.select(Booking).where(Booking.uid == uid)).scalar_one()
            lead = LeadRepository(session).get(booking.lead_id)
            return meeting_for(self.settings, booking, lead, for_visitor, self.lead_link)


def remove_calendar_events(events, settings: Optional[BookingSettings] = None, env=None) -> int:
    """Remove these (consultant id, uid) events from the calendars (a lead being erased);
    returns how many were there. Raises CalendarUnavailable when the server cannot be used,
    and when no calendar is configured although there are events to remove."""
    settings = settings or default_settings()
    calendars = calendars_from_env(settings.timezone, env)
    if calendars is None:
        raise CalendarUnavailable("CALDAV_URL is not set: the meetings' calendar events cannot be removed")
    removed = 0
    for consultant_id, uid in events:
        consultant = settings.consultant(consultant_id) or settings.consultants[0]
        removed += bool(calendars.remove(consultant.calendar, uid))
    return removed


def meeting_for(settings: BookingSettings, booking: Booking, lead: Lead, for_visitor: bool,
                lead_link: Optional[str] = None) -> Meeting:
    """The iCalendar view of a booking. The visitor's copy holds the meeting only; the
    consultant's (and the calendar's) the lead's summary and where to read the lead."""
    consultant = settings.consultant(booking.consultant_id) or settings.consultants[0]
    summary: tuple = ()
    if not for_visitor:
        lines = [f"Contact : {lead.name}" + (f", {lead.company}" if lead.company else "")]
        if lead.email:
            lines.append(f"E-mail : {lead.email}")
        if lead.phone:
            lines.append(f"Téléphone : {lead.phone}")
        diagnostic = lead.latest_diagnostic
        if diagnostic is not None and diagnostic.verdict:
            from bot.leads.report import PILLAR_SHORT, verdict_label

            lines.append(f"Diagnostic : {verdict_label(diagnostic.verdict) or diagnostic.verdict}")
            if diagnostic.missing_pillars:
                lines.append("Piliers à travailler : " + ", ".join(
                    PILLAR_SHORT.get(p, p) for p in diagnostic.missing_pillars))
        if lead.need:
            lines.append(f"Besoin : {lead.need}")
        lines.append(f"Lead n°{lead.id} (sip-coach leads show {lead.id})")
        summary = tuple(lines)
    return Meeting(
        uid=booking.uid, start=booking.start_at, end=booking.end_at, mode=booking.mode,
        sequence=booking.sequence, consultant_name=consultant.name, consultant_email=consultant.email,
        visitor_name=lead.name, visitor_email=lead.email, visitor_phone=lead.phone,
        company=lead.company or "", lead_id=lead.id, summary_lines=summary,
        lead_link=(lead_link.format(id=lead.id) if lead_link and not for_visitor else None),
    )
