"""What a visitor says about *when*, read into a :class:`~bot.booking.slots.Wish`.

« plus tard », « pas ce jour-là », « plutôt le matin », « la semaine prochaine », « jeudi »,
« pas le lundi », « rien avant 14h », « le 15 », « le 8 décembre », « demain »: each refines
the slots Marc shows. Impossible or past dates (« le 31 février », « hier ») are not guessed
into something else: they come back as a problem to tell the visitor.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from bot.booking.slots import MONTHS, Wish
from bot.booking.settings import WEEKDAYS
from bot.nlp import fold

_MONTHS_FOLDED = tuple(fold(m) for m in MONTHS)
_MONTH_ALIASES = {"fev": 2, "fevr": 2, "janv": 1, "sept": 9, "oct": 10, "nov": 11, "dec": 12, "avr": 4, "juil": 7}
_DAY = "|".join(WEEKDAYS)
HOUR = r"(\d{1,2})\s*(?:h|heures?|:)\s*(\d{2})?"  # « 14h », « 9 h 30 », « 10:15 » (also bot/booking/dialogue.py)

LATER = re.compile(r"\b(?:plus tard|plus loin|d'autres|autres? (?:creneaux?|dates?|horaires?|moments?|propositions?)"
                   r"|suivants?|la suite|apres (?:ca|ceux-ci|ces creneaux)|encore)\b")
EARLIER = re.compile(r"\b(?:plus tot|plus vite|au plus vite|le plus tot|des que possible|asap|rapidement)\b")
NONE_FIT = re.compile(r"\b(?:aucun(?:e)?|rien|pas un seul|ni l'un ni l'autre)\b.*\b(?:va|vont|convien\w*|colle\w*|arrange\w*|possible|dispo\w*)\b"
                      r"|\b(?:ca|ce|ces creneaux|ils?|elles?) ne (?:me )?(?:va|vont|convien\w*|colle\w*|arrange\w*) pas\b"
                      r"|\bpas (?:dispo\w*|libre|possible) (?:a ces|sur ces|ces)\b|\bimpossible pour moi\b|\bpas (?:pour|a) moi\b")
OTHER_DAY = re.compile(r"\b(?:pas ce jour|pas ces jours|pas le meme jour|un autre jour|d'autres jours|pas (?:ce|cette) (?:jour|date|journee)s?(?:-la)?"
                       r"|autre journee|ce jour(?:-la)? (?:ne|n'est|c'est pas|pas)|pas (?:possible|dispo\w*) ce jour)")
NEXT_WEEK = re.compile(r"\b(?:la )?semaine (?:pro(?:chaine)?|d'apres|suivante)\b|\bsemaine pro\b")
THIS_WEEK = re.compile(r"\bcette semaine\b|\bd'ici (?:la fin de la semaine|vendredi)\b")
IN_WEEKS = re.compile(r"\bdans (deux|2|trois|3|quinze|15) (?:semaines|jours)\b")
TOMORROW = re.compile(r"\bdemain\b")
AFTER_TOMORROW = re.compile(r"\bapres[- ]demain\b")
PAST = re.compile(r"\b(?:hier|avant[- ]hier|la semaine (?:derniere|passee)|le mois (?:dernier|passe))\b")
NEGATED_DAY = re.compile(rf"\b(?:pas|jamais|sauf|hors|evitez?|excepte|surtout pas|plutot pas)\s+(?:le |les |de |du )?({_DAY})s?\b")
WEEKDAY = re.compile(rf"\b({_DAY})s?\b")
DATE_WORDS = re.compile(r"\b(?:le\s+)?(\d{1,2}|1er|premier)\s+(" + "|".join(_MONTHS_FOLDED + tuple(_MONTH_ALIASES)) + r")\.?(?:\s+(\d{4}))?\b")
DATE_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
DAY_ONLY = re.compile(r"\b(?:le|du|au|pour le|vers le)\s+(\d{1,2}|1er)\b(?!\s*(?:h|heures?|:|/|mn|min|personnes|salaries))")
MORNING = re.compile(r"\bmatin(?:ee)?s?\b|\bavant (?:midi|le dej\w*)\b")
AFTERNOON = re.compile(r"\bapres[- ]?midis?\b|\baprem\b|\bapres (?:le )?(?:dej\w*|midi)\b")
LATE_DAY = re.compile(r"\bfin (?:de (?:la )?journee|d'apres[- ]?midi|de l'apres[- ]?midi)\b|\bsoir(?:ee)?\b|\bapres le (?:boulot|travail)\b")
LUNCH = re.compile(r"\bentre midi et (?:deux|2|14 ?h)\b|\bpause dej\w*\b|\bheure du dej\w*\b")
FROM_HOUR = re.compile(rf"\b(?:apres|a partir de|des|passe|pas avant|rien avant|plus tard que|au plus tot a)\s+{HOUR}")
UNTIL_HOUR = re.compile(rf"\b(?:avant|pas apres|rien apres|jusqu'a|au plus tard a|d'ici)\s+{HOUR}")
AT_HOUR = re.compile(rf"(?:\b(?:a|vers|sur les|aux alentours de|pour|autour de)\s+)?\b{HOUR}(?![\d])")
NIGHT = re.compile(r"\b(?:du matin|de la nuit|la nuit|du soir)\b")


@dataclass(frozen=True)
class WishReading:
    """What the message says about when: a wish (refining the previous one), a problem to
    tell the visitor in French, or nothing at all (``said`` False)."""

    wish: Optional[Wish] = None
    problem: Optional[str] = None
    none_fit: bool = False
    earlier: bool = False  # « plus tôt ? »: the soonest slots again

    @property
    def said(self) -> bool:
        return self.wish is not None or self.problem is not None or self.none_fit


def _month(token: str) -> int:
    token = fold(token).rstrip(".")
    if token in _MONTHS_FOLDED:
        return _MONTHS_FOLDED.index(token) + 1
    return _MONTH_ALIASES.get(token, 0)


def _day_number(token: str) -> int:
    return 1 if token in ("1er", "premier") else int(token)


def _explicit_date(folded: str, today: dt.date) -> tuple[Optional[dt.date], Optional[str]]:
    """A date written out (« le 8 décembre », « 15/12 », « le 15 »): the date, or a problem."""
    day = month = year = None
    match = DATE_WORDS.search(folded)
    if match:
        day, month = _day_number(match.group(1)), _month(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
    else:
        match = DATE_NUMERIC.search(folded)
        if match and not re.search(r"\d\s*[/.-]\s*\d\s*(?:h|heures)", folded):
            day, month = int(match.group(1)), int(match.group(2))
            year = int(match.group(3)) if match.group(3) else None
            if year is not None and year < 100:
                year += 2000
            if not 1 <= month <= 12:
                return None, f"Le {match.group(0)} n’est pas une date que je sais lire."
        else:
            match = DAY_ONLY.search(folded)
            if not match:
                return None, None
            day = _day_number(match.group(1))
            if not 1 <= day <= 31:
                return None, f"Le {day} ? Il n’y a pas de {day} dans un mois."
            # « le 15 »: this month's if still ahead, else next month's.
            month, year = today.month, today.year
            if day < today.day:
                month, year = (1, year + 1) if month == 12 else (month + 1, year)
    explicit_year = year is not None
    year = year or today.year
    try:
        date = dt.date(year, month, day)
    except ValueError:
        name = MONTHS[month - 1] if 1 <= month <= 12 else "ce mois"
        return None, f"Le {day} {name} n’existe pas."
    if date < today and not explicit_year and (today - date).days > 31:
        date = date.replace(year=year + 1)  # « le 8 janvier » said in December: next year's
    if date < today:
        return None, "Cette date est déjà passée."
    return date, None


def read_wish(text: str, now: dt.datetime, shown: Sequence[dt.datetime] = (),
              zone: Optional[dt.tzinfo] = None) -> WishReading:
    """Read ``text`` (a reply while slots are shown, or a request with a preference).
    ``now`` aware; ``shown`` the starts of the slots on screen (for « plus tard », « pas ce
    jour-là »); ``zone`` the office's time zone."""
    folded = fold(text).replace("’", "'")
    local_now = now.astimezone(zone) if zone else now
    today = local_now.date()
    shown_local = [s.astimezone(zone) if zone else s for s in shown]
    if PAST.search(folded):
        return WishReading(problem="Ce moment-là est déjà passé.")
    fields: dict = {}
    if NONE_FIT.search(folded) and shown_local:
        fields["after"] = max(shown_local).replace(tzinfo=None)
    if LATER.search(folded) and shown_local:
        fields["after"] = max(shown_local).replace(tzinfo=None)
    if EARLIER.search(folded):
        fields.pop("after", None)
    if OTHER_DAY.search(folded) and shown_local:
        fields["not_days"] = frozenset(s.date() for s in shown_local)
        fields.pop("after", None)
    # Days.
    date, problem = _explicit_date(folded, today)
    if problem:
        return WishReading(problem=problem)
    if date is not None:
        fields.update(from_day=date, until_day=date)
    elif AFTER_TOMORROW.search(folded):
        day = today + dt.timedelta(days=2)
        fields.update(from_day=day, until_day=day)
    elif TOMORROW.search(folded):
        day = today + dt.timedelta(days=1)
        fields.update(from_day=day, until_day=day)
    elif NEXT_WEEK.search(folded):
        monday = today + dt.timedelta(days=7 - today.weekday())
        fields.update(from_day=monday, until_day=monday + dt.timedelta(days=6))
    elif IN_WEEKS.search(folded):
        amount = IN_WEEKS.search(folded).group(1)
        weeks = 1 if amount in ("quinze", "15") else (3 if amount in ("trois", "3") else 2)
        monday = today + dt.timedelta(days=7 - today.weekday() + 7 * (weeks - 1))
        fields.update(from_day=monday)
    elif THIS_WEEK.search(folded):
        fields.update(from_day=today, until_day=today + dt.timedelta(days=6 - today.weekday()))
    negated = {WEEKDAYS.index(m.group(1)) for m in NEGATED_DAY.finditer(folded)}
    if negated:
        fields["not_weekdays"] = frozenset(negated)
    named = {WEEKDAYS.index(m.group(1)) for m in WEEKDAY.finditer(folded)} - negated
    if named and date is None:
        fields["weekdays"] = frozenset(named)
    # Moments of the day.
    start = FROM_HOUR.search(folded)
    # « rien avant 14h » is a start: its « avant 14h » is not an end as well.
    until = UNTIL_HOUR.search(folded[:start.start()] + folded[start.end():] if start else folded)
    if start or until:
        if start:
            fields["from_time"] = _time(start)
        if until:
            fields["until_time"] = _time(until)
        if fields.get("from_time") is None and fields.get("until_time") is None:
            return WishReading(problem="Cette heure-là n’existe pas.")
    elif LATE_DAY.search(folded):
        fields["from_time"] = dt.time(16, 0)
    elif LUNCH.search(folded):
        fields.update(from_time=dt.time(12, 0), until_time=dt.time(14, 0))
    elif AFTERNOON.search(folded):
        fields["from_time"] = dt.time(13, 0)
    elif MORNING.search(folded) and not NIGHT.search(folded):
        fields["until_time"] = dt.time(12, 30)
    else:
        at = AT_HOUR.search(folded)
        if at:
            moment = _time(at)
            if moment is None:
                return WishReading(problem="Cette heure-là n’existe pas.")
            if NIGHT.search(folded) and moment.hour < 7:
                return WishReading(problem="À cette heure-là, nos consultants dorment.")
            fields.update(from_time=moment, until_time=_plus(moment, 60))
    none_fit = bool(NONE_FIT.search(folded)) and set(fields) <= {"after"}
    earlier = bool(EARLIER.search(folded))
    if not fields and not earlier:
        return WishReading(none_fit=none_fit)
    return WishReading(wish=Wish(**fields), none_fit=none_fit, earlier=earlier)


def _time(match: re.Match) -> Optional[dt.time]:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def _plus(moment: dt.time, minutes: int) -> dt.time:
    total = min(moment.hour * 60 + moment.minute + minutes, 23 * 60 + 59)
    return dt.time(total // 60, total % 60)
