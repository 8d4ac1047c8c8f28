"""The meeting as iCalendar: the event written in the consultant's calendar, and the iTIP
invitation e-mailed to the visitor and the consultant (``METHOD:REQUEST``, then ``CANCEL``).

Times are written in Europe/Paris with their VTIMEZONE, so that every client shows the hour
the visitor chose. The same UID throughout; SEQUENCE goes up at each change, which is how
mail clients know that a new message replaces the event they already have (RFC 5546).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Optional

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Sales In Progress//Coach Partenariat//FR"
MODE_LABELS = {"phone": "par téléphone", "video": "en visio"}


@dataclass(frozen=True)
class Meeting:
    uid: str
    start: dt.datetime          # aware
    end: dt.datetime
    mode: str                   # phone | video
    sequence: int
    consultant_name: str
    consultant_email: str
    visitor_name: str
    visitor_email: Optional[str]
    visitor_phone: Optional[str]
    company: str
    lead_id: int
    summary_lines: tuple = ()    # the lead's summary for the consultant (diagnostic, need)
    lead_link: Optional[str] = None

    @property
    def title(self) -> str:
        who = f"{self.visitor_name} ({self.company})" if self.company else self.visitor_name
        return f"Rendez-vous Sales In Progress {MODE_LABELS.get(self.mode, '')} — {who}"


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = vText(value)
    return address


def _event(meeting: Meeting, zone: dt.tzinfo, cancelled: bool, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp.astimezone(dt.timezone.utc))
    event.add("dtstart", meeting.start.astimezone(zone))
    event.add("dtend", meeting.end.astimezone(zone))
    event.add("sequence", meeting.sequence)
    event.add("summary", meeting.title)
    lines = [f"Rendez-vous de {round((meeting.end - meeting.start).total_seconds() / 60)} minutes "
             f"{MODE_LABELS.get(meeting.mode, '')}, demandé dans le chat de Sales In Progress."]
    if meeting.visitor_phone and meeting.mode == "phone":
        lines.append(f"Le consultant appelle le {meeting.visitor_phone}.")
    if meeting.mode == "video":
        lines.append("Le lien de la visio est envoyé par le consultant avant le rendez-vous.")
    lines.extend(meeting.summary_lines)
    if meeting.lead_link:
        lines.append(f"Fiche du contact : {meeting.lead_link}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(meeting.consultant_email, meeting.consultant_name))
    if meeting.visitor_email:
        event.add("attendee", _address(
            meeting.visitor_email, meeting.visitor_name, role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION", rsvp="TRUE", cutype="INDIVIDUAL",
        ), encode=0)
    event.add("x-sip-lead-id", str(meeting.lead_id))
    return event


def calendar_text(meeting: Meeting, zone: dt.tzinfo, method: Optional[str] = None,
                  stamp: Optional[dt.datetime] = None) -> str:
    """The VCALENDAR text: without ``method`` for the CalDAV calendar (RFC 4791 forbids it
    there), with ``REQUEST`` or ``CANCEL`` for the e-mail."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    calendar.add_component(_event(meeting, zone, method == "CANCEL", stamp or dt.datetime.now(dt.timezone.utc)))
    # The zone's rules around the meeting only (the full 1970–2038 history is 3.5 KB).
    year = meeting.start.year
    calendar.add_missing_timezones(first_date=dt.date(year - 1, 1, 1), last_date=dt.date(year + 2, 1, 1))
    return calendar.to_ical().decode("utf-8")


def attach_invitation(message: EmailMessage, meeting: Meeting, zone: dt.tzinfo, method: str) -> None:
    """Add the invitation to a message that already has its text and HTML bodies: as a
    ``text/calendar; method=…`` alternative (what Gmail, Outlook and Apple Mail turn into the
    « Ajouter à l'agenda » buttons) and as an ``invitation.ics`` attachment for the others."""
    ics = calendar_text(meeting, zone, method)
    body = message.get_body(("alternative",)) if message.is_multipart() else None
    target = body if body is not None else message
    target.add_alternative(ics, subtype="calendar", charset="utf-8", params={"method": method})
    message.add_attachment(
        ics.encode("utf-8"), maintype="application", subtype="ics",
        filename="invitation.ics", params={"method": method},
    )
