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
from bot.callback import mentions_moment
from bot.contact_extract import Extracted, extract, looks_like_company, looks_like_name
from bot.forms import says_restart, says_stop, says_wait
from bot.leads.validation import EMAIL_EXAMPLE, PHONE_EXAMPLE, format_phone
from bot.nlp import fold, normalise

log = logging.getLogger(__name__)

SLOT_PREFIX = "contact_"
FIELDS = ("name", "company", "email", "phone", "callback", "need", "consent")
REQUIRED_SLOTS = tuple(f"{SLOT_PREFIX}{f}" for f in FIELDS)
# Remembers that the visitor asked to correct a field and must now say which one.
FIX_SLOT = "contact_fix"
CHOOSING = "choose"
# The consent notice is shown once in full; then "recap" (after a correction: the recap and
# the question) or "shown" (the question alone, one line with its buttons).
NOTICE_SLOT = "contact_notice"
NOTICE_RECAP, NOTICE_SHOWN = "recap", "shown"
# Stored for an optional field the visitor chose to skip.
SKIPPED = "-"

DEFAULT_FORM_TTL_MINUTES = 30.0
# The recap shows the values only to a visitor still typing: a longer silence is a pause.
REPLAY_WINDOW_SECONDS = 10 * 60

NAME_MAX = 100
COMPANY_MAX = 120
FREE_TEXT_MAX = 300

# While a form waits, a message is read first as an answer to the question on screen; it
# leaves the form only when it is clearly something else. Intents that say so, when the
# message gives no value for the field asked:
LEAVING_INTENTS = frozenset({"stop_session", "restart", "start_coaching", "start_diagnostic"})
QUESTION_INTENTS = frozenset({"why_asked", "bot_challenge", "ask_marc_deal", "want_to_ask"})
# Said in passing; a name or a company is never « merci » or « au revoir ».
SOCIAL_INTENTS = frozenset({"goodbye", "thanks", "greet", "affirm", "deny"})
# Fields whose free text may itself sound like a question (« comment mutualiser nos achats »):
# they leave only on a real question mark or a leaving intent.
FREE_TEXT_FIELDS = frozenset({"callback", "need"})
MANDATORY_FIELDS = frozenset({"name", "company", "consent"})

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
# A skip said inside a sentence: « j'ai pas de mail pro », « je préfère ne pas le donner ».
_SKIP_INSIDE = {
    "email": re.compile(r"\b(?:pas|plus|jamais) (?:de |d')\s*(?:l')?(?:adresse )?(?:e-?mail|mail|courriel|adresse)s?\b|\bsans (?:e-?)?mail\b"
                        # « j'en ai pas », « le téléphone suffit », « pas envie de recevoir des mails », « je passe »
                        r"|\b(?:j'en ai|je n'en ai|j'en ai meme) (?:pas|aucune?)\b|\b(?:le )?(?:telephone|tel|portable|numero) (?:suffi|ira|c'est bien|c'est mieux)"
                        r"|\bpas envie (?:de|d')\s*(?:recevoir |donner )?(?:de |des |d'|mon |un |une )?\s*(?:e-?)?mails?\b|\bje (?:passe|saute)\b"
                        r"|\bqu'on m'appelle\b|\bappelez[- ]moi\b|\bpar telephone\b|\bprefere (?:le |par )?(?:telephone|tel|portable|etre appele)\b"
                        r"|\b(?:aime|veux|souhaite|prefere) pas (?:trop )?(?:donner|communiquer|laisser) (?:mon |mes |d')\s*(?:adresse )?(?:e-?)?mails?\b|\b(?:n'utilise|ne lis|lis) (?:pas|jamais)\b.*\bmails?\b"),
    "phone": re.compile(r"\b(?:pas|plus) de (?:telephone|tel|numero|portable)\b|\b(?:le )?(?:mail|e-?mail) (?:suffi|ira|c'est bien)"
                        r"|\bprefere(?:rais)? (?:ne pas|pas) (?:le |la |vous le )?(?:donner|communiquer)"
                        r"|\b(?:ne )?(?:donne|communique) pas (?:mon |le )?(?:numero|tel|telephone|portable)\b|\becrivez[- ]moi\b|\bpar (?:e-?)?mail\b"),
    "need": re.compile(r"\b(?:je passe|passons|on en parlera|je prefere en parler|je vous expliquerai)\b"),
    "callback": re.compile(r"\b(?:je (?:passe|saute) (?:cette|la) question|aucune preference|quand (?:vous|tu) (?:voulez|veux|pouvez)|n'importe quand|peu importe|pas de preference|comme vous voulez)\b"),
}
_CORRECT = re.compile(r"\b(?:corrig|modifi|chang|rectifi|erreur|tromp|mal (?:ecrit|orthographi|tape)|faute|coquille|pas (?:le )?bon|faux|fausse|inverse)")


@dataclass(frozen=True)
class ContactTurn:
    """Slots to set (None empties a slot), or an error to say before asking again."""

    slots: Mapping[str, Optional[str]] = field(default_factory=dict)
    error: Optional[str] = None
    is_answer: bool = True


NOT_AN_ANSWER = ContactTurn(is_answer=False)


def slot_for(name: str) -> str:
    return f"{SLOT_PREFIX}{name}"


def _short_text(text: str, limit: int) -> str:
    return normalise(text)[:limit].strip()


def _is_skip(text: str, field_name: Optional[str] = None) -> bool:
    if field_name in MANDATORY_FIELDS:
        return False  # « je préfère ne pas aller plus loin » at the name is leaving, not skipping
    folded = fold(text)
    if field_name == "callback" and re.search(r"\b(?:sauf|mais pas|pas le|pas les|plutot|de preference)\b", folded) \
            and mentions_moment(text):
        return False  # « n'importe quand sauf le lundi »: a preference after all
    inside = _SKIP_INSIDE.get(field_name or "")
    return bool(_SKIP.match(folded) or (inside is not None and inside.search(folded)))


# What a social aside says (« merci », « au revoir », « ok », « bonjour »): never a name or a company.
_SOCIAL_WORDS = re.compile(
    r"^(?:(?:oui|non|ok|okay|d'accord|merci|bonjour|bonsoir|salut|coucou|hello|re|au revoir|a plus|bye|ciao"
    r"|bonne (?:journee|soiree|fin de journee|continuation)|a bientot|a plus tard|a tout a l'heure|a\+|bisous?"
    r"|super|parfait|top|cool|genial|tres bien|pas de souci|bien sur|et)\b[\s,!.]*)+"
    r"(?:beaucoup|a vous|a toi|encore|marc)?[\s!.]*$"
)


# « merci c'est gentil », « merci pour tout », « merci de prendre le temps de faire tout ça »
_THANKS = re.compile(
    r"^merci\b(?:\W+(?:beaucoup|bien|encore|infiniment|a vous|marc|pour tout|pour (?:votre|ton|ce) \w+"
    r"|c'est (?:gentil|sympa|cool|top|super)|(?:de|d') (?:prendre|m'accorder|votre|ton|m'aider a y voir)\b.*))+\W*$"
)


def _says_thanks(text: str) -> bool:
    return bool(_THANKS.search(fold(text).replace("’", "'")))


def _only_politeness(text: str) -> bool:
    """Nothing but thanks, greetings or goodbyes (« merci, à bientôt ! », « merci pour tout »)."""
    if _says_thanks(text):
        return True
    folded = fold(text)
    return bool(_SOCIAL_WORDS.search(folded)) and not re.search(r"\b(?:oui|non|ok|okay|d'accord)\b", folded)


def _busy_or_leaving(field_name: str, text: str, found: Extracted) -> bool:
    """« stop », « deux secondes, je vérifie »… with nothing else for the form: not the answer
    (« attendez, c'est Paul Durand » is; « un moment le matin » is a moment)."""
    if not (says_stop(text) or says_wait(text)) or _is_capitalised_name(field_name, text):
        return False
    inside = _SKIP_INSIDE.get(field_name)
    if inside is not None and inside.search(fold(text)):
        return False  # « pas envie de donner un mail »: the e-mail skipped, not the form left
    if field_name == "callback" and mentions_moment(text) and not says_stop(text):
        return False
    value = found.values.get(field_name)
    return not found.values or (set(found.values) == {field_name} and (says_wait(value) or says_stop(value)))


def _is_capitalised_name(field_name: str, text: str) -> bool:
    """« Karim Stopper », « Léa Abandon », « Duo & Fils SARL »: a name typed with its capitals
    stays a name, whatever a word in it sounds like (« stop » alone is still a stop)."""
    words = text.split()
    if field_name not in ("name", "company") or not 2 <= len(words) <= 6 or says_stop(text) \
            or _SOCIAL_WORDS.search(fold(text)):
        return False
    capitalised = all(w[:1].isupper() or w in ("&", "-", "et", "de", "du", "des") for w in words)
    return capitalised and (field_name == "company" or looks_like_name(text))


# « vous êtes joignables le samedi ? », « est-ce que vous appelez le soir ? »: a question on the firm.
_ASKS_ABOUT_YOU = re.compile(r"^(?:et |mais )?(?:est-ce que |est ce que )?vous\b|\b\w+-vous\b")


def leaves_form(field_name: str, text: str, intent: Optional[str]) -> bool:
    """True when the message is clearly not an answer: a command, or a real question."""
    intent = intent or ""
    if says_stop(text):
        return True
    if field_name == "callback" and mentions_moment(text) and not _ASKS_ABOUT_YOU.search(fold(text)):
        return False  # « le soir après 19h, c'est possible ? »: a moment, asked politely
    if field_name in FREE_TEXT_FIELDS:
        # « construire la relation, on part de zéro » is a need, whatever the NLU made of
        # « de zéro »: free text leaves on an intent only when it is a short command.
        if intent in LEAVING_INTENTS and (len(text.split()) <= 3 or says_restart(text)):
            return True
        return "?" in text and (intent in QUESTION_INTENTS or intent.startswith("ask_") or looks_like_question(text))
    return intent in LEAVING_INTENTS or intent in QUESTION_INTENTS or looks_like_question(text)


def read_contact_turn(
    field_name: str, text: str, intent: Optional[str], slots: Mapping[str, Optional[str]],
    quick_replies: tuple[str, ...] = (),
) -> ContactTurn:
    """What the visitor's message means for the field being asked. A button offered with the
    question (`quick_replies`) is always an answer, whatever the NLU made of its title; any
    other message is read first as an answer (with every other detail it gives), and leaves
    the form only when it gives nothing for the field and is clearly something else."""
    text = normalise(text)
    reader = _READERS[field_name]
    if fold(text) in {fold(normalise(title)) for title in quick_replies}:
        return reader(text, slots, Extracted())
    if field_name in ("name", "company") and says_stop(text) and not _is_capitalised_name(field_name, text):
        return NOT_AN_ANSWER  # « laissez tomber, j'arrête là » is no name
    found = extract(text, field_name)
    if field_name != "consent" and _busy_or_leaving(field_name, text, found):
        # « non c'est bon j'arrête là » is no skipped need, « deux secondes, je vérifie » no e-mail:
        # the form pauses, or waits, and keeps what it has.
        return NOT_AN_ANSWER
    if field_name == "consent" and (_CORRECT.search(fold(text)) or slots.get(FIX_SLOT) == CHOOSING):
        return reader(text, slots, found)
    if field_name not in found.values and not _is_skip(text, field_name) and leaves_form(field_name, text, intent) \
            and not _is_capitalised_name(field_name, text):
        return NOT_AN_ANSWER
    if field_name in ("name", "company") and not extract(text).values and (intent or "") in SOCIAL_INTENTS \
            and (_SOCIAL_WORDS.search(fold(text)) or _says_thanks(text)) \
            and not _is_capitalised_name(field_name, text):
        return NOT_AN_ANSWER  # « au revoir », « merci » are not a company: an aside
    if field_name in ("email", "phone", "callback", "need") and not found.values and not _is_skip(text, field_name) \
            and not means_any_time(text) and _only_politeness(text):
        # « merci, bonne journée » at the e-mail, the moment or the need: said in passing,
        # never recorded as the answer; the form keeps what it has and asks again.
        return NOT_AN_ANSWER
    turn = reader(text, slots, found)
    if turn.error and field_name in ("name", "company") and intent == "request_contact":
        return NOT_AN_ANSWER  # « je voudrais être rappelé » again: the form is open, it asks again
    # Other details given in passing fill their (empty) fields: the form will not ask them;
    # a name stated outright (« et moi c'est Laura Blanc ») replaces the one given before.
    extra = {
        slot_for(name): value for name, value in found.values.items()
        if name != field_name and slot_for(name) not in turn.slots
        and (slots.get(slot_for(name)) is None or name in found.stated)
    }
    if extra:
        return ContactTurn({**turn.slots, **extra}, turn.error, turn.is_answer)
    return turn


def _read_name(text: str, slots, found: Extracted) -> ContactTurn:
    name = found.values.get("name")
    if name is None and not found.values:
        bare = _short_text(text, NAME_MAX)
        name = bare if len(bare) >= 2 and looks_like_name(bare) else None
    if not name:
        return ContactTurn(error="Je n'ai pas bien saisi votre nom : pouvez-vous me l'écrire, par exemple « Arnaud Martin » ?")
    return ContactTurn({slot_for("name"): name[:NAME_MAX]})


def _read_company(text: str, slots, found: Extracted) -> ContactTurn:
    company = found.values.get("company")
    if company is None and not found.values:
        bare = _short_text(text, COMPANY_MAX)
        company = bare if re.search(r"\w", bare) and len(bare.split()) <= 6 and looks_like_company(bare) else None
    if not company:
        return ContactTurn(error="Je n'ai pas saisi le nom de votre entreprise : pouvez-vous me l'écrire seul, par exemple « Martin Conseil » ?")
    return ContactTurn({slot_for("company"): company[:COMPANY_MAX]})


def _read_email(text: str, slots, found: Extracted) -> ContactTurn:
    if "email" in found.values:
        return ContactTurn({slot_for("email"): found.values["email"]})
    if _is_skip(text, "email"):
        return ContactTurn({slot_for("email"): SKIPPED})
    if "email" in found.errors:
        return ContactTurn(error=found.errors["email"])
    if "phone" in found.values:  # a number instead of an address: they prefer to be called
        return ContactTurn({slot_for("email"): SKIPPED})
    return ContactTurn(error=f"Je ne vois pas d'adresse e-mail dans votre message : elle ressemble à {EMAIL_EXAMPLE}.")


def _read_phone(text: str, slots, found: Extracted) -> ContactTurn:
    has_email = (slots.get(slot_for("email")) or SKIPPED) != SKIPPED or "email" in found.values
    if "phone" in found.values:
        return ContactTurn({slot_for("phone"): found.values["phone"]})
    if _is_skip(text, "phone"):
        if not has_email:
            return ContactTurn(error="Il me faut au moins un moyen de vous joindre : sans e-mail, j'ai besoin de votre numéro de téléphone.")
        # No phone: no call back time to ask for either.
        return ContactTurn({slot_for("phone"): SKIPPED, slot_for("callback"): SKIPPED})
    if "phone" in found.errors:
        return ContactTurn(error=found.errors["phone"])
    if mentions_moment(text) and slots.get(slot_for("callback")) is None:
        # « l'après-midi » typed one question early: kept for the callback, the number still asked.
        return ContactTurn({slot_for("callback"): _short_text(text, FREE_TEXT_MAX)},
                           error="C'est noté pour le moment du rappel. Il me manque votre numéro de téléphone.")
    return ContactTurn(error=f"Je ne trouve pas de numéro de téléphone dans votre message : par exemple {PHONE_EXAMPLE}.")


# « Peu importe », « quand vous voulez »: an answer (any time suits), kept in the visitor's words.
_ANY_TIME = re.compile(r"^\W*(?:peu importe|n'importe quand|quand (?:vous|tu) (?:voulez|veux|pouvez)|comme vous voulez"
                       r"|indifferent|pas de preference|aucune preference|a tout moment|tout le temps)\b")


def means_any_time(text: str) -> bool:
    return bool(_ANY_TIME.search(fold(text)))


def _read_callback(text: str, slots, found: Extracted) -> ContactTurn:
    if means_any_time(text):
        return ContactTurn({slot_for("callback"): _short_text(text, FREE_TEXT_MAX)})
    if _is_skip(text, "callback"):
        return ContactTurn({slot_for("callback"): SKIPPED})
    return ContactTurn({slot_for("callback"): _short_text(text, FREE_TEXT_MAX)})


def _read_need(text: str, slots, found: Extracted) -> ContactTurn:
    if _is_skip(text, "need"):
        return ContactTurn({slot_for("need"): SKIPPED})
    return ContactTurn({slot_for("need"): _short_text(text, FREE_TEXT_MAX)})


def field_named(text: str) -> Optional[str]:
    """"l'e-mail", "mon numéro", "Entreprise" → the field the visitor wants to correct."""
    folded = fold(text)
    # The name last: « le nom de la société » names the company.
    for name, words in sorted(FIELD_WORDS.items(), key=lambda item: item[0] == "name"):
        if fold(FIELD_LABELS[name]) == folded.strip() or any(re.search(rf"\b{re.escape(w)}", folded) for w in words):
            return name
    return None


def _read_consent(text: str, slots, found: Extracted) -> ContactTurn:
    if slots.get(FIX_SLOT) == CHOOSING:
        name = field_named(text)
        if name is None:
            return ContactTurn(error="Quelle information voulez-vous corriger : le nom, l'entreprise, l'e-mail, le téléphone, le créneau ou le besoin ?")
        # Only the field corrected is asked again: the others keep their values.
        return ContactTurn({slot_for(name): None, FIX_SLOT: None, NOTICE_SLOT: NOTICE_RECAP})
    if _CORRECT.search(fold(text)):
        # « le numéro est faux, c'est 06 12 34 56 79 »: the new value replaces the old one at
        # once; otherwise Marc asks which field to correct.
        changed = {slot_for(f): v for f, v in found.values.items()
                   if f in ("email", "phone") and v != slots.get(slot_for(f))}
        named = field_named(text)
        if changed and (named is None or slot_for(named) in changed):
            return ContactTurn({**changed, NOTICE_SLOT: NOTICE_RECAP})
        if named is not None:
            return ContactTurn({slot_for(named): None, FIX_SLOT: None, NOTICE_SLOT: NOTICE_RECAP})
        return ContactTurn({FIX_SLOT: CHOOSING})
    folded = fold(text)
    if _REFUSAL.search(folded):
        return ContactTurn({slot_for("consent"): "no"})
    answer = parse_answer(text)
    conditional_yes = answer == "partly" and re.match(r"(?:oui|ouais|ok|d'accord)\b", folded)
    if answer == "yes" or conditional_yes or (answer != "no" and _ACCEPTANCE.search(folded)):
        return ContactTurn({slot_for("consent"): "yes"})
    if answer == "no":
        return ContactTurn({slot_for("consent"): "no"})
    return ContactTurn(error="Pardon, il me faut un oui ou un non clair.")


# Consent said in other words: « allez-y », « ça marche », « hors de question ».
_ACCEPTANCE = re.compile(r"^(?:vas[- ]y|allez[- ]y|go|ca marche|ca me va|c'est bon|ok pour moi|banco|volontiers|avec plaisir|j'accepte|accepte"
                         r"|(?:c'est )?parfait|(?:c'est )?nickel|impeccable|super|tres bien|entendu|valide|je valide)\b|\bj'accepte\b|\bje suis d'accord\b")
_REFUSAL = re.compile(r"\b(?:hors de question|surtout pas|certainement pas|pas question|je refuse|refuse)\b|^(?:non|nan|niet)\b")

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
