"""Free slots: the office's working hours, minus days off, minimum notice, and the consultants'
busy time widened by the buffer on both sides.

Slots are computed in local time (a consultant's 9 h stays 9 h across a change of clock) and
returned as aware datetimes. A local time that does not exist (the spring-forward hour) or
exists twice (the autumn one) is never offered: a meeting whose hour is ambiguous is a missed
meeting.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

from bot.booking.settings import WEEKDAYS, BookingSettings

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


@dataclass(frozen=True)
class Interval:
    start: dt.datetime
    end: dt.datetime

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    consultant_id: str

    @property
    def key(self) -> str:
        """What a button carries: the start in UTC, minute precision (« 2026-12-08T09:00Z »)."""
        return slot_key(self.start)


def slot_key(start: dt.datetime) -> str:
    return start.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def parse_slot_key(key: object) -> Optional[dt.datetime]:
    """The start a button's key names, or None for anything else (a forged payload)."""
    if not isinstance(key, str) or len(key) > 40:
        return None
    try:
        moment = dt.datetime.strptime(key.strip(), "%Y-%m-%dT%H:%MZ")
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Wish:
    """When the visitor would like it. Empty: the soonest slots."""

    after: Optional[dt.datetime] = None          # strictly later than this moment
    from_day: Optional[dt.date] = None           # on or after this day
    until_day: Optional[dt.date] = None          # on or before this day
    weekdays: frozenset = frozenset()            # only these (0 = Monday)
    not_weekdays: frozenset = frozenset()
    not_days: frozenset = frozenset()            # « pas ce jour-là »
    from_time: Optional[dt.time] = None          # starting at or after this local time
    until_time: Optional[dt.time] = None         # ending at or before this local time

    def accepts(self, local_start: dt.datetime, local_end: dt.datetime) -> bool:
        day = local_start.date()
        if self.after is not None and local_start <= self.after:
            return False
        if self.from_day and day < self.from_day or self.until_day and day > self.until_day:
            return False
        if self.weekdays and day.weekday() not in self.weekdays or day.weekday() in self.not_weekdays:
            return False
        if day in self.not_days:
            return False
        if self.from_time and local_start.time() < self.from_time:
            return False
        if self.until_time and local_end.time() > self.until_time and local_end.date() == day:
            return False
        return True

    def to_dict(self) -> dict:
        """JSON-ready (a Rasa slot): dates and times as ISO text, sets as sorted lists."""
        out = {}
        for name, value in self.__dict__.items():
            if isinstance(value, frozenset):
                if value:
                    out[name] = sorted(v.isoformat() if hasattr(v, "isoformat") else v for v in value)
            elif value is not None:
                out[name] = value.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: object) -> "Wish":
        """Back from a slot; anything malformed (a forged slot) is the empty wish."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(
                after=dt.datetime.fromisoformat(data["after"]) if data.get("after") else None,
                from_day=dt.date.fromisoformat(data["from_day"]) if data.get("from_day") else None,
                until_day=dt.date.fromisoformat(data["until_day"]) if data.get("until_day") else None,
                weekdays=frozenset(int(d) for d in data.get("weekdays") or ()),
                not_weekdays=frozenset(int(d) for d in data.get("not_weekdays") or ()),
                not_days=frozenset(dt.date.fromisoformat(d) for d in data.get("not_days") or ()),
                from_time=dt.time.fromisoformat(data["from_time"]) if data.get("from_time") else None,
                until_time=dt.time.fromisoformat(data["until_time"]) if data.get("until_time") else None,
            )
        except (TypeError, ValueError, KeyError):
            return cls()

    def merged(self, newer: "Wish") -> "Wish":
        """A new wish refines the previous one (« plutôt le matin », then « pas le lundi »);
        a new day or range of days replaces the previous one."""
        days = newer.from_day is not None or newer.until_day is not None or bool(newer.weekdays)
        return Wish(
            after=newer.after,
            from_day=newer.from_day if days else self.from_day,
            until_day=newer.until_day if days else self.until_day,
            weekdays=newer.weekdays if days else self.weekdays,
            not_weekdays=self.not_weekdays | newer.not_weekdays,
            not_days=self.not_days | newer.not_days,
            from_time=newer.from_time if (newer.from_time or newer.until_time) else self.from_time,
            until_time=newer.until_time if (newer.from_time or newer.until_time) else self.until_time,
        )


def _local_moment(settings: BookingSettings, day: dt.date, time: dt.time) -> Optional[dt.datetime]:
    """The aware moment of a local wall-clock time, or None when that time does not exist or
    exists twice on that day (changes of clock)."""
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=settings.timezone, fold=0)
    second = naive.replace(tzinfo=settings.timezone, fold=1)
    if first.utcoffset() != second.utcoffset():
        return None  # ambiguous (the repeated hour) or missing (the skipped one)
    return first


def candidate_starts(settings: BookingSettings, now: dt.datetime) -> Iterator[tuple]:
    """(start, end) of every slot of the working hours within the horizon, past the notice."""
    earliest = now + settings.notice
    today = settings.local(now).date()
    for offset in range(settings.horizon_days + 1):
        day = today + dt.timedelta(days=offset)
        if day in settings.days_off:
            continue
        for range_start, range_end in settings.working_hours.get(day.weekday(), ()):
            start = dt.datetime.combine(day, range_start)
            last = dt.datetime.combine(day, range_end) - settings.duration
            while start <= last:
                aware = _local_moment(settings, day, start.time())
                aware_end = _local_moment(settings, day, (start + settings.duration).time())
                if aware is not None and aware_end is not None and aware >= earliest:
                    yield aware, aware_end
                start += settings.step


def is_on_grid(settings: BookingSettings, start: dt.datetime, now: dt.datetime) -> bool:
    """Is ``start`` one of the office's slots (working hours, step, notice, horizon)? A slot
    sent back in a request is checked this way before anything else: a forged one is not."""
    local = settings.local(start)
    return any(candidate == local for candidate, _ in candidate_starts(settings, now)
               if candidate.date() == local.date())


def free_consultant(settings: BookingSettings, start: dt.datetime, end: dt.datetime,
                    busy: Mapping[str, Sequence[Interval]]) -> Optional[str]:
    """The first consultant free from ``start`` to ``end``, buffer included, or None."""
    before, after = start - settings.buffer, end + settings.buffer
    for consultant in settings.consultants:
        if not any(i.overlaps(before, after) for i in busy.get(consultant.id, ())):
            return consultant.id
    return None


def free_slots(settings: BookingSettings, busy: Mapping[str, Sequence[Interval]], now: dt.datetime,
               wish: Wish = Wish(), limit: Optional[int] = None) -> List[Slot]:
    """The first ``limit`` (settings.slots_shown) free slots that fit the wish, soonest first."""
    limit = settings.slots_shown if limit is None else limit
    found: List[Slot] = []
    for start, end in candidate_starts(settings, now):
        if not wish.accepts(settings.local(start).replace(tzinfo=None), settings.local(end).replace(tzinfo=None)):
            continue
        consultant = free_consultant(settings, start, end, busy)
        if consultant is not None:
            found.append(Slot(start, end, consultant))
            if len(found) >= limit:
                break
    return found


def spread(slots: Sequence[Slot], limit: int, gap: dt.timedelta = dt.timedelta(hours=2)) -> List[Slot]:
    """At most two slots a day, at least ``gap`` apart, so that the buttons show a choice of
    days and of moments rather than one morning in half-hours. Falls back to the plain list
    when spreading would show fewer slots than there are."""
    chosen: List[Slot] = []
    per_day: Dict[dt.date, List[Slot]] = {}
    for slot in slots:
        same_day = per_day.setdefault(slot.start.date(), [])
        if len(same_day) < 2 and all(slot.start - s.start >= gap for s in same_day):
            same_day.append(slot)
            chosen.append(slot)
        if len(chosen) == limit:
            return chosen
    if len(chosen) < min(limit, len(slots)):
        rest = [s for s in slots if s not in chosen]
        chosen = sorted(chosen + rest[: limit - len(chosen)], key=lambda s: s.start)
    return chosen


def offer(settings: BookingSettings, busy: Mapping[str, Sequence[Interval]], now: dt.datetime,
          wish: Wish = Wish()) -> List[Slot]:
    """The slots Marc shows: ``slots_shown`` free ones fitting the wish, spread over days."""
    candidates = free_slots(settings, busy, now, wish, limit=settings.slots_shown * 8)
    return spread(candidates, settings.slots_shown)


def slot_label(settings: BookingSettings, start: dt.datetime, with_year: bool = False) -> str:
    """« mardi 8 décembre, 10 h 00 » (Paris time)."""
    local = settings.local(start)
    year = f" {local.year}" if with_year else ""
    return (f"{WEEKDAYS[local.weekday()]} {local.day}{'er' if local.day == 1 else ''} "
            f"{MONTHS[local.month - 1]}{year}, {local.hour} h {local.minute:02d}")

