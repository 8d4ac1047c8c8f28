"""The consultants' calendars behind a small interface: busy time, write an event, remove it.

:class:`CalDAVCalendars` speaks CalDAV with the `caldav` client to any server (the embedded
Radicale of the default profile, Nextcloud, Fastmail, Google…): ``CALDAV_URL``,
``CALDAV_USER``, ``CALDAV_PASSWORD``, ``CALDAV_TIMEOUT`` (seconds, 5 by default). A
calendar is named in settings.yml by its id on the server (found through the principal,
created when missing) or by its full URL.

Every failure of the server — down, slow, refusing the password, answering nonsense — is
raised as :class:`CalendarUnavailable`: the conversation tells the visitor and keeps the
request as a callback lead.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Protocol

from bot.booking.slots import Interval

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5


class CalendarUnavailable(RuntimeError):
    """The calendar server cannot be used right now (the message is for the logs)."""


class Calendars(Protocol):
    def busy(self, calendar: str, start: dt.datetime, end: dt.datetime) -> List[Interval]:
        """The busy intervals of ``calendar`` between ``start`` and ``end`` (aware)."""

    def write(self, calendar: str, uid: str, ical: str) -> None:
        """Create or replace the event ``uid``."""

    def remove(self, calendar: str, uid: str) -> bool:
        """Delete the event ``uid``; False when it was not there."""


@dataclass(frozen=True)
class CalDAVConfig:
    url: str
    user: Optional[str]
    password: Optional[str]
    timeout: int = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["CalDAVConfig"]:
        env = os.environ if env is None else env
        url = (env.get("CALDAV_URL") or "").strip()
        if not url:
            return None
        try:
            timeout = max(1, int(float(env.get("CALDAV_TIMEOUT") or DEFAULT_TIMEOUT)))
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return cls(url=url, user=(env.get("CALDAV_USER") or "").strip() or None,
                   password=env.get("CALDAV_PASSWORD") or None, timeout=timeout)

    def __repr__(self) -> str:  # never the password in a log
        return f"CalDAVConfig(url={self.url!r}, user={self.user!r})"


def _aware(value, zone: dt.tzinfo) -> dt.datetime:
    """A DTSTART/DTEND value as an aware datetime: a date (all-day event) is the whole day,
    a floating time is read in the office's zone."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(0), tzinfo=zone)


class CalDAVCalendars:
    def __init__(self, config: CalDAVConfig, zone: dt.tzinfo) -> None:
        self.config = config
        self.zone = zone
        self._urls: Dict[str, str] = {}
        self._lock = threading.Lock()

    def _client(self):
        import caldav  # imported here: the bot without booking never loads it

        # Basic auth from the first request: without it the client first asks without
        # credentials and waits for the 401 (Radicale delays failed logins).
        return caldav.DAVClient(
            url=self.config.url, username=self.config.user, password=self.config.password,
            timeout=self.config.timeout, auth_type="basic" if self.config.user else None,
        )

    def _calendar(self, client, name: str):
        if name.startswith(("http://", "https://")):
            return client.calendar(url=name)
        with self._lock:
            url = self._urls.get(name)
        if url:
            return client.calendar(url=url)
        from caldav.lib.error import MkcalendarError, NotFoundError

        principal = client.principal()
        try:
            calendar = principal.calendar(cal_id=name)
            calendar.get_display_name()  # raises when it does not exist
        except NotFoundError:
            log.info("calendar %s not found on the server: created", name)
            try:
                calendar = principal.make_calendar(name=name, cal_id=name)
            except MkcalendarError:  # another process created it at the same moment
                calendar = principal.calendar(cal_id=name)
                calendar.get_display_name()
        with self._lock:
            self._urls[name] = str(calendar.url)
        return calendar

    def _run(self, what: str, operation):
        try:
            with self._client() as client:
                return operation(client)
        except CalendarUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - every server failure is « unavailable »
            log.warning("calendar server: %s failed (%s)", what, type(error).__name__)
            raise CalendarUnavailable(f"{what}: {type(error).__name__}: {error}") from error

    def busy(self, calendar: str, start: dt.datetime, end: dt.datetime) -> List[Interval]:
        def operation(client) -> List[Interval]:
            found = self._calendar(client, calendar).search(start=start, end=end, event=True, expand=True)
            intervals = []
            for item in found:
                for component in item.icalendar_instance.walk("VEVENT"):
                    if str(component.get("transp", "")).upper() == "TRANSPARENT" \
                            or str(component.get("status", "")).upper() == "CANCELLED":
                        continue
                    begin = _aware(component.decoded("dtstart"), self.zone)
                    if component.get("dtend") is not None:
                        finish = _aware(component.decoded("dtend"), self.zone)
                    elif component.get("duration") is not None:
                        finish = begin + component.decoded("duration")
                    else:  # RFC 5545: a date lasts a day, a date-time no time at all
                        finish = begin + (dt.timedelta(days=1) if not isinstance(component.decoded("dtstart"), dt.datetime)
                                          else dt.timedelta(0))
                    intervals.append(Interval(begin, finish))
            return intervals

        return self._run("busy", operation)

    def write(self, calendar: str, uid: str, ical: str) -> None:
        def operation(client) -> None:
            target = self._calendar(client, calendar)
            # SEQUENCE is ours (bot/booking/service.py): the client must not bump it again.
            target.save_event(ical, increase_seqno=False)

        self._run("write", operation)

    def remove(self, calendar: str, uid: str) -> bool:
        def operation(client) -> bool:
            from caldav.lib.error import NotFoundError

            try:
                event = self._calendar(client, calendar).event_by_uid(uid)
            except NotFoundError:
                return False
            event.delete()
            return True

        return self._run("remove", operation)


def calendars_from_env(zone: dt.tzinfo, env: Optional[Mapping[str, str]] = None) -> Optional[CalDAVCalendars]:
    """The configured calendars, or None when booking has no calendar (CALDAV_URL unset)."""
    config = CalDAVConfig.from_env(env)
    return CalDAVCalendars(config, zone) if config else None
