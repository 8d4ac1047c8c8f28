"""The office's booking rules, read from ``settings.yml`` (or the file ``BOOKING_SETTINGS`` names).

Times are local (Europe/Paris by default): a consultant thinks « 9 h – 12 h 30 », and the
slots stay at 9 h in winter and in summer. Everything is checked at load: a wrong file stops
the action server at start with a French message, not a visitor mid-booking.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_SETTINGS = Path(__file__).with_name("settings.yml")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class BookingSettingsError(ValueError):
    """The settings file is wrong; the message says where, in French."""


@dataclass(frozen=True)
class Consultant:
    id: str
    name: str
    email: str
    calendar: str


@dataclass(frozen=True)
class BookingSettings:
    timezone: ZoneInfo
    duration: dt.timedelta
    buffer: dt.timedelta
    notice: dt.timedelta
    horizon_days: int
    step: dt.timedelta
    slots_shown: int
    # Weekday (0 = Monday) → the day's working ranges, local times.
    working_hours: Mapping[int, Tuple[Tuple[dt.time, dt.time], ...]]
    days_off: frozenset
    consultants: Tuple[Consultant, ...]

    def consultant(self, consultant_id: str) -> Optional[Consultant]:
        return next((c for c in self.consultants if c.id == consultant_id), None)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.timezone)


def _minutes(raw: Mapping, key: str, low: int, high: int) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BookingSettingsError(f"{key} doit être un nombre entier entre {low} et {high} (reçu : {value!r})")
    return value


def _ranges(day: str, value) -> Tuple[Tuple[dt.time, dt.time], ...]:
    if value in (None, []):
        return ()
    if not isinstance(value, list):
        raise BookingSettingsError(f"working_hours.{day} : une liste de plages « 09:00-12:30 »")
    ranges = []
    for item in value:
        match = _RANGE.match(str(item))
        if not match:
            raise BookingSettingsError(f"working_hours.{day} : « {item} » n'est pas une plage « 09:00-12:30 »")
        h1, m1, h2, m2 = map(int, match.groups())
        if not (0 <= h1 < 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
            raise BookingSettingsError(f"working_hours.{day} : « {item} » n'est pas une heure valable")
        start, end = dt.time(h1, m1), (dt.time(23, 59) if h2 == 24 else dt.time(h2, m2))
        if end <= start:
            raise BookingSettingsError(f"working_hours.{day} : « {item} » finit avant de commencer")
        ranges.append((start, end))
    return tuple(sorted(ranges))


def parse_settings(raw: Mapping) -> BookingSettings:
    if not isinstance(raw, Mapping):
        raise BookingSettingsError("le fichier des rendez-vous doit être un dictionnaire YAML")
    try:
        zone = ZoneInfo(str(raw.get("timezone") or "Europe/Paris"))
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingSettingsError(f"timezone inconnu : {raw.get('timezone')!r}") from None
    hours = raw.get("working_hours") or {}
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise BookingSettingsError(f"working_hours : jours inconnus {sorted(unknown)} (lundi … dimanche)")
    working = {index: _ranges(day, hours.get(day)) for index, day in enumerate(WEEKDAYS)}
    days_off = set()
    for day in raw.get("days_off") or []:
        if not isinstance(day, dt.date):
            try:
                day = dt.date.fromisoformat(str(day))
            except ValueError:
                raise BookingSettingsError(f"days_off : « {day} » n'est pas une date AAAA-MM-JJ") from None
        days_off.add(day)
    consultants = []
    for index, item in enumerate(raw.get("consultants") or []):
        try:
            consultants.append(Consultant(
                id=str(item["id"]), name=str(item["name"]), email=str(item["email"]),
                calendar=str(item.get("calendar") or item["id"]),
            ))
        except (KeyError, TypeError):
            raise BookingSettingsError(f"consultants[{index}] : il faut id, name et email") from None
    if not consultants:
        raise BookingSettingsError("consultants : au moins un consultant reçoit les rendez-vous")
    if len({c.id for c in consultants}) != len(consultants):
        raise BookingSettingsError("consultants : deux consultants ont le même id")
    shown = _minutes(raw, "slots_shown", 3, 5)
    return BookingSettings(
        timezone=zone,
        duration=dt.timedelta(minutes=_minutes(raw, "duration_minutes", 10, 240)),
        buffer=dt.timedelta(minutes=_minutes(raw, "buffer_minutes", 0, 120)),
        notice=dt.timedelta(hours=_minutes(raw, "minimum_notice_hours", 0, 24 * 14)),
        horizon_days=_minutes(raw, "horizon_days", 1, 365),
        step=dt.timedelta(minutes=_minutes(raw, "slot_step_minutes", 5, 240)),
        slots_shown=shown,
        working_hours=working,
        days_off=frozenset(days_off),
        consultants=tuple(consultants),
    )


def load_settings(path: Optional[Path] = None, env: Optional[Mapping[str, str]] = None) -> BookingSettings:
    env = os.environ if env is None else env
    path = Path(path or env.get("BOOKING_SETTINGS") or DEFAULT_SETTINGS)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BookingSettingsError(f"fichier des rendez-vous illisible : {path} ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise BookingSettingsError(f"{path} n'est pas du YAML valable : {error}") from None
    settings = parse_settings(raw)
    # The consultant's address may come from the environment (CONSULTANT_EMAIL, as for leads).
    override = (env.get("BOOKING_CONSULTANT_EMAIL") or "").strip()
    if override:
        first, *rest = settings.consultants
        settings = BookingSettings(**{**settings.__dict__, "consultants": (
            Consultant(first.id, first.name, override, first.calendar), *rest)})
    return settings


@lru_cache(maxsize=1)
def default_settings() -> BookingSettings:
    return load_settings()


def working_hours_text(settings: BookingSettings) -> str:
    """« du lundi au vendredi, 9 h – 12 h 30 et 14 h – 18 h » style summary for the visitor."""
    days = [WEEKDAYS[d] for d, r in settings.working_hours.items() if r]
    if not days:
        return "sur rendez-vous"
    ranges: Dict[Tuple, int] = {}
    for d, r in settings.working_hours.items():
        if r:
            ranges[r] = ranges.get(r, 0) + 1
    usual = max(ranges, key=ranges.get)
    hours = " et ".join(f"{hour_text(a)} – {hour_text(b)}" for a, b in usual)
    span = f"du {days[0]} au {days[-1]}" if len(days) > 2 else " et ".join(days)
    return f"{span}, {hours}"


def hour_text(moment: dt.time) -> str:
    """10 h 00 style, as French typography writes a time: « 9 h », « 12 h 30 »."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"
