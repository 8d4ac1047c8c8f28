"""Retention: a lead not contacted for three years is erased (docs/leads.md, « Conservation »);
a conversation that led to no lead is erased after 30 days (``CONVERSATIONS_RETENTION``), and
an unconsented contact form is redacted once it has expired.

`sip-coach leads purge --older-than 3y` does it on demand; the outbox worker, which runs in
both profiles, does it once a day with :class:`RetentionSchedule`, so the policy holds without
a cron job. The period comes from ``LEADS_RETENTION`` (``3y`` by default, ``off`` to leave it
to a scheduled command).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Optional, Tuple

Duration = Tuple[int, str]  # (3, "y"): N days ("d"), months ("m") or years ("y")

DEFAULT_RETENTION = "3y"
# Conversations that led to no lead (CONVERSATIONS_RETENTION): kept a month, then erased.
DEFAULT_CONVERSATIONS_RETENTION = "30d"
# Unconsented contact forms of visitors who never came back are redacted this often.
FORGET_FORMS_EVERY = dt.timedelta(hours=1)
OFF_WORDS = {"off", "non", "no", "false"}
PURGE_EVERY = dt.timedelta(days=1)
RETRY_AFTER_FAILURE = dt.timedelta(hours=1)
LONGEST = {"d": 36525, "m": 1200, "y": 100}  # 100 years: longer is a typo, or no date at all

_DURATION = re.compile(r"^\s*(\d+)\s*([dmyjaDMYJA])\s*$")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class InvalidDuration(ValueError):
    """The message is French and meant for the user."""


def parse_duration(text: str) -> Duration:
    """``"3y"`` -> (3, "y"); accepts d/m/y (and the French j/a)."""
    match = _DURATION.match(text or "")
    if not match:
        raise InvalidDuration(f"durée invalide « {text} » : écrivez par exemple 90d, 18m ou 3y")
    number, unit = int(match.group(1)), match.group(2).lower()
    unit = {"j": "d", "a": "y"}.get(unit, unit)
    if number <= 0:
        raise InvalidDuration("la durée doit être positive")
    if number > LONGEST[unit]:
        raise InvalidDuration(f"durée trop longue « {text.strip()} » : au plus 100 ans")
    return number, unit


def parse_retention(text: Optional[str]) -> Optional[Duration]:
    """A retention period, or None for ``off`` (no automatic purge)."""
    text = (text or "").strip()
    if text.lower() in OFF_WORDS:
        return None
    return parse_duration(text)


def subtract_duration(now: dt.datetime, duration: Duration) -> dt.datetime:
    """``now`` minus N days, months or years (calendar months, clamped at month end), or
    minus a timedelta."""
    if isinstance(duration, dt.timedelta):
        return now - duration
    number, unit = duration
    if unit == "d":
        return now - dt.timedelta(days=number)
    months = number * (12 if unit == "y" else 1)
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))


class RetentionSchedule:
    """Runs the purge at most once per ``every`` (the worker calls it on each pass).

    A failed purge (database down) is tried again after ``retry_after``, not on every pass.
    Several workers may each purge: erasing what is already erased finds nothing.
    """

    def __init__(self, purge: Callable[[dt.datetime], object], retention: Optional[Duration],
                 every: dt.timedelta = PURGE_EVERY,
                 retry_after: dt.timedelta = RETRY_AFTER_FAILURE,
                 clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._purge = purge
        self.retention = retention
        self.every = every
        self.retry_after = retry_after
        self._clock = clock
        self._next: Optional[dt.datetime] = None

    def run_if_due(self):
        """The purge's cutoff and report, or None when not due (or retention is off).
        The purge's exception, if any, is raised after the next attempt is scheduled."""
        if self.retention is None:
            return None
        now = self._clock()
        if self._next is not None and now < self._next:
            return None
        self._next = now + self.retry_after
        cutoff = subtract_duration(now, self.retention)
        report = self._purge(cutoff)
        self._next = now + self.every
        return cutoff, report
