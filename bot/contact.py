"""The contact form as a conversation: what one visitor message means for the field asked.

Fields, in the order Marc asks them: name, company, e-mail, phone (at least one of the two),
an optional preferred time for the call back, the visitor's need in a few words, then the
consent step (the notice, a summary of what will be kept, and an explicit yes or no). At the
consent step the visitor may also ask to correct one field: it is emptied and asked again.

What was typed is personal data given without consent yet, so it is never replayed to the
channel after a pause (whoever holds the conversation id then may not be the visitor): the
recap names the fields instead of showing them. An unfinished form expires after
`CONTACT_FORM_TTL_MINUTES` (30 by default) without a message: its values are forgotten and a
consent given after that asks for the details again.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional

from bot.answers import looks_like_question, parse_answer
from bot.leads.validation import format_phone, validate_email, validate_phone
from bot.nlp import fold, normalise

log = logging.getLogger(__name__)

SLOT_PREFIX = "contact_"
FIELDS = ("name", "company", "email", "phone", "callback", "need", "consent")
REQUIRED_SLOTS = tuple(f"{SLOT_PREFIX}{f}" for f in FIELDS)
# Remembers that the visitor asked to correct a field and must now say which one.
FIX_SLOT = "contact_fix"
CHOOSING = "choose"
# Stored for an optional field the visitor chose to skip.
SKIPPED = "-"

DEFAULT_FORM_TTL_MINUTES = 30.0
# The recap shows the values only to a visitor still typing: a longer silence is a pause.
REPLAY_WINDOW_SECONDS = 10 * 60

NAME_MAX = 100
COMPANY_MAX = 120
FREE_TEXT_MAX = 300

STEERING_INTENTS = frozenset({
    "stop_session", "restart", "goodbye", "why_asked", "start_coaching", "start_diagnostic",
    "bot_challenge", "ask_marc_deal", "want_to_ask",
})

# What the visitor may call each field when asking to correct it (folded, no accents).
FIELD_WORDS = {
    "name": ("nom", "prenom", "je m'appelle"),
    "company": ("entreprise", "societe", "boite", "structure", "company"),
    "email": ("mail", "courriel", "adresse"),
    "phone": ("telephone", "tel", "numero", "portable", "mobile"),
    "callback": ("creneau", "horaire", "moment", "rappel", "heure"),
    "need": ("besoin", "attente", "projet", "demande"),
}
FIELD_LABELS = {
    "name": "Nom", "company": "Entreprise", "email": "E-mail", "phone": "Téléphone",
    "callback": "Créneau de rappel", "need": "Votre besoin",
}

_SKIP = re.compile(
    r"^(?:non|nan|non merci|aucun|aucune|pas de (?:mail|e-?mail|courriel|telephone|tel|numero)|pas d'(?:e-?mail|adresse)"
    r"|je prefere (?:pas|ne pas|le telephone|l'e-?mail|par mail|par telephone)|passer|passe|sans|rien|pas maintenant"
    r"|peu importe|n'importe quand|quand vous voulez|indifferent|pas de preference|-)\b"
)
_CORRECT = re.compile(r"\b(?:corrig|modifi|chang|rectifi|erreur|tromp)")


@dataclass(frozen=True)
class ContactTurn:
    """Slots to set (None empties a slot), or an error to say before asking again."""

    slots: Mapping[str, Optional[str]] = field(default_factory=dict)
    error: Optional[str] = None
    is_answer: bool = True


NOT_AN_ANSWER = ContactTurn(is_answer=False)


def slot_for(name: str) -> str:
    return f"{SLOT_PREFIX}{name}"


def _is_skip(text: str) -> bool:
    return bool(_SKIP.match(fold(text)))


def _short_text(text: str, limit: int) -> str:
    return normalise(text)[:limit].strip()


def read_contact_turn(
    field_name: str, text: str, intent: Optional[str], slots: Mapping[str, Optional[str]],
    quick_replies: tuple[str, ...] = (),
) -> ContactTurn:
    """What the visitor's message means for the field being asked. A button offered with the
    question (`quick_replies`) is always an answer, whatever the NLU made of its title."""
    text = normalise(text)
    reader = _READERS[field_name]
    if fold(text) in {fold(normalise(title)) for title in quick_replies}:
        return reader(text, slots)
    if (intent or "") in STEERING_INTENTS:
        return NOT_AN_ANSWER
    if (intent or "").startswith("ask_") and looks_like_question(text):
        return NOT_AN_ANSWER
    return reader(text, slots)


def _read_name(text: str, slots) -> ContactTurn:
    name = _short_text(text, NAME_MAX)
    if not re.search(r"[^\W\d_]", name) or len(name) < 2:
        return ContactTurn(error="Je n'ai pas bien saisi votre nom : pouvez-vous me l'écrire, par exemple « Arnaud Martin » ?")
    return ContactTurn({slot_for("name"): name})


def _read_company(text: str, slots) -> ContactTurn:
    company = _short_text(text, COMPANY_MAX)
    if not re.search(r"\w", company):
        return ContactTurn(error="Quel est le nom de votre entreprise ?")
    return ContactTurn({slot_for("company"): company})


def _read_email(text: str, slots) -> ContactTurn:
    if _is_skip(text):
        return ContactTurn({slot_for("email"): SKIPPED})
    result = validate_email(text)
    if not result.ok:
        return ContactTurn(error=f"{result.error} Si vous préférez être appelé, répondez « pas d'e-mail ».")
    return ContactTurn({slot_for("email"): result.value})


def _read_phone(text: str, slots) -> ContactTurn:
    has_email = (slots.get(slot_for("email")) or SKIPPED) != SKIPPED
    if _is_skip(text):
        if not has_email:
            return ContactTurn(error="Il me faut au moins un moyen de vous joindre : sans e-mail, j'ai besoin de votre numéro de téléphone.")
        # No phone: no call back time to ask for either.
        return ContactTurn({slot_for("phone"): SKIPPED, slot_for("callback"): SKIPPED})
    result = validate_phone(text)
    if not result.ok:
        return ContactTurn(error=result.error)
    return ContactTurn({slot_for("phone"): result.value})


def _read_callback(text: str, slots) -> ContactTurn:
    if _is_skip(text):
        return ContactTurn({slot_for("callback"): SKIPPED})
    return ContactTurn({slot_for("callback"): _short_text(text, FREE_TEXT_MAX)})


def _read_need(text: str, slots) -> ContactTurn:
    if _is_skip(text):
        return ContactTurn({slot_for("need"): SKIPPED})
    return ContactTurn({slot_for("need"): _short_text(text, FREE_TEXT_MAX)})


def field_named(text: str) -> Optional[str]:
    """"l'e-mail", "mon numéro", "Entreprise" → the field the visitor wants to correct."""
    folded = fold(text)
    for name, words in FIELD_WORDS.items():
        if fold(FIELD_LABELS[name]) == folded.strip() or any(re.search(rf"\b{re.escape(w)}", folded) for w in words):
            return name
    return None


def _read_consent(text: str, slots) -> ContactTurn:
    if slots.get(FIX_SLOT) == CHOOSING:
        name = field_named(text)
        if name is None:
            return ContactTurn(error="Quelle information voulez-vous corriger : le nom, l'entreprise, l'e-mail, le téléphone, le créneau ou le besoin ?")
        emptied = {slot_for(name): None, FIX_SLOT: None}
        if name == "phone":
            emptied[slot_for("callback")] = None
        return ContactTurn(emptied)
    if _CORRECT.search(fold(text)):
        return ContactTurn({FIX_SLOT: CHOOSING})
    answer = parse_answer(text)
    if answer == "yes":
        return ContactTurn({slot_for("consent"): "yes"})
    if answer == "no":
        return ContactTurn({slot_for("consent"): "no"})
    return ContactTurn(error="J'ai besoin d'un oui ou d'un non clair : acceptez-vous que Sales In Progress garde ces informations pour vous recontacter ?")


_READERS = {
    "name": _read_name, "company": _read_company, "email": _read_email, "phone": _read_phone,
    "callback": _read_callback, "need": _read_need, "consent": _read_consent,
}


def form_ttl_seconds(env: Optional[Mapping[str, str]] = None) -> float:
    """How long an unfinished contact form keeps its values (`CONTACT_FORM_TTL_MINUTES`)."""
    env = os.environ if env is None else env
    raw = (env.get("CONTACT_FORM_TTL_MINUTES") or "").strip()
    if not raw:
        return DEFAULT_FORM_TTL_MINUTES * 60
    try:
        minutes = float(raw)
    except ValueError:
        minutes = -1.0
    if not 0 < minutes <= 24 * 60:
        log.warning("CONTACT_FORM_TTL_MINUTES=%r is not a number of minutes in (0, 1440]: 30 used", raw)
        minutes = DEFAULT_FORM_TTL_MINUTES
    return minutes * 60


def has_personal_data(slots: Mapping[str, Optional[str]]) -> bool:
    return any(filled(slots, name) for name in FIELDS[:-1])


def is_expired(slots: Mapping[str, Optional[str]], idle_seconds: Optional[float], ttl_seconds: float) -> bool:
    """True when an unfinished form holding personal data waited longer than its TTL."""
    return idle_seconds is not None and idle_seconds > ttl_seconds and has_personal_data(slots)


def recap_lines(slots: Mapping[str, Optional[str]], idle_seconds: Optional[float]) -> list[str]:
    """The recap before consent: the values to a visitor still typing, only the fields'
    names after a pause (never replay personal data to whoever holds the id later)."""
    if idle_seconds is None or idle_seconds <= REPLAY_WINDOW_SECONDS:
        return summary_lines(slots)
    names = [FIELD_LABELS[name].lower().replace("votre ", "") for name in FIELDS[:-1] if filled(slots, name)]
    return [
        f"• les informations que vous m’avez données ({', '.join(names)}), que je ne réaffiche pas "
        "après une pause, par discrétion. Dites « corriger » pour en changer une."
    ]


def summary_lines(slots: Mapping[str, Optional[str]]) -> list[str]:
    """What will be kept, as the visitor gave it (skipped fields left out)."""
    lines = []
    for name in FIELDS[:-1]:
        value = slots.get(slot_for(name))
        if value and value != SKIPPED:
            shown = format_phone(value) if name == "phone" else value
            lines.append(f"• {FIELD_LABELS[name]} : {shown}")
    return lines


def filled(slots: Mapping[str, Optional[str]], name: str) -> Optional[str]:
    value = slots.get(slot_for(name))
    return None if value in (None, SKIPPED) else value
