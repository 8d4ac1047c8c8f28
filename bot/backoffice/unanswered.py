"""The visitor messages the bot missed, grouped by similarity, for the consultant to assign.

A message is *missed* when Marc answered it with a clarification (``action_clarify``), or
its intent was ``nlu_fallback`` or ``out_of_scope``. They are read from the tracker store
(``TRACKER_DB_URL``, Rasa's ``events`` table): a user event, then the first action after it.
Buttons (``/intent`` payloads), erased passages and the copies made at a session rollover
are left out.

Grouping is deliberately simple and predictable: each message becomes a set of word stems
(accents, case and small words removed, the first five letters kept, so « piliers » and
« pilier » meet); a message joins the first group whose first message shares at least half
of its stems (Jaccard ≥ 0.5), else starts a new one. Groups come out largest first.

A message holding personal data (an e-mail, a phone number, a name given outright: found by
:func:`bot.contact_extract.extract`) is shown to the consultant but never exportable.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa

from bot.leads.transcript import REDACTED, ROLLOVER_KEY, _engine_or_none, events_table

MISSED_ACTIONS = ("action_clarify",)
MISSED_INTENTS = ("nlu_fallback", "out_of_scope")
SKIPPED_ACTIONS = ("action_listen",)
SIMILARITY = 0.5
STEM_LENGTH = 5
MAX_MESSAGES = 5000

STOPWORDS = set("""
a au aux avec c ca ce ces cet cette d de des du elle en et est il ils j je l la le les leur lui m
ma mais me mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses si son sur t
ta te tes toi ton tu un une vos votre vous y bonjour salut merci svp stp est-ce quoi comment
""".split())


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def stems(text: str) -> frozenset:
    return frozenset(w[:STEM_LENGTH] for w in normalise(text).split() if w not in STOPWORDS and len(w) > 1)


# Beyond what the contact form's extractor finds: an address, a web site, an identifier (SIRET,
# postcode, account), an e-mail spelt out, a first name introduced (« c'est Paul », « moi c est
# Jean-Pierre », « Marie Curie ici »). Wide on purpose: a message wrongly kept out of the data
# costs nothing, one wrongly put in would be in git.
_PERSONAL_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"\d[\d .-]{3,}\d",                                           # 5+ digits: phone, SIRET, postcode
    r"https?://|www\.|\b[\w-]+\.(fr|com|net|org|eu|io|be|ch)\b",     # a site
    r"@|\b(arobase|at)\b.*\b(point|dot)\b",                          # an e-mail, even spelt out
    r"\b(rue|avenue|boulevard|bd|chemin|impasse|allée|place)\b\s+\w+",  # a street
)]
_INTRODUCED = re.compile(
    r"\b(?:c'? ?est|moi|je suis|ici|m'appelle|nomme|appelez-moi)\s+(?:c'? ?est\s+)?([A-ZÉÈÀÂÎÔÛÇ][\w'-]+)"
    r"|\b([A-ZÉÈÀÂÎÔÛÇ][\w'-]+(?:\s+[A-ZÉÈÀÂÎÔÛÇ][\w'-]+)?)\s+ici\b",
)
_NOT_A_NAME = {"marc", "sales", "in", "progress", "bonjour", "salut", "le", "la", "un", "une", "quoi"}


def has_personal_data(text: str) -> bool:
    from bot.contact_extract import extract

    found = extract(text)
    if set(found.values) & {"email", "phone", "name"} or set(found.errors) & {"email", "phone"}:
        return True
    if any(p.search(text) for p in _PERSONAL_PATTERNS):
        return True
    for match in _INTRODUCED.finditer(text.replace("’", "'")):
        word = (match.group(1) or match.group(2) or "").split()[0].lower()
        if word not in _NOT_A_NAME:
            return True
    return False


@dataclass(frozen=True)
class Missed:
    sender_id: str
    text: str
    intent: str
    answered_by: str
    at: Optional[dt.datetime]
    personal: bool


@dataclass
class Group:
    key: str
    messages: List[Missed] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def example(self) -> str:
        for message in self.messages:
            if not message.personal:
                return message.text
        return self.messages[0].text

    @property
    def exportable(self) -> List[str]:
        seen, texts = set(), []
        for message in self.messages:
            key = normalise(message.text)
            if not message.personal and key not in seen:
                seen.add(key)
                texts.append(message.text)
        return texts

    @property
    def conversations(self) -> List[str]:
        return sorted({m.sender_id for m in self.messages})


def _payload(data: Optional[str]) -> dict:
    try:
        payload = json.loads(data or "")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def missed_messages(tracker_url: str, since: Optional[dt.datetime] = None) -> List[Missed]:
    engine = _engine_or_none(tracker_url)
    if engine is None:
        return []
    query = sa.select(
        events_table.c.sender_id, events_table.c.type_name, events_table.c.intent_name,
        events_table.c.action_name, events_table.c.timestamp, events_table.c.data,
    ).where(events_table.c.type_name.in_(("user", "action"))).order_by(events_table.c.sender_id, events_table.c.id)
    if since is not None:
        query = query.where(events_table.c.timestamp >= since.timestamp())
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    missed = sorted(_missed(rows), key=lambda m: m.at.timestamp() if m.at else 0.0)
    return missed[-MAX_MESSAGES:]  # the most recent ones


def _missed(rows: Iterable[Sequence]) -> Iterable[Missed]:
    pending = None  # the last user message, waiting for the action that answered it
    for sender_id, type_name, intent, action, timestamp, data in rows:
        if pending is not None and pending[0] != sender_id:
            pending = None
        if type_name == "user":
            payload = _payload(data)
            text = payload.get("text") if isinstance(payload.get("text"), str) else ""
            if ROLLOVER_KEY in (payload.get("metadata") or {}) or not text.strip() \
                    or text.startswith("/") or text == REDACTED:
                pending = None
                continue
            # Two questions read with certainty (bot/question_split.py) were both answered, even
            # when the action that did it was action_clarify: not missed.
            several = (payload.get("parse_data") or {}).get("questions") or []
            pending = None if len(several) >= 2 else (sender_id, text.strip(), intent or "", timestamp)
        elif type_name == "action" and pending is not None and action not in SKIPPED_ACTIONS:
            sender, text, intent_name, when = pending
            pending = None
            if action in MISSED_ACTIONS or intent_name in MISSED_INTENTS:
                yield Missed(
                    sender_id=sender, text=text[:2000], intent=intent_name, answered_by=action or "",
                    at=dt.datetime.fromtimestamp(when, tz=dt.timezone.utc) if when else None,
                    personal=has_personal_data(text),
                )


def group_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:16]


def group_messages(messages: Sequence[Missed], already: Optional[Dict[str, str]] = None) -> List[Group]:
    """Groups of similar messages, largest first; ``already`` (normalised text → intent)
    leaves out the messages a consultant has assigned."""
    already = already or {}
    leaders: List[tuple] = []  # (stems of the first message, group)
    for message in messages:
        if normalise(message.text) in already:
            continue
        mine = stems(message.text)
        for leader, group in leaders:
            union = leader | mine
            if union and len(leader & mine) / len(union) >= SIMILARITY:
                group.messages.append(message)
                break
            if not union and normalise(group.messages[0].text) == normalise(message.text):
                group.messages.append(message)
                break
        else:
            leaders.append((mine, Group(group_key(message.text), [message])))
    groups = [g for _, g in leaders]
    groups.sort(key=lambda g: (-g.count, g.key))
    return groups
