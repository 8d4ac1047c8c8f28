"""Evaluate a partnership against the text: definition, four pillars, choice, piloting.

Verdict, the first rule that applies (Marc's words in the source text):

1. ``not_a_partnership`` — the relationship is ``client`` or ``supplier``: one side
   pays the other for goods or services. Client, fournisseur and partenaire are
   three dictionary words with distinct definitions; Marc says so kindly.
2. ``mandatory_points_missing`` — one of the five mandatory points of the
   definition (autonomy, pooled efforts, common goal, own missions, shared stakes)
   is not met: "cette association comporte des points obligatoires".
3. ``wobbly`` — a pillar is missing: like the legs of a table, one missing and it
   falls. The message names the missing legs.
4. ``not_sufficient`` — the four pillars are there but partner choice or piloting
   is not: "indispensables mais pas suffisants".
5. ``solid`` — everything is there: a solid base, which must still be piloted
   over time.

"Missing" means any answer other than ``yes``: a leg that is only *partly* there
still makes the table wobble, and a point the visitor does not know about is not
a point they can count on. Such items are named in the message with a note
(« à consolider », « à vérifier ») and ``partly`` still earns half the points.
A relationship the visitor could not qualify (``unclear``) does not stop the
evaluation: the five points decide, and the first advice is to clarify it.

Score (0–100), weights out of 100:

=====================  ======  ====================================================
relationship             10    partnership 10, unclear 5, client/supplier 0
five mandatory points    50    10 each: the definition comes first
shared_desire, common_project, balance   8 each  (the legs that hold the table)
contract                  6    "on pourra peaufiner avec un quatrième, le contrat"
partner_choice, piloting  5 each
=====================  ======  ====================================================

Each answer earns a share of its weight: yes 1, partly 1/2, unknown 1/4, no 0.
The total is rounded half up, then capped at 40 for a client or supplier
relationship: however good the rest, it is not a partnership. Every step (a
weighted sum of non-decreasing credits, rounding, a cap lifted only by moving to
``partnership``) is non-decreasing, so improving any answer never lowers the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from bot.typography import french_spacing

from .keys import (
    ANSWER_KEYS,
    ANSWER_RANK,
    ANSWERS,
    CRITERIA,
    EXTRAS,
    PILLARS,
    RELATIONSHIPS,
    TRADE_RELATIONSHIPS,
)
from .loader import Questionnaire, load_questionnaire

WEIGHTS = MappingProxyType(
    {
        "relationship": 10,
        **{key: 10 for key in CRITERIA},
        "shared_desire": 8,
        "common_project": 8,
        "balance": 8,
        "contract": 6,
        "partner_choice": 5,
        "piloting": 5,
    }
)
# Credits in quarters, so the sum is an exact integer and rounding is predictable.
ANSWER_CREDIT = MappingProxyType({"yes": 4, "partly": 2, "unknown": 1, "no": 0})
RELATIONSHIP_CREDIT = MappingProxyType({"partnership": 4, "unclear": 2, "client": 0, "supplier": 0})
TRADE_SCORE_CAP = 40
MAX_NEXT_STEPS = 3

assert sum(WEIGHTS.values()) == 100, "weights must add up to 100"


@dataclass(frozen=True)
class DiagnosticResult:
    relationship: str
    answers: Mapping[str, str]  # all eleven answer keys, "unknown" when not asked
    verdict: str
    verdict_label: str
    score: int
    missing_criteria: list[str]
    missing_pillars: list[str]
    missing_extras: list[str]
    advice: list[str]  # the first MAX_NEXT_STEPS are the next steps quoted in `message`
    message: str  # the whole verdict as one text (the three bubbles joined)
    messages: tuple[str, ...]  # the verdict, the next steps, the offer: one chat bubble each
    labels: Mapping[str, str]  # question key -> short label, for the widget

    def item_score(self, key: str) -> float:
        """0..1: how much of this criterion, pillar or extra is in place."""
        return ANSWER_CREDIT[self.answers[key]] / 4

    def _items(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        return [
            {"key": key, "label": self.labels[key], "answer": self.answers[key], "score": self.item_score(key)}
            for key in keys
        ]

    def to_payload(self) -> dict[str, Any]:
        """The structured result the website widget draws (a Rasa `custom` payload)."""
        return {
            "type": "diagnostic",
            "verdict": self.verdict,
            "verdict_label": self.verdict_label,
            "score": self.score,
            "relationship": self.relationship,
            "criteria": self._items(CRITERIA),
            "pillars": self._items(PILLARS),
            "extras": self._items(EXTRAS),
            "missing_criteria": list(self.missing_criteria),
            "missing_pillars": list(self.missing_pillars),
        }

    @property
    def next_steps(self) -> list[str]:
        """The advice quoted in the verdict: all the visitor reads of `advice`."""
        return next_steps(self.advice)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot for the leads database."""
        return {
            "relationship": self.relationship,
            "answers": dict(self.answers),
            "verdict": self.verdict,
            "score": self.score,
            "missing_criteria": list(self.missing_criteria),
            "missing_pillars": list(self.missing_pillars),
            "advice": list(self.advice),
            # What the visitor was shown: the consultant's report lists these, not all of `advice`.
            "advice_shown": self.next_steps,
        }


def evaluate(
    relationship: str | None = "unclear",
    answers: Mapping[str, str | None] | None = None,
    *,
    questionnaire: Questionnaire | None = None,
    words: Mapping[str, str] | None = None,
) -> DiagnosticResult:
    """Evaluate the visitor's partnership. Missing or None answers count as "unknown".
    `words`: the visitor's own words per answer; the first missing point's are quoted back.

    Raises ValueError on an unknown key or value: those are programming errors
    (a renamed slot, a typo), better caught loudly than scored silently.
    """
    q = questionnaire or load_questionnaire()
    relationship = relationship or "unclear"
    if relationship not in RELATIONSHIPS:
        raise ValueError(f"unknown relationship {relationship!r}; expected one of {', '.join(RELATIONSHIPS)}")
    answers = _complete_answers(answers or {})

    def missing(keys: tuple[str, ...]) -> list[str]:
        return [key for key in keys if answers[key] != "yes"]

    missing_criteria, missing_pillars, missing_extras = missing(CRITERIA), missing(PILLARS), missing(EXTRAS)
    verdict = _verdict(relationship, missing_criteria, missing_pillars, missing_extras)
    advice = _advice(q, relationship, answers, missing_criteria + missing_pillars + missing_extras)
    labels = {question.key: question.label for question in q.questions}
    messages = _message(q, verdict, relationship, answers, labels, missing_criteria, missing_pillars, missing_extras, advice)
    quote = _quote(q, labels, answers, missing_criteria + missing_pillars + missing_extras, words or {})
    if quote and relationship not in TRADE_RELATIONSHIPS:
        messages = (messages[0], f"{quote} {messages[1]}", *messages[2:])  # leads into the advice
    return DiagnosticResult(
        relationship=relationship,
        answers=MappingProxyType(answers),
        verdict=verdict,
        verdict_label=q.verdicts[verdict].label,
        score=score(relationship, answers),
        missing_criteria=missing_criteria,
        missing_pillars=missing_pillars,
        missing_extras=missing_extras,
        advice=advice,
        messages=messages,
        message="\n".join(messages),
        labels=MappingProxyType(labels),
    )


def score(relationship: str, answers: Mapping[str, str | None]) -> int:
    """The 0..100 score alone (see the module docstring for the rule)."""
    answers = _complete_answers(answers)
    quarters = WEIGHTS["relationship"] * RELATIONSHIP_CREDIT[relationship]
    quarters += sum(WEIGHTS[key] * ANSWER_CREDIT[answers[key]] for key in ANSWER_KEYS)
    total = (quarters + 2) // 4  # half up, in integers
    return min(total, TRADE_SCORE_CAP) if relationship in TRADE_RELATIONSHIPS else total


def _complete_answers(answers: Mapping[str, str | None]) -> dict[str, str]:
    unknown_keys = sorted(set(answers) - set(ANSWER_KEYS))
    if unknown_keys:
        raise ValueError(f"unknown answer key(s) {', '.join(unknown_keys)}; expected {', '.join(ANSWER_KEYS)}")
    complete = {key: answers.get(key) or "unknown" for key in ANSWER_KEYS}
    for key, value in complete.items():
        if value not in ANSWERS:
            raise ValueError(f"answer to {key!r} is {value!r}; expected one of {', '.join(ANSWERS)}")
    return complete


def _verdict(relationship: str, criteria: list[str], pillars: list[str], extras: list[str]) -> str:
    if relationship in TRADE_RELATIONSHIPS:
        return "not_a_partnership"
    if criteria:
        return "mandatory_points_missing"
    if pillars:
        return "wobbly"
    if extras:
        return "not_sufficient"
    return "solid"


def _advice(q: Questionnaire, relationship: str, answers: Mapping[str, str], missing: list[str]) -> list[str]:
    if relationship in TRADE_RELATIONSHIPS:
        # Advice on legs of a table that is not a partnership would miss the point.
        return list(q.relationships[relationship].advice)
    advice = list(q.relationships["unclear"].advice) if relationship == "unclear" else []
    groups = (CRITERIA, PILLARS, EXTRAS)  # mandatory points first, then legs, then the rest
    for group in groups:
        # Within a group, what is absent comes before what is uncertain or partial.
        keys = sorted((key for key in group if key in missing), key=lambda key: ANSWER_RANK[answers[key]])
        advice.extend(q.advice[key] for key in keys)
    if not missing:
        advice.extend(q.solid_advice)
    return advice


def _message(
    q: Questionnaire,
    verdict: str,
    relationship: str,
    answers: Mapping[str, str],
    labels: Mapping[str, str],
    missing_criteria: list[str],
    missing_pillars: list[str],
    missing_extras: list[str],
    advice: list[str],
) -> tuple[str, str, str]:
    def listing(keys: list[str]) -> str:
        return _join_fr([_quoted(labels[key], q.answer_notes.get(answers[key])) for key in keys])

    fields = {
        "missing_criteria": listing(missing_criteria),
        "missing_pillars": listing(missing_pillars),
        "missing_extras": listing(missing_extras),
        "relationship_noun": q.relationships[relationship].noun,
        "relationship_definition": q.relationships[relationship].definition,
        "partner_definition": q.relationships["partnership"].definition,
    }
    parts = [q.verdicts[verdict].message.format(**fields)]
    if verdict == "mandatory_points_missing" and missing_pillars:
        parts.append(q.also_missing["pillars"].format(**fields))
    if verdict == "wobbly" and missing_extras:
        parts.append(q.also_missing["extras"].format(**fields))
    steps = "\n".join(f"{number}) {text}" for number, text in enumerate(next_steps(advice), 1))
    # Three chat bubbles: the verdict, the next steps, the offer of help.
    return (french_spacing(" ".join(parts)), french_spacing(f"{q.next_steps_intro}\n{steps}"), q.closing)


QUOTE_MAX = 140  # a longer answer is summed up by the verdict, not read back


def _quote(q: Questionnaire, labels: Mapping[str, str], answers: Mapping[str, str], missing: list[str],
           words: Mapping[str, str]) -> str:
    """« Sur « la même envie », vous me l’avez dit vous-même : « lui est moins motivé que moi ». »:
    the visitor's words on the first point that is missing (a no or a partly, not a doubt)."""
    for key in missing:
        said = " ".join(str(words.get(key) or "").split()).strip(" .!…").replace("'", "’")
        if answers[key] in ("no", "partly") and 2 <= len(said) <= QUOTE_MAX and q.quote:
            return french_spacing(q.quote.format(label=_quoted(labels[key], None), words=said))
    return ""


def next_steps(advice: list[str]) -> list[str]:
    return list(advice[:MAX_NEXT_STEPS])


def _quoted(label: str, note: str | None) -> str:
    # Labels are titles ("La même envie"); inside a sentence they read lower-case,
    # unless they start with an acronym.
    if len(label) > 1 and not label[1].isupper():
        label = label[0].lower() + label[1:]
    return french_spacing(f"« {label} »") + (f" ({note})" if note else "")


def _join_fr(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]
