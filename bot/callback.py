"""A callback moment in free French, kept as said and normalised for the consultant.

« plutôt en fin de journée, après 17h » → « en semaine · 17 h – 19 h »; « mardi matin » →
« mardi · 9 h – 12 h »; « pas le lundi » → « sauf lundi ». The visitor's words are always
kept too (`callback_time`); the normalised form (`callback_window`) is what the consultant
sorts and reads at a glance. Nothing is guessed: a moment it cannot read gives None.
"""
from __future__ import annotations

import re
from typing import Optional

from bot.nlp import fold

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# Parts of the day, as a consultant's office hours understand them.
PERIODS = (  # the more precise first: « fin d'après-midi » before « après-midi » before « midi »
    (r"\bdebut de matinee\b|\btot le matin\b|\bpremiere heure\b", (8, 10)),
    (r"\bfin de matinee\b", (11, 12)),
    (r"\bdebut (?:d'|de l')apres[- ]?midi\b", (14, 16)),
    (r"\bfin (?:d'|de l')apres[- ]?midi\b|\bfin de journee\b|\bsoir(?:ee)?\b|\bapres le boulot\b", (17, 19)),
    (r"\bapres[- ]?midis?\b|\baprem\b", (14, 18)),
    (r"\bmatin(?:ee)?s?\b", (9, 12)),
    (r"\bentre midi et (?:deux|2|14 ?h)\b|\bpause dej\w*\b|\bheure du dej\w*\b|\bmidi\b", (12, 14)),
)
_HOUR = r"(\d{1,2})\s*(?:h|heures?)\s*(\d{2})?"
_NEGATED_DAY = re.compile(rf"\b(?:pas|jamais|sauf|hors|evitez|excepte)\s+(?:le\s+|les\s+)?({'|'.join(DAYS)})s?\b")
_WEEK = re.compile(r"\b(?:en semaine|du lundi au vendredi|jours? ouvr\w+)\b")


def _hours(folded: str) -> Optional[tuple[int, int]]:
    between = re.search(rf"\bentre\s+{_HOUR}\s+et\s+{_HOUR}", folded)
    if between:
        return int(between.group(1)), int(between.group(3))
    after = re.search(rf"\b(?:apres|a partir de|des|passe)\s+{_HOUR}", folded)
    if after:
        start = int(after.group(1))
        return start, min(start + 2, 20)
    before = re.search(rf"\b(?:avant)\s+{_HOUR}", folded)
    if before:
        end = int(before.group(1))
        return max(end - 2, 8), end
    at = re.search(rf"\b(?:a|vers|sur les|aux alentours de)\s+{_HOUR}", folded) or re.search(rf"^\s*{_HOUR}\s*$", folded)
    if at:
        start = int(at.group(1))
        return start, start + 1
    return None


def _period(folded: str) -> Optional[tuple[int, int]]:
    for pattern, hours in PERIODS:
        if re.search(pattern, folded):
            return hours
    return None


def mentions_moment(text: str) -> int:
    """How many signs of a moment the text holds (days, parts of the day, hours)."""
    folded = fold(text).replace("’", "'")
    count = sum(bool(re.search(rf"\b{d}s?\b", folded)) for d in DAYS)
    count += sum(bool(re.search(p, folded)) for p, _ in PERIODS)
    count += len(re.findall(_HOUR, folded)) + bool(_WEEK.search(folded))
    return count


def normalise_moment(text: str) -> Optional[str]:
    """« mardi · 9 h – 12 h », « sauf lundi · 17 h – 19 h »… or None when nothing is read."""
    folded = fold(text).replace("’", "'")
    excluded = {m.group(1) for m in _NEGATED_DAY.finditer(folded)}
    week = bool(_WEEK.search(folded))  # « du lundi au vendredi » is the week, not two days
    days = [] if week else [d for d in DAYS if re.search(rf"\b{d}s?\b", folded) and d not in excluded]
    hours = _hours(folded) or _period(folded)
    parts = []
    if days:
        parts.append(", ".join(days))
    elif week:
        parts.append("en semaine")
    if excluded:
        parts.append("sauf " + ", ".join(d for d in DAYS if d in excluded))
    if hours:
        parts.append(f"{hours[0]} h – {hours[1]} h")
    return " · ".join(parts) or None
