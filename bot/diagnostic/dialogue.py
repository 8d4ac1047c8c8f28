"""The diagnostic as a conversation: what one visitor message means for the current question.

The Rasa form asks the questions in order; for each visitor message this module decides whether
it answers the question, needs the question asked again differently (once), or is not an
answer at all (a question to Marc, "stop", "pourquoi ?"), in which case the conversation's
rules take over and the form asks again afterwards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from bot.answers import looks_like_question, opens_with_answer, parse_answer, parse_relationship, understood
from bot.diagnostic.keys import QUESTION_KEYS
from bot.diagnostic.loader import Question, Questionnaire, load_questionnaire
from bot.forms import says_restart, says_stop, says_wait
from bot.nlp import fold, normalise

SLOT_PREFIX = "diag_"
# The slot that remembers which question was already asked a second time.
REPHRASED_SLOT = "diag_rephrased"

# While the form waits, a message is read first as an answer to the question on screen.
# These intents leave the form, but only when the message answers nothing: « on commence
# tout juste à mutualiser » is an answer, whatever the NLU made of « on commence ».
LEAVING_INTENTS = frozenset({"stop_session", "restart", "start_coaching", "start_diagnostic", "request_contact"})
# Questions to Marc, answered by the rules before the form asks again.
QUESTION_INTENTS = frozenset({"why_asked", "want_to_ask", "bot_challenge", "ask_marc_deal"})
QUESTION_INTENT_PREFIX = "ask_"
# Said in passing, not an answer: Marc replies in a line (actions/form_aside.py) and asks again.
SOCIAL_INTENTS = frozenset({"thanks", "greet", "goodbye"})

# What a visitor asking to be called back mid-diagnostic says (on the folded text).
_CALLBACK_WORDS = re.compile(r"\b(?:rappel|rapel|recontact|contactez|appelez[- ]moi|rendez[- ]vous|rdv|etre contacte"
                             r"|un consultant|un conseiller|vos coordonnees|mes coordonnees)")

ANSWER = "answer"
REPHRASE = "rephrase"
NOT_AN_ANSWER = "not_an_answer"


def slot_for(key: str) -> str:
    return f"{SLOT_PREFIX}{key}"


def key_for(slot: Optional[str]) -> Optional[str]:
    if slot and slot.startswith(SLOT_PREFIX) and slot[len(SLOT_PREFIX):] in QUESTION_KEYS:
        return slot[len(SLOT_PREFIX):]
    return None


REQUIRED_SLOTS = tuple(slot_for(key) for key in QUESTION_KEYS)


@dataclass(frozen=True)
class Turn:
    kind: str                     # ANSWER | REPHRASE | NOT_AN_ANSWER
    value: Optional[str] = None   # the answer recorded, for ANSWER


def read_turn(key: str, text: str, intent: Optional[str], already_rephrased: bool) -> Turn:
    """What the visitor's message means for question `key`: an answer first; a command or a
    question to Marc only when it answers nothing."""
    quick = _quick_reply_value(key, text)
    if quick is not None:
        return Turn(ANSWER, quick)     # a button of this question, whatever the NLU made of it
    intent = intent or ""
    remainder = _after_echo(text)
    if remainder and understood(remainder, key) and not looks_like_question(remainder):
        text = remainder  # « des réunions ? jamais, on s'appelle quand il y a un souci »
    answered = understood(text, key)
    if intent == "request_contact" and not _CALLBACK_WORDS.search(fold(text)):
        intent = ""  # « il m'appelle toutes les semaines » describes the partner, it asks for nothing
    if says_stop(text) or says_restart(text) or (intent in LEAVING_INTENTS and not answered):
        return Turn(NOT_AN_ANSWER)
    asking = looks_like_question(text)
    if asking and "?" in text and not opens_with_answer(text):
        return Turn(NOT_AN_ANSWER)     # "ça veut dire quoi, des obligations ?": a question first
    if not answered and (asking or intent in QUESTION_INTENTS or intent.startswith(QUESTION_INTENT_PREFIX)):
        return Turn(NOT_AN_ANSWER)     # "c'est quoi un pilier ?": answer it, then ask again
    if answered:
        value = parse_relationship(text) if key == "relationship" else parse_answer(text, key)
        return Turn(ANSWER, value)
    if says_wait(text) or intent in SOCIAL_INTENTS:
        return Turn(NOT_AN_ANSWER)     # « merci, je note tout ça », « deux secondes »: a line, then the question
    # Not understood: ask once more, differently; then record that we do not know.
    if already_rephrased:
        return Turn(ANSWER, "unclear" if key == "relationship" else "unknown")
    return Turn(REPHRASE)


def _after_echo(text: str) -> Optional[str]:
    """What follows a question word echoed back (« des réunions ? », « piloter ? », « équilibrée ? »):
    the visitor repeats Marc's word with a question mark, then answers."""
    head, mark, rest = text.partition("?")
    if not mark or not rest.strip(" ?!.") or "?" in rest.strip(" ") or len(head.split()) > 5:
        return None  # a second question mark: a second question, not an answer
    return rest.strip()


def own_words(key: str, text: str, limit: int = 200) -> Optional[str]:
    """The visitor's words for an answer, kept with it for the consultant (None for a button)."""
    if _quick_reply_value(key, text) is not None:
        return None
    return " ".join(normalise(text).split())[:limit] or None


def _quick_reply_value(key: str, text: str) -> Optional[str]:
    wanted = fold(normalise(text)).strip(" .!")
    for reply in load_questionnaire().question(key).quick_replies:
        if fold(normalise(reply.title)) == wanted:
            return reply.value
    return None


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: tuple[tuple[str, str], ...]   # (title, payload): payload is the title, read as text
    progress: str


def prompt_for(key: str, rephrased: bool, questionnaire: Optional[Questionnaire] = None) -> Prompt:
    q = (questionnaire or load_questionnaire()).question(key)
    return Prompt(
        text=q.rephrase if rephrased else q.prompt,
        buttons=tuple((reply.title, reply.title) for reply in q.quick_replies),
        progress=f"Question {q.position} sur {len(QUESTION_KEYS)}",
    )


def question_for(key: str, questionnaire: Optional[Questionnaire] = None) -> Question:
    return (questionnaire or load_questionnaire()).question(key)


def answers_from_slots(slots: Mapping[str, Optional[str]]) -> tuple[str, dict[str, str]]:
    """(relationship, answers) from the form's slots; what was not asked is unknown."""
    relationship = slots.get(slot_for("relationship")) or "unclear"
    answers = {
        key: slots.get(slot_for(key)) or "unknown"
        for key in QUESTION_KEYS if key != "relationship"
    }
    return relationship, answers


def is_complete(slots: Mapping[str, Optional[str]]) -> bool:
    return all(slots.get(slot) for slot in REQUIRED_SLOTS)


def is_started(slots: Mapping[str, Optional[str]]) -> bool:
    return any(slots.get(slot) for slot in REQUIRED_SLOTS)
