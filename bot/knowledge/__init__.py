"""The text's content as data: loads and validates `content.yml`.

A consultant edits the YAML, not the code; a typo there must fail loudly at start-up (and in
`make test`), never surface as a half-empty answer in front of a visitor.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from bot.nlp import fold
from bot.typography import french_spacing

import yaml

from bot.replies import Button

CONTENT_PATH = Path(__file__).with_name("content.yml")

# The inventory of the source text (design.md): every point must be covered by the session.
INVENTORY_POINTS = tuple(range(1, 13))

# Lines the code asks for by name; the YAML may hold more.
REQUIRED_LINES = (
    "greet", "greet_again", "want_to_ask", "thanks", "bot_challenge", "marc_deal", "out_of_scope",
    "clarify", "clarify_generic", "why_asked_idle", "why_contact", "stop", "stop_idle", "goodbye", "restart", "deny_in_session",
    "deny_idle", "nothing_to_resume", "diagnostic_intro", "diagnostic_resume", "diagnostic_again",
    "diagnostic_paused", "diagnostic_offer", "contact_intro", "contact_cancelled", "contact_done", "contact_expired", "contact_paused", "contact_resumed",
    "form_aside_goodbye", "form_aside_thanks", "form_aside_question", "form_aside_unclear", "contact_failed", "session_already_done", "too_long", "empty", "action_error",
    # Booking a meeting (actions/booking.py)
    "booking_intro", "booking_more", "booking_soonest", "booking_no_fit", "booking_problem", "booking_slot_unclear",
    "booking_none", "booking_unavailable", "booking_chosen", "booking_callback", "booking_done",
    "booking_done_invite_email", "booking_done_invite_phone", "booking_taken", "booking_calendar_failed",
    "booking_cancelled", "booking_cancelled_email", "booking_none_to_cancel", "booking_cancel_failed",
    "booking_move_intro", "booking_moved", "booking_moved_invite_email", "booking_already", "booking_paused",
    "booking_mode_question", "booking_mode_buttons", "booking_slot_buttons",
)
CONTACT_QUESTIONS = ("name", "company", "email", "phone", "phone_optional", "callback", "need", "summary", "which_field")
REQUIRED_BUTTONS = ("coaching", "diagnostic", "question", "continue", "resume", "stop", "contact", "restart",
                    "book", "move_booking", "cancel_booking")


class KnowledgeError(ValueError):
    """The content file is malformed; the message names the file and the faulty entry."""


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    covers: tuple[int, ...]
    messages: tuple[str, ...]
    # Marc's closing question expects an answer: what he says to a « oui » or a « non » before
    # the next step (an empty list: straight on). None: a « non » means « not now ».
    on_yes: Optional[tuple[str, ...]] = None
    on_no: Optional[tuple[str, ...]] = None


@dataclass(frozen=True)
class Part:
    """One part of a topic (a pillar, a mandatory point, the marriage…): a question that names
    it gets that part, quoted from the text, not the whole list."""
    key: str
    cues: tuple[str, ...]   # word beginnings, folded: « equilibr » finds « équilibré »
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    covers: tuple[int, ...]
    messages: tuple[str, ...]
    related: tuple[str, ...]
    offer: tuple[str, ...] = ()  # buttons (keys of `buttons`) offered first: « Être rappelé »…
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    contact: Mapping[str, str]
    buttons: Mapping[str, Button]
    menu: tuple[str, ...]
    step_buttons: tuple[str, ...]
    steps: tuple[Step, ...]
    session_end_messages: tuple[str, ...]
    session_end_buttons: tuple[str, ...]
    topics: Mapping[str, Topic]
    resume_prompt: str
    after_answer_prompts: tuple[str, ...]  # the closing line after a direct answer, in variants
    lines: Mapping[str, tuple[str, ...]]
    # Contact form: field -> (question, quick-reply titles).
    contact_questions: Mapping[str, tuple[str, tuple[str, ...]]]

    def button(self, key: str) -> Button:
        return self.buttons[key]

    def line(self, key: str) -> tuple[str, ...]:
        return self.lines[key]


class _Reader:
    """Small helpers that turn a bad shape into a KnowledgeError naming where it is."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, problem: str) -> KnowledgeError:
        return KnowledgeError(f"{self.path.name} : {where} : {problem}")

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "texte non vide attendu")
        return french_spacing(value.strip())

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "liste de textes non vide attendue")
        return tuple(self.text(item, f"{where}[{i}]") for i, item in enumerate(value))

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "dictionnaire attendu")
        return value

    def covers(self, value: Any, where: str) -> tuple[int, ...]:
        if not isinstance(value, list) or not value or any(p not in INVENTORY_POINTS for p in value):
            raise self.fail(where, f"liste de points de l'inventaire (1 à {INVENTORY_POINTS[-1]}) attendue")
        return tuple(value)

    def replies(self, spec: Mapping[str, Any], answer: str, where: str) -> Optional[tuple[str, ...]]:
        replies = spec.get("replies")
        if replies is None or answer not in self.mapping(replies, where):
            return None
        lines = replies[answer] or []
        if not isinstance(lines, list) or any(not isinstance(line, str) or not line.strip() for line in lines):
            raise self.fail(f"{where}.{answer}", "liste de répliques attendue (éventuellement vide)")
        return tuple(french_spacing(line) for line in lines)

    def button_keys(self, value: Any, where: str, known: Mapping[str, Button]) -> tuple[str, ...]:
        keys = self.texts(value, where)
        for key in keys:
            if key not in known:
                raise self.fail(where, f"bouton inconnu « {key} »")
        return keys


def parse_knowledge(raw: Any, path: Path = CONTENT_PATH) -> Knowledge:
    r = _Reader(path)
    root = r.mapping(raw, "racine")

    buttons: dict[str, Button] = {}
    for key, spec in r.mapping(root.get("buttons"), "buttons").items():
        spec = r.mapping(spec, f"buttons.{key}")
        payload = r.text(spec.get("payload"), f"buttons.{key}.payload")
        if not payload.startswith("/"):
            raise r.fail(f"buttons.{key}.payload", "une intention commençant par « / » est attendue")
        buttons[key] = Button(r.text(spec.get("title"), f"buttons.{key}.title"), payload)
    for key in REQUIRED_BUTTONS:
        if key not in buttons:
            raise r.fail("buttons", f"bouton « {key} » manquant")

    steps = []
    for i, spec in enumerate(root.get("steps") or []):
        spec = r.mapping(spec, f"steps[{i}]")
        steps.append(Step(
            id=r.text(spec.get("id"), f"steps[{i}].id"),
            title=r.text(spec.get("title"), f"steps[{i}].title"),
            covers=r.covers(spec.get("covers"), f"steps[{i}].covers"),
            messages=r.texts(spec.get("messages"), f"steps[{i}].messages"),
            on_yes=r.replies(spec, "yes", f"steps[{i}].replies"),
            on_no=r.replies(spec, "no", f"steps[{i}].replies"),
        ))
    if not steps:
        raise r.fail("steps", "la séance guidée n'a aucune étape")
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise r.fail("steps", "identifiants d'étape en double")
    missing = set(INVENTORY_POINTS) - {p for s in steps for p in s.covers}
    if missing:
        raise r.fail("steps", f"points de l'inventaire non couverts : {sorted(missing)}")

    topics: dict[str, Topic] = {}
    for key, spec in r.mapping(root.get("topics"), "topics").items():
        spec = r.mapping(spec, f"topics.{key}")
        related = spec.get("related") or []
        if not isinstance(related, list):
            raise r.fail(f"topics.{key}.related", "liste attendue")
        offer = spec.get("offer") or []
        if not isinstance(offer, list):
            raise r.fail(f"topics.{key}.offer", "liste attendue")
        topics[key] = Topic(
            key=key,
            title=r.text(spec.get("title"), f"topics.{key}.title"),
            covers=r.covers(spec.get("covers"), f"topics.{key}.covers"),
            messages=r.texts(spec.get("messages"), f"topics.{key}.messages"),
            related=tuple(related),
            offer=r.button_keys(offer, f"topics.{key}.offer", buttons) if offer else (),
            parts=tuple(
                Part(name, tuple(fold(c) for c in r.texts(part.get("cues"), f"topics.{key}.parts.{name}.cues")),
                     r.texts(part.get("messages"), f"topics.{key}.parts.{name}.messages"))
                for name, part in r.mapping(spec.get("parts") or {}, f"topics.{key}.parts").items()
            ),
        )
    for topic in topics.values():
        for other in topic.related:
            if other not in topics:
                raise r.fail(f"topics.{topic.key}.related", f"sujet inconnu « {other} »")

    lines = {
        key: r.texts(value, f"lines.{key}")
        for key, value in r.mapping(root.get("lines"), "lines").items()
    }
    for key in REQUIRED_LINES:
        if key not in lines:
            raise r.fail("lines", f"réplique « {key} » manquante")

    contact_questions = {}
    raw_questions = r.mapping(root.get("contact_questions"), "contact_questions")
    for key in CONTACT_QUESTIONS:
        spec = r.mapping(raw_questions.get(key), f"contact_questions.{key}")
        titles = spec.get("buttons") or []
        if not isinstance(titles, list):
            raise r.fail(f"contact_questions.{key}.buttons", "liste attendue")
        contact_questions[key] = (
            r.text(spec.get("text"), f"contact_questions.{key}.text"),
            tuple(r.text(t, f"contact_questions.{key}.buttons") for t in titles),
        )

    session_end = r.mapping(root.get("session_end"), "session_end")
    resume_prompt = r.text(root.get("resume_prompt"), "resume_prompt")
    if "{next_title}" not in resume_prompt:
        raise r.fail("resume_prompt", "doit contenir {next_title}")

    return Knowledge(
        contact={k: r.text(v, f"contact.{k}") for k, v in r.mapping(root.get("contact"), "contact").items()},
        buttons=buttons,
        menu=r.button_keys(root.get("menu"), "menu", buttons),
        step_buttons=r.button_keys(root.get("step_buttons"), "step_buttons", buttons),
        steps=tuple(steps),
        session_end_messages=r.texts(session_end.get("messages"), "session_end.messages"),
        session_end_buttons=r.button_keys(session_end.get("buttons"), "session_end.buttons", buttons),
        topics=topics,
        resume_prompt=resume_prompt,
        after_answer_prompts=r.texts(root.get("after_answer_prompts"), "after_answer_prompts"),
        lines=lines,
        contact_questions=contact_questions,
    )


def load_knowledge_file(path: Path) -> Knowledge:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{path.name} : YAML invalide : {error}") from error
    return parse_knowledge(raw, path)


@lru_cache(maxsize=1)
def load_knowledge(path: Optional[str] = None) -> Knowledge:
    """The content, loaded once per process (the default file unless a path is given)."""
    return load_knowledge_file(Path(path) if path else CONTENT_PATH)
