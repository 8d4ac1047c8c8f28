"""Load and validate the diagnostic's data: `questionnaire.yml` and `advice.yml`.

A consultant edits these files without touching code, so the loader is the
safety net: every problem it finds (missing or misplaced question, unknown kind,
misspelt field or answer name, empty text, unknown {placeholder}…) is reported in
one `DiagnosticDataError` naming the file, the line and the fix, at start-up
rather than in the middle of a visitor's conversation.
"""

from __future__ import annotations

import re
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from bot.typography import french_spacing

from .keys import ANSWER_KEYS, ANSWERS, KIND_OF, KINDS, QUESTION_KEYS, RELATIONSHIPS, VERDICTS

DATA_DIR = Path(__file__).resolve().parent
QUESTIONNAIRE_FILE = "questionnaire.yml"
ADVICE_FILE = "advice.yml"

QUESTION_FIELDS = ("key", "kind", "label", "prompt", "rephrase", "why", "cues")
TEXT_FIELDS = ("label", "prompt", "rephrase", "why")

# What a message template may mention; anything else is a typo.
PLACEHOLDERS = frozenset(
    {
        "missing_criteria",
        "missing_pillars",
        "missing_extras",
        "relationship_noun",
        "relationship_definition",
        "partner_definition",
    }
)
# A verdict message that forgets what is missing would be useless: insist on it.
REQUIRED_PLACEHOLDERS = {
    "not_a_partnership": {"relationship_definition"},
    "mandatory_points_missing": {"missing_criteria"},
    "wobbly": {"missing_pillars"},
    "not_sufficient": {"missing_extras"},
    "solid": set(),
}
ALSO_MISSING_REQUIRED = {"pillars": {"missing_pillars"}, "extras": {"missing_extras"}}


class DiagnosticDataError(ValueError):
    """The diagnostic's YAML data is broken; the message says where and how."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Invalid diagnostic data in {self.path}:\n{lines}")


@dataclass(frozen=True)
class QuickReply:
    title: str  # the button text, also accepted verbatim as a typed answer
    value: str  # an answer ("yes"…) or a relationship ("client"…)


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    label: str
    prompt: str
    rephrase: str
    why: str
    cues: Mapping[str, tuple[str, ...]]
    quick_replies: tuple[QuickReply, ...]
    position: int  # 1-based, in the order Marc asks

    @property
    def choices(self) -> tuple[str, ...]:
        """The values an answer to this question can take."""
        return RELATIONSHIPS if self.kind == "relationship" else ANSWERS


@dataclass(frozen=True)
class Verdict:
    key: str
    label: str
    message: str  # a template: see PLACEHOLDERS


@dataclass(frozen=True)
class RelationshipText:
    key: str
    noun: str
    definition: str
    advice: tuple[str, ...]


@dataclass(frozen=True)
class Questionnaire:
    questions: tuple[Question, ...]
    verdicts: Mapping[str, Verdict]
    relationships: Mapping[str, RelationshipText]
    advice: Mapping[str, str]
    solid_advice: tuple[str, ...]
    also_missing: Mapping[str, str]
    answer_notes: Mapping[str, str]
    next_steps_intro: str
    closing: str
    sources: tuple[Path, ...] = field(default=())
    quote: str = ""  # the visitor's own words after the verdict: {label}, {words}

    def question(self, key: str) -> Question:
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(f"unknown question key {key!r}; expected one of {', '.join(QUESTION_KEYS)}")

    __getitem__ = question

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(question.key for question in self.questions)

    def label(self, key: str) -> str:
        return self.question(key).label


# ---------------------------------------------------------------- YAML reading


class _Map(dict):
    """A YAML mapping that remembers its line, for error messages."""

    line = 0


class _Loader(yaml.SafeLoader):
    pass


# YAML 1.1 reads yes/no/on/off as booleans: a consultant writing `value: no`
# means the answer "no", so only true/false stay booleans.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:  # PyYAML silently keeps the last one: a classic copy-paste trap
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    mapping = _Map(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DiagnosticDataError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticDataError(path, [f"cannot read the file: {exc}"]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DiagnosticDataError(path, [f"not valid YAML: {exc}"]) from None


# ---------------------------------------------------------------- validation helpers


class _Problems(list):
    def at(self, where: str, node: Any, message: str) -> None:
        line = getattr(node, "line", 0)
        self.append(f"{where}{f' (line {line})' if line else ''}: {message}")


def _text(problems: _Problems, where: str, node: Any, name: str) -> str:
    value = node.get(name) if isinstance(node, dict) else None
    if value is None:
        problems.at(where, node, f"missing field {name!r}")
        return ""
    if not isinstance(value, str):
        problems.at(where, node, f"field {name!r} must be text (put it in quotes), got {value!r}")
        return ""
    if not value.strip():
        problems.at(where, node, f"field {name!r} is empty")
    return french_spacing(value.strip())


def _unknown_fields(problems: _Problems, where: str, node: dict, allowed: tuple[str, ...]) -> None:
    for name in node:
        if name not in allowed:
            problems.at(where, node, f"unknown field {name!r} (expected: {', '.join(allowed)})")


def _mapping(problems: _Problems, where: str, node: Any, parent: Any = None) -> dict:
    if isinstance(node, dict):
        return node
    problems.at(where, parent, f"must be a mapping of `name: value` lines, got {type(node).__name__}")
    return {}


def _text_list(problems: _Problems, where: str, node: Any, parent: Any) -> tuple[str, ...]:
    if not isinstance(node, list) or not node:
        problems.at(where, parent, "must be a non-empty list of texts")
        return ()
    texts = []
    for index, item in enumerate(node, 1):
        if not isinstance(item, str) or not item.strip():
            problems.at(f"{where}, item {index}", parent, f"must be a non-empty text, got {item!r}")
        else:
            texts.append(french_spacing(item.strip()))
    return tuple(texts)


def _template(problems: _Problems, where: str, parent: Any, text: str, required: set[str]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        problems.at(where, parent, f"badly formed {{placeholder}}: {exc}")
        return
    for name in sorted(names - PLACEHOLDERS):
        problems.at(where, parent, f"unknown placeholder {{{name}}} (known: {', '.join(sorted(PLACEHOLDERS))})")
    for name in sorted(required - names):
        problems.at(where, parent, f"the message must mention {{{name}}}")


# ---------------------------------------------------------------- questionnaire.yml


def _quick_replies(problems: _Problems, node: Any, root: Any) -> dict[str, tuple[QuickReply, ...]]:
    node = _mapping(problems, "quick_replies", node, root)
    expected = {"answer": ANSWERS, "relationship": RELATIONSHIPS}
    _unknown_fields(problems, "quick_replies", node, tuple(expected))
    result = {}
    for group, values in expected.items():
        items = node.get(group)
        where = f"quick_replies.{group}"
        if not isinstance(items, list):
            problems.at(where, node, f"missing list of {{title, value}} for {', '.join(values)}")
            result[group] = ()
            continue
        replies = []
        for index, item in enumerate(items, 1):
            item = _mapping(problems, f"{where}, item {index}", item, node)
            _unknown_fields(problems, f"{where}, item {index}", item, ("title", "value"))
            title = _text(problems, f"{where}, item {index}", item, "title")
            value = _text(problems, f"{where}, item {index}", item, "value")
            if value and value not in values:
                problems.at(f"{where}, item {index}", item, f"unknown value {value!r} (expected: {', '.join(values)})")
            replies.append(QuickReply(title, value))
        given = [reply.value for reply in replies]
        if sorted(given) != sorted(values):
            problems.at(where, node, f"needs exactly one button for each of {', '.join(values)}, got {', '.join(given) or 'none'}")
        result[group] = tuple(replies)
    return result


def _cues(problems: _Problems, where: str, node: Any, question: dict, choices: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    if node is None:
        return {}
    node = _mapping(problems, f"{where}, cues", node, question)
    cues: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}  # the same phrase under two answers would be a coin toss
    for answer, phrases in node.items():
        if answer not in choices:
            problems.at(f"{where}, cues", node, f"unknown answer {answer!r} (expected: {', '.join(choices)})")
            continue
        phrases = _text_list(problems, f"{where}, cues.{answer}", phrases, node)
        for phrase in phrases:
            folded = " ".join(phrase.lower().split())
            if folded in owner and owner[folded] != answer:
                problems.at(f"{where}, cues", node, f"{phrase!r} is listed under both {owner[folded]!r} and {answer!r}")
            owner[folded] = answer
        cues[str(answer)] = phrases
    return cues


def _questions(problems: _Problems, node: Any, root: Any, replies: dict) -> tuple[Question, ...]:
    if not isinstance(node, list):
        problems.at("questions", root, "missing list of questions")
        return ()
    questions = []
    for position, item in enumerate(node, 1):
        where = f"question {position}"
        item = _mapping(problems, where, item, root)
        key = item.get("key")
        where = f"question {position} ({key!r})" if key else where
        _unknown_fields(problems, where, item, QUESTION_FIELDS)
        key = _text(problems, where, item, "key")
        kind = _text(problems, where, item, "kind")
        if kind and kind not in KINDS:
            problems.at(where, item, f"unknown kind {kind!r} (expected: {', '.join(KINDS)})")
        elif key in KIND_OF and kind and kind != KIND_OF[key]:
            problems.at(where, item, f"kind of {key!r} must be {KIND_OF[key]!r}, not {kind!r}")
        texts = {name: _text(problems, where, item, name) for name in TEXT_FIELDS}
        choices = RELATIONSHIPS if kind == "relationship" else ANSWERS
        cues = _cues(problems, where, item.get("cues"), item, choices)
        group = "relationship" if kind == "relationship" else "answer"
        questions.append(
            Question(
                key=key,
                kind=kind,
                cues=MappingProxyType(cues),
                quick_replies=replies.get(group, ()),
                position=position,
                **texts,
            )
        )
    keys = [question.key for question in questions]
    if keys != list(QUESTION_KEYS):
        for key in QUESTION_KEYS:
            count = keys.count(key)
            if count == 0:
                problems.at("questions", root, f"question {key!r} is missing")
            elif count > 1:
                problems.at("questions", root, f"question {key!r} appears {count} times")
        for key in keys:
            if key and key not in QUESTION_KEYS:
                problems.at("questions", root, f"unknown question key {key!r} (expected: {', '.join(QUESTION_KEYS)})")
        if sorted(keys) == sorted(QUESTION_KEYS):
            problems.at("questions", root, f"questions must come in this order: {', '.join(QUESTION_KEYS)}")
    return tuple(questions)


def _load_questions(path: Path) -> tuple[Question, ...]:
    root = _read_yaml(path)
    problems = _Problems()
    root = _mapping(problems, "file", root)
    _unknown_fields(problems, "file", root, ("quick_replies", "questions"))
    replies = _quick_replies(problems, root.get("quick_replies"), root)
    questions = _questions(problems, root.get("questions"), root, replies)
    if problems:
        raise DiagnosticDataError(path, problems)
    return questions


# ---------------------------------------------------------------- advice.yml

ADVICE_FIELDS = (
    "verdicts",
    "also_missing",
    "answer_notes",
    "next_steps_intro",
    "closing",
    "quote",
    "relationships",
    "advice",
    "solid_advice",
)


def _keyed(problems: _Problems, where: str, node: Any, root: Any, keys: tuple[str, ...]) -> dict:
    """A mapping that must hold exactly `keys`."""
    if node is None:
        problems.at(where, root, f"missing section {where!r}")
        return {}
    node = _mapping(problems, where, node, root)
    for key in keys:
        if key not in node:
            problems.at(where, node, f"missing entry {key!r}")
    for key in node:
        if key not in keys:
            problems.at(where, node, f"unknown entry {key!r} (expected: {', '.join(keys)})")
    return node


def _load_advice(path: Path) -> dict[str, Any]:
    root = _read_yaml(path)
    problems = _Problems()
    root = _mapping(problems, "file", root)
    _unknown_fields(problems, "file", root, ADVICE_FIELDS)

    verdicts = {}
    node = _keyed(problems, "verdicts", root.get("verdicts"), root, VERDICTS)
    for key in VERDICTS:
        if key in node:
            item = _mapping(problems, f"verdicts.{key}", node[key], node)
            _unknown_fields(problems, f"verdicts.{key}", item, ("label", "message"))
            label = _text(problems, f"verdicts.{key}", item, "label")
            message = _text(problems, f"verdicts.{key}", item, "message")
            _template(problems, f"verdicts.{key}.message", item, message, REQUIRED_PLACEHOLDERS[key])
            verdicts[key] = Verdict(key, label, message)

    also = _keyed(problems, "also_missing", root.get("also_missing"), root, tuple(ALSO_MISSING_REQUIRED))
    also_missing = {}
    for key, required in ALSO_MISSING_REQUIRED.items():
        if key in also:
            also_missing[key] = _text(problems, "also_missing", also, key)
            _template(problems, f"also_missing.{key}", also, also_missing[key], required)

    notes = _keyed(problems, "answer_notes", root.get("answer_notes"), root, ("partly", "unknown"))
    answer_notes = {key: _text(problems, "answer_notes", notes, key) for key in ("partly", "unknown") if key in notes}

    relationships = {}
    node = _keyed(problems, "relationships", root.get("relationships"), root, RELATIONSHIPS)
    for key in RELATIONSHIPS:
        if key not in node:
            continue
        where = f"relationships.{key}"
        item = _mapping(problems, where, node[key], node)
        needs_advice = key != "partnership"  # advice says what to do when it is *not* one
        _unknown_fields(problems, where, item, ("noun", "definition", "advice") if needs_advice else ("noun", "definition"))
        advice = _text_list(problems, f"{where}.advice", item.get("advice"), item) if needs_advice else ()
        relationships[key] = RelationshipText(
            key, _text(problems, where, item, "noun"), _text(problems, where, item, "definition"), advice
        )

    node = _keyed(problems, "advice", root.get("advice"), root, ANSWER_KEYS)
    advice = {key: _text(problems, "advice", node, key) for key in ANSWER_KEYS if key in node}

    data = {
        "verdicts": verdicts,
        "also_missing": also_missing,
        "answer_notes": answer_notes,
        "relationships": relationships,
        "advice": advice,
        "solid_advice": _text_list(problems, "solid_advice", root.get("solid_advice"), root),
        "next_steps_intro": _text(problems, "file", root, "next_steps_intro"),
        "closing": _text(problems, "file", root, "closing"),
        "quote": _quote_template(problems, root),
    }
    if problems:
        raise DiagnosticDataError(path, problems)
    return data


QUOTE_PLACEHOLDERS = frozenset({"label", "words"})


def _quote_template(problems: _Problems, root: Any) -> str:
    text = _text(problems, "file", root, "quote")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        problems.at("quote", root, f"badly formed {{placeholder}}: {exc}")
        return text
    if names != QUOTE_PLACEHOLDERS:
        problems.at("quote", root, "the message must mention {label} and {words}, and nothing else in braces")
    return text


# ---------------------------------------------------------------- entry point

_cache: dict[Path, Questionnaire] = {}
_cache_lock = threading.Lock()


def load_questionnaire(data_dir: str | Path | None = None) -> Questionnaire:
    """The validated questionnaire and advice, read once per directory and cached.

    `data_dir` holds `questionnaire.yml` and `advice.yml`; by default, this package.
    Raises `DiagnosticDataError` listing every problem found.
    """
    directory = Path(data_dir).resolve() if data_dir is not None else DATA_DIR
    cached = _cache.get(directory)
    if cached is not None:
        return cached
    with _cache_lock:
        if directory not in _cache:
            _cache[directory] = _load(directory)
        return _cache[directory]


def clear_cache() -> None:
    """Forget loaded data (tests; or a consultant's edit picked up without restart)."""
    with _cache_lock:
        _cache.clear()


def _load(directory: Path) -> Questionnaire:
    questions_path, advice_path = directory / QUESTIONNAIRE_FILE, directory / ADVICE_FILE
    questions = _load_questions(questions_path)
    data = _load_advice(advice_path)
    freeze = MappingProxyType
    return Questionnaire(
        questions=questions,
        verdicts=freeze(data["verdicts"]),
        relationships=freeze(data["relationships"]),
        advice=freeze(data["advice"]),
        solid_advice=data["solid_advice"],
        also_missing=freeze(data["also_missing"]),
        answer_notes=freeze(data["answer_notes"]),
        next_steps_intro=data["next_steps_intro"],
        closing=data["closing"],
        sources=(questions_path, advice_path),
        quote=data["quote"],
    )


__all__ = [
    "DiagnosticDataError",
    "Question",
    "Questionnaire",
    "QuickReply",
    "RelationshipText",
    "Verdict",
    "load_questionnaire",
    "clear_cache",
]
