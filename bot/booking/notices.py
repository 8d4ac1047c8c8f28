"""The booking's e-mails, delivered by the leads' outbox: the visitor's invitation
(``invite.request`` / ``invite.cancel``: the meeting only) and the consultant's notice
(``booking.created`` / ``moved`` / ``cancelled``: with the lead's summary). Each carries the
iCalendar invitation (METHOD:REQUEST or CANCEL) that mail clients add to the calendar.

Rendered at delivery time from the booking as it is then: a notice delivered late never
invites to a meeting cancelled meanwhile.
"""
from __future__ import annotations

import logging
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from typing import Optional

from bot.booking.invitation import MODE_LABELS, attach_invitation
from bot.booking.settings import BookingSettings, default_settings
from bot.booking.slots import slot_label
from bot.leads.models import Lead
from bot.leads.notifier import templates
from bot.typography import french_spacing

log = logging.getLogger(__name__)

EVENTS = ("booking.created", "booking.moved", "booking.cancelled", "invite.request", "invite.cancel")

def is_booking_event(event: str) -> bool:
    return event in EVENTS


def build_notice(lead: Lead, event: str, delivery_key: str, sender: str, consultant_recipients,
                 settings: Optional[BookingSettings] = None, lead_link: Optional[str] = None):
    """(message, recipients), or None when there is nothing (left) to send."""
    from bot.booking.service import meeting_for

    settings = settings or default_settings()
    cancelled = event in ("booking.cancelled", "invite.cancel")
    wanted = "cancelled" if cancelled else "booked"
    booking = next((b for b in reversed(lead.bookings) if b.status == wanted), None)
    if booking is None:
        log.info("lead %d: %s has no booking to announce any more", lead.id, event)
        return None
    for_visitor = event.startswith("invite.")
    if for_visitor and not lead.email:
        return None
    meeting = meeting_for(settings, booking, lead, for_visitor, lead_link)
    consultant = settings.consultant(booking.consultant_id) or settings.consultants[0]
    values = dict(
        name=lead.name, slot=slot_label(settings, booking.start_at), mode=MODE_LABELS[booking.mode],
        mode_key=booking.mode, minutes=round((booking.end_at - booking.start_at).total_seconds() / 60),
        phone=lead.phone, cancelled=cancelled, moved=event == "booking.moved" or (for_visitor and booking.sequence > 0),
        summary=meeting.summary_lines, link=meeting.lead_link, calendar=consultant.calendar,
    )
    kind = "visitor" if for_visitor else "consultant"
    text = french_spacing(templates("bot.booking").get_template(f"booking_{kind}.txt.j2").render(**values))
    html = french_spacing(templates("bot.booking").get_template(f"booking_{kind}.html.j2").render(**values))
    if for_visitor:
        subject = ("Rendez-vous annulé" if cancelled else "Votre rendez-vous") + f" avec Sales In Progress : {values['slot']}"
        recipients = [lead.email]
    else:
        what = {"booking.created": "Rendez-vous réservé", "booking.moved": "Rendez-vous déplacé",
                "booking.cancelled": "Rendez-vous annulé"}[event]
        company = f" — {lead.company}" if lead.company else ""
        subject = f"[Coach Partenariat] {what} : {values['slot']}, lead n°{lead.id}{company}"
        recipients = list(consultant_recipients) or [consultant.email]
    message = EmailMessage()
    message.set_raw("Subject", Header(french_spacing(subject), "utf-8", header_name="Subject").encode())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{delivery_key}@coach-partenariat.sip>"
    message["X-SIP-Lead-Id"] = str(lead.id)
    message["X-SIP-Event"] = event
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    attach_invitation(message, meeting, settings.timezone, "CANCEL" if cancelled else "REQUEST")
    return message, recipients
