"""What one visitor message means while Marc shows slots, or asks « par téléphone ou en visio ? ».

Read in this order, like a consultant holding the diary would:

1. a slot named: its button's text, an ordinal (« le premier », « le 2e », « le dernier »),
   or the day and/or hour of exactly one slot on screen (« mardi 10h », « va pour jeudi »);
2. a wish about when (« plus tard », « pas ce jour-là », « plutôt le matin », « le 15 »):
   new slots are shown; an impossible or past date is said so, never guessed;
3. asking to be called back instead (« rappelez-moi plutôt »): the callback form;
4. anything else is not an answer: the rules answer it (a question, « stop ») and the slots
   come back afterwards.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from bot.booking.settings import WEEKDAYS
from bot.booking.slots import Wish
from bot.booking.wishes import HOUR, LATER, NONE_FIT, OTHER_DAY, read_wish
from bot.nlp import fold

CALLBACK = "callback"  # booking_slot value: the visitor prefers a call back
ORDINALS = (
    (r"\b(?:le |la )?(?:premier|premiere|1er|1ere|1 er)\b|^\s*1\s*$|\bn(?:°|o|um(?:ero)?)?\s*1\b|\bcreneau 1\b|\boption 1\b", 0),
    (r"\b(?:le |la )?(?:deuxieme|second|seconde|2e|2eme|2nd|2nde)\b|^\s*2\s*$|\bn(?:°|o|um(?:ero)?)?\s*2\b|\bcreneau 2\b|\boption 2\b", 1),
    (r"\b(?:le |la )?(?:troisieme|3e|3eme)\b|^\s*3\s*$|\bn(?:°|o|um(?:ero)?)?\s*3\b|\bcreneau 3\b|\boption 3\b", 2),
    (r"\b(?:le |la )?(?:quatrieme|4e|4eme)\b|^\s*4\s*$|\bn(?:°|o|um(?:ero)?)?\s*4\b|\bcreneau 4\b|\boption 4\b", 3),
    (r"\b(?:le |la )?(?:cinquieme|5e|5eme)\b|^\s*5\s*$|\bcreneau 5\b|\boption 5\b", 4),
)
LAST = re.compile(r"\b(?:le |la )?dernier(?:e)?\b")
BEFORE_LAST = re.compile(r"\bavant[- ]dernier(?:e)?\b")
CALLBACK_WORDS = re.compile(
    r"\b(?:rappelez[- ]moi|rappelle[- ]moi|me (?:faire )?rappeler|qu'on me rappelle|etre rappele|un rappel"
    r"|plutot (?:un )?rappel|je prefere (?:etre rappele|qu'on m'appelle))\b")
VIDEO = re.compile(r"\b(?:visio\w*|video\w*|teams|zoom|meet|google meet|skype|webcam|camera|ecran|en ligne|distanciel|whereby|jitsi)\b")
PHONE = re.compile(r"\b(?:tel|tele(?:phone)?|telephon\w*|phone|appel\w*|portable|mobile|au bout du fil|de vive voix|gsm)\b")
ANY_MODE = re.compile(r"\b(?:peu importe|indifferent\w*|comme vous (?:voulez|preferez)|comme tu veux|les deux|l'un ou l'autre|n'importe|egal|pas de preference|ca m'est egal)\b")
_HOUR = re.compile(rf"\b{HOUR}")
_DAY_NUMBER = re.compile(r"\b(?:le |du )?(\d{1,2}|1er)\b(?!\s*(?:h|heures?|:|\d))")
# A rank or a slot refused: « pas le premier », « aucun », « un autre ».
_REFUSED = re.compile(r"\b(?:pas|sauf|autre|autres|aucun\w*|ni)\b")
# Words that turn a named day into a wish rather than a choice: « pas jeudi », « plutôt jeudi ».
_NOT_A_CHOICE = re.compile(r"\b(?:pas|sauf|plutot|autre|autres|prefere\w*|mieux|apres|avant|a partir|rien|aucun\w*|ni)\b")


@dataclass(frozen=True)
class SlotReply:
    kind: str                       # chosen | wish | problem | callback | none_fit | not_an_answer
    chosen: Optional[dt.datetime] = None
    wish: Optional[Wish] = None
    problem: Optional[str] = None
    earlier: bool = False


def _chosen_by_words(folded: str, shown: Sequence[dt.datetime]) -> Optional[dt.datetime]:
    days = {WEEKDAYS.index(d) for d in WEEKDAYS if re.search(rf"\b{d}s?\b", folded)}
    hour = _HOUR.search(folded)
    numbers = {1 if n == "1er" else int(n) for n in _DAY_NUMBER.findall(folded)}
    if not days and not hour and not numbers:
        return None
    matches = []
    for start in shown:
        if days and start.weekday() not in days:
            continue
        if numbers and start.day not in numbers:
            continue
        if hour and (start.hour, start.minute) != (int(hour.group(1)), int(hour.group(2) or 0)):
            continue
        matches.append(start)
    return matches[0] if len(matches) == 1 else None


def read_slot_reply(text: str, shown: Sequence[dt.datetime], labels: Sequence[str], now: dt.datetime,
                    zone: dt.tzinfo) -> SlotReply:
    """``shown``: the starts on screen (aware, in order); ``labels``: their button texts."""
    folded = fold(text).replace("’", "'").strip()
    if not folded:
        return SlotReply("not_an_answer")
    local = [s.astimezone(zone) for s in shown]
    for start, label in zip(shown, labels):
        if folded.strip(" .!") == fold(label).replace("’", "'"):
            return SlotReply("chosen", chosen=start)
    if CALLBACK_WORDS.search(folded):
        return SlotReply("callback")
    refused = bool(_REFUSED.search(folded) or LATER.search(folded) or OTHER_DAY.search(folded)
                   or NONE_FIT.search(folded))
    if shown and not refused:  # « l'avant-dernier », « le premier »: a rank is a choice
        if BEFORE_LAST.search(folded) and len(shown) > 1:
            return SlotReply("chosen", chosen=shown[-2])
        if LAST.search(folded):
            return SlotReply("chosen", chosen=shown[-1])
        for pattern, index in ORDINALS:
            if re.search(pattern, folded) and index < len(shown):
                return SlotReply("chosen", chosen=shown[index])
    if shown and not refused and not _NOT_A_CHOICE.search(folded):
        by_words = _chosen_by_words(folded, local)
        if by_words is not None:
            return SlotReply("chosen", chosen=shown[local.index(by_words)])
    reading = read_wish(text, now, shown, zone)
    if reading.problem:
        return SlotReply("problem", problem=reading.problem)
    if reading.wish is not None:
        return SlotReply("wish", wish=reading.wish, earlier=reading.earlier)
    if reading.none_fit:
        return SlotReply("none_fit")
    return SlotReply("not_an_answer")


def read_mode(text: str) -> Optional[str]:
    """« en visio » → video, « par tel » → phone, « peu importe » → phone (the simplest), else None."""
    folded = fold(text).replace("’", "'")
    video, phone = bool(VIDEO.search(folded)), bool(PHONE.search(folded))
    if video and not phone:
        return "video"
    if phone and not video:
        return "phone"
    if video and phone:
        # « pas en visio, par téléphone »: the negated one loses.
        if re.search(r"\bpas (?:en |par )?(?:visio|video)", folded):
            return "phone"
        if re.search(r"\bpas (?:par |au )?(?:tel|telephone)", folded):
            return "video"
        return None
    if ANY_MODE.search(folded):
        return "phone"
    return None
