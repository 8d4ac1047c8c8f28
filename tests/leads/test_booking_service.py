"""The booking service against a real Radicale (tests/radicale_fixtures.py) and the leads
database (SQLite, then PostgreSQL): booking, the race, cancel and move, the calendar down,
forged slots, and the invitation read back with icalendar."""
from __future__ import annotations

import datetime as dt
import email
import threading
from email import policy
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from bot.booking.calendar import CalDAVCalendars, CalDAVConfig, CalendarUnavailable
from bot.booking.service import BookingService, NoBooking, NotBookable, SlotTaken
from bot.booking.settings import parse_settings
from bot.booking.slots import Wish
from bot.leads.models import Booking

from leads.conftest import submission

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.timezone.utc)  # Monday, 8 h in Paris


def rules(calendar: str):
    return parse_settings({
        "timezone": "Europe/Paris", "duration_minutes": 30, "buffer_minutes": 15,
        "minimum_notice_hours": 2, "horizon_days": 14, "slot_step_minutes": 30, "slots_shown": 4,
        "working_hours": {d: ["09:00-12:00", "14:00-17:00"] for d in ("lundi", "mardi", "mercredi", "jeudi", "vendredi")},
        "days_off": [],
        "consultants": [{"id": "conseil", "name": "Claire Conseil", "email": "claire@sip.example", "calendar": calendar}],
    })


@pytest.fixture
def calendars(radicale_up):
    return CalDAVCalendars(CalDAVConfig(radicale_up.url, radicale_up.user, radicale_up.password, 5), PARIS)


@pytest.fixture
def booking(service, calendars, calendar_suffix):
    return BookingService(rules(f"conseil-{calendar_suffix}"), calendars, service, clock=lambda: NOW)


def lead_for(service, sender="conv-1", **overrides) -> int:
    return service.submit(submission(sender_id=sender, **overrides))


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


def event_of(calendars, booking_service, uid):
    import caldav

    with caldav.DAVClient(url=calendars.config.url, username=calendars.config.user,
                          password=calendars.config.password) as client:
        calendar = calendars._calendar(client, booking_service.settings.consultants[0].calendar)
        return Calendar.from_ical(calendar.event_by_uid(uid).data)


def test_propose_reads_the_calendar_and_skips_busy_time(booking, calendars):
    first = booking.propose(now=NOW)
    assert first[0].start == paris(2026, 12, 7, 10, 0)  # 2 h of notice from 8 h
    # The consultant's own appointment at 10 h, written in their calendar by another client.
    from bot.booking.invitation import Meeting, calendar_text

    own = Meeting("own-1@elsewhere", paris(2026, 12, 7, 10, 0), paris(2026, 12, 7, 11, 0), "phone", 0,
                  "Claire", "claire@sip.example", "Dentiste", None, None, "", 0)
    calendars.write(booking.settings.consultants[0].calendar, own.uid, calendar_text(own, PARIS))
    after = booking.propose(now=NOW)
    assert all(not (paris(2026, 12, 7, 9, 30) < s.start < paris(2026, 12, 7, 11, 15)) for s in after)
    assert after[0].start == paris(2026, 12, 7, 11, 30)


def test_book_writes_the_event_and_the_invitations(booking, calendars, service, mail_dir):
    lead_id = lead_for(service)
    start = paris(2026, 12, 8, 10, 0)
    view = booking.book("conv-1", lead_id, start, "video")
    assert (view.status, view.mode, view.label) == ("booked", "video", "mardi 8 décembre, 10 h 00")
    event = event_of(calendars, booking, view.uid).walk("VEVENT")[0]
    assert event.decoded("dtstart") == start and str(event.decoded("dtstart").tzinfo) == "Europe/Paris"
    assert "Jeanne Martin" in str(event["summary"]) and "Lead n°" in str(event["description"])
    assert start not in [s.start for s in booking.propose(now=NOW, wish=Wish(from_day=start.date(), until_day=start.date()))]
    # The lead is hot now; the outbox sends the consultant's notice and the visitor's invitation.
    assert service.report(lead_id)["qualification"]["label"] == "hot"
    service.deliver_pending()
    files = sorted(mail_dir.glob(f"lead-{lead_id}-*.eml"))
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    invitations = [m for m in messages if m["X-SIP-Event"] == "invite.request"]
    assert len(invitations) == 1 and invitations[0]["To"] == "jeanne.martin@menuiserie-martin.fr"
    part = next(p for p in invitations[0].walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "REQUEST"
    ics = Calendar.from_ical(part.get_content())
    vevent = ics.walk("VEVENT")[0]
    assert str(ics["method"]) == "REQUEST"
    assert str(vevent["organizer"]) == "mailto:claire@sip.example"
    assert str(vevent["attendee"]) == "mailto:jeanne.martin@menuiserie-martin.fr"
    assert vevent.decoded("dtstart") == start and vevent.decoded("dtend") == start + dt.timedelta(minutes=30)
    assert "Lead n°" not in str(vevent["description"])  # the visitor's copy: the meeting only
    assert any(m["X-SIP-Event"] == "booking.created" for m in messages)


def test_two_visitors_racing_for_one_slot_end_with_one_booking(booking, service):
    ids = {s: lead_for(service, sender=s, email=f"{s}@example.org") for s in ("race-a", "race-b")}
    start = paris(2026, 12, 9, 14, 0)
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(sender):
        barrier.wait()
        try:
            outcomes[sender] = booking.book(sender, ids[sender], start, "phone").status
        except SlotTaken:
            outcomes[sender] = "taken"

    threads = [threading.Thread(target=attempt, args=(s,)) for s in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["booked", "taken"]
    with service.engine.connect() as connection:
        booked = connection.execute(sa.select(sa.func.count()).select_from(Booking)
                                    .where(Booking.status == "booked")).scalar_one()
    assert booked == 1
    assert len(booking.calendars.busy(booking.settings.consultants[0].calendar, start, start + dt.timedelta(hours=1))) == 1


def test_cancel_removes_the_event_and_only_its_owner_can(booking, calendars, service, mail_dir):
    lead_id = lead_for(service)
    view = booking.book("conv-1", lead_id, paris(2026, 12, 10, 9, 0), "phone")
    with pytest.raises(NoBooking):
        booking.cancel("someone-else")
    assert booking.active("conv-1") is not None
    cancelled = booking.cancel("conv-1")
    assert cancelled.status == "cancelled" and cancelled.sequence == 1
    assert calendars.busy(booking.settings.consultants[0].calendar, paris(2026, 12, 10, 0, 0), paris(2026, 12, 11, 0, 0)) == []
    with pytest.raises(NoBooking):
        booking.cancel("conv-1")  # cancelled again: nothing left to cancel
    service.deliver_pending()
    cancels = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in mail_dir.glob(f"lead-{lead_id}-*.eml")]
    cancel = next(m for m in cancels if m["X-SIP-Event"] == "invite.cancel")
    part = next(p for p in cancel.walk() if p.get_content_type() == "text/calendar")
    vevent = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    assert part.get_param("method") == "CANCEL" and str(vevent["status"]) == "CANCELLED"
    assert str(vevent["uid"]) == view.uid and int(vevent["sequence"]) == 1
    # A booking cancelled meanwhile is never announced as booked by a late notice.
    assert not any(m["X-SIP-Event"] == "invite.request" for m in cancels)


def test_move_keeps_the_uid_and_raises_the_sequence(booking, calendars, service):
    lead_id = lead_for(service)
    view = booking.book("conv-1", lead_id, paris(2026, 12, 10, 9, 0), "phone")
    moved = booking.move("conv-1", paris(2026, 12, 11, 15, 0))
    assert moved.uid == view.uid and moved.sequence == 1 and moved.label == "vendredi 11 décembre, 15 h 00"
    event = event_of(calendars, booking, view.uid).walk("VEVENT")[0]
    assert event.decoded("dtstart") == paris(2026, 12, 11, 15, 0) and int(event["sequence"]) == 1
    # Moving next to itself is allowed: its own old slot is not « busy ».
    again = booking.move("conv-1", paris(2026, 12, 11, 15, 30))
    assert again.sequence == 2


@pytest.mark.parametrize("start", [
    dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.timezone.utc),    # in the past
    paris(2026, 12, 8, 10, 10),                               # off the grid
    paris(2026, 12, 8, 3, 0),                                 # outside working hours
    paris(2026, 12, 12, 10, 0),                               # Saturday
    paris(2027, 2, 2, 10, 0),                                 # beyond the horizon
])
def test_forged_or_impossible_starts_are_refused_and_nothing_is_written(booking, service, start):
    lead_id = lead_for(service)
    with pytest.raises(NotBookable):
        booking.book("conv-1", lead_id, start, "phone")
    assert booking.list(include_cancelled=True) == []


def test_a_conversation_without_a_lead_cannot_book(booking, service):
    lead_id = lead_for(service)
    with pytest.raises(NoBooking):
        booking.book("not-the-owner", lead_id, paris(2026, 12, 8, 10, 0), "phone")


def test_calendar_down_books_nothing(booking, service, radicale_up):
    lead_id = lead_for(service)
    start = paris(2026, 12, 8, 11, 0)
    radicale_up.stop()
    with pytest.raises(CalendarUnavailable):
        booking.propose(now=NOW)
    with pytest.raises(CalendarUnavailable):
        booking.book("conv-1", lead_id, start, "phone")
    assert booking.list(include_cancelled=True) == []
    radicale_up.start()
    assert booking.book("conv-1", lead_id, start, "phone").status == "booked"


def test_the_consultant_sees_the_booking_in_the_cli_and_the_lead(booking, service, db_url, monkeypatch, capsys):
    from bot.cli import main

    lead_id = lead_for(service)
    booking.book("conv-1", lead_id, paris(2026, 12, 8, 10, 0), "video")
    monkeypatch.setenv("LEADS_DB_URL", db_url)
    assert main(["bookings", "list"]) == 0
    listed = capsys.readouterr().out
    assert "mardi 8 décembre, 10 h 00" in listed and "Jeanne Martin" in listed and f"#{lead_id}" in listed
    assert main(["leads", "show", str(lead_id)]) == 0
    shown = capsys.readouterr().out
    assert "Rendez-vous" in shown and "mardi 8 décembre, 10 h 00" in shown
    booking.cancel("conv-1")
    assert main(["bookings", "list"]) == 0 and "Aucun rendez-vous" in capsys.readouterr().out
    assert main(["bookings", "list", "--all", "--format", "json"]) == 0
    assert '"status": "cancelled"' in capsys.readouterr().out


def test_erasing_a_lead_removes_its_meeting_from_the_calendar(booking, calendars, service, radicale_up, monkeypatch):
    for key, value in radicale_up.env.items():
        monkeypatch.setenv(key, value)
    lead_id = lead_for(service)
    start = paris(2026, 12, 9, 9, 0)
    booking.book("conv-1", lead_id, start, "phone")
    calendar = booking.settings.consultants[0].calendar
    assert len(calendars.busy(calendar, start, start + dt.timedelta(hours=1))) == 1
    report = service.erase_sender("conv-1")
    assert report.lead_ids == [lead_id] and report.calendar_events == 1
    assert calendars.busy(calendar, start, start + dt.timedelta(hours=1)) == []
    assert booking.list(include_cancelled=True) == []


def test_no_free_slot_at_all_gives_an_empty_offer(service, calendars, calendar_suffix):
    from bot.booking.invitation import Meeting, calendar_text

    tight = parse_settings({
        "timezone": "Europe/Paris", "duration_minutes": 30, "buffer_minutes": 0, "minimum_notice_hours": 0,
        "horizon_days": 1, "slot_step_minutes": 30, "slots_shown": 3,
        "working_hours": {"lundi": ["09:00-10:00"], "mardi": ["09:00-10:00"]}, "days_off": [],
        "consultants": [{"id": "c", "name": "C", "email": "c@sip.example", "calendar": f"full-{calendar_suffix}"}],
    })
    svc = BookingService(tight, calendars, service, clock=lambda: NOW)
    assert len(svc.propose(now=NOW)) == 3  # Monday 9 h and 9 h 30, Tuesday 9 h (horizon: tomorrow)
    busy = Meeting("busy@elsewhere", paris(2026, 12, 7, 8, 0), paris(2026, 12, 8, 11, 0), "phone", 0,
                   "C", "c@sip.example", "Séminaire", None, None, "", 0)
    calendars.write(f"full-{calendar_suffix}", busy.uid, calendar_text(busy, PARIS))
    assert svc.propose(now=NOW) == []


def test_the_webhook_hears_of_the_booking_with_the_meeting(make_service, calendars, calendar_suffix, http_receiver):
    http_receiver.start()
    svc = make_service(webhook_url=http_receiver.url)
    booking = BookingService(rules(f"hook-{calendar_suffix}"), calendars, svc, clock=lambda: NOW)
    lead_id = lead_for(svc)
    booking.book("conv-1", lead_id, paris(2026, 12, 8, 14, 0), "video")
    svc.deliver_pending()
    events = [r["json"]["event"] for r in http_receiver.requests]
    assert events.count("booking.created") == 1 and "invite.request" not in events
    payload = next(r["json"] for r in http_receiver.requests if r["json"]["event"] == "booking.created")
    assert payload["lead"]["meeting"].startswith("mardi 8 décembre, 14 h 00") and payload["lead"]["qualification"] == "hot"


def test_a_calendar_that_never_answers_is_unavailable_after_the_timeout(service, calendar_suffix):
    """A slow server (it accepts the connection, then says nothing) is « unavailable » after
    CALDAV_TIMEOUT, not a visitor waiting forever."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        slow = CalDAVCalendars(CalDAVConfig(url, "coach", "x", 1), PARIS)
        svc = BookingService(rules(f"slow-{calendar_suffix}"), slow, service, clock=lambda: NOW)
        started = time.monotonic()
        with pytest.raises(CalendarUnavailable):
            svc.propose(now=NOW)
        assert time.monotonic() - started < 15
        lead_id = lead_for(service)
        with pytest.raises(CalendarUnavailable):
            svc.book("conv-1", lead_id, paris(2026, 12, 8, 10, 0), "phone")
        assert svc.list(include_cancelled=True) == []
    finally:
        silent.close()
