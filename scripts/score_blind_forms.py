"""Score the forms' blind set (tests/blind/forms_answers.yml): what the bot records for each
free answer, read by the trained NLU model and the forms' own readers, with the forms' rules.

For each item: the message goes through the model's NLU (intent), then through the reader of
the question on screen (`bot.diagnostic.dialogue.read_turn`, `bot.contact.read_contact_turn`),
exactly as the form's validation action calls them. When the reader says "not an answer",
what happens next is what `data/rules/` say for that intent while the form is active
(answered then back to the form, paused, closed…); a rule that deactivates the form counts
as closing it, and closing the contact form without a command loses its fields.

    .venv/bin/python scripts/score_blind_forms.py [--model models/coach.tar.gz] [--details]

Prints the share recorded right per question and overall, the forms closed by a
non-command and the contact fields lost; --details lists every miss.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bot.contact import FIELDS, SKIPPED, filled, means_any_time, read_contact_turn, slot_for  # noqa: E402
from bot.diagnostic.dialogue import ANSWER, NOT_AN_ANSWER, REPHRASE, read_turn  # noqa: E402
try:  # before issue 11 there were no asides: the script also scores an older checkout
    from bot.forms import aside_kind  # noqa: E402
except ImportError:  # pragma: no cover
    aside_kind = None
from bot.knowledge import load_knowledge  # noqa: E402
from bot.leads.validation import validate_phone  # noqa: E402
from bot.nlp import fold, normalise  # noqa: E402

BLIND = ROOT / "tests" / "blind" / "forms_answers.yml"
COMMANDS = {"stop": {"stop_session"}, "restart": {"restart"}}

# A visitor who reached the phone question already gave these (the e-mail decides whether
# the phone is optional); the consent step has everything.
EARLIER = {
    "name": {}, "company": {"name": "Arnaud Martin"},
    "email": {"name": "Arnaud Martin", "company": "Martin Conseil"},
    "phone": {"name": "Arnaud Martin", "company": "Martin Conseil", "email": SKIPPED},
    "callback": {"name": "Arnaud Martin", "company": "Martin Conseil", "email": "arnaud@example.fr",
                 "phone": "+33612345678"},
    "need": {"name": "Arnaud Martin", "company": "Martin Conseil", "email": "arnaud@example.fr",
             "phone": "+33612345678", "callback": "Le matin"},
}
EARLIER["consent"] = {**EARLIER["need"], "need": "Choisir le partenaire"}


def form_rules() -> dict[str, dict[str, str]]:
    """{form: {intent: "back" | "closed"}} from the rules that apply while a form is active."""
    outcome: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []:
            loops = [c.get("active_loop") for c in rule.get("condition") or [] if "active_loop" in c]
            if not loops:
                continue
            steps = rule.get("steps") or []
            intents = [s["intent"] for s in steps if "intent" in s]
            intents += [o["intent"] for s in steps for o in s.get("or", []) if "intent" in o]
            closes = any(s.get("active_loop", "x") is None for s in steps)
            aside = any(s.get("action") == "action_form_aside" for s in steps)
            for intent in intents:
                outcome[loops[0]][intent] = "aside" if aside else "closed" if closes else "back"
    return outcome


def load_agent(model: Path):
    """The trained model, with Rasa's per-parse debug logs silenced (also used by
    scripts/score_blind_questions.py)."""
    import structlog
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    # Rasa logs every parse at debug level through structlog: keep the report readable.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    return agent


def load_parser(model: Path):
    agent = load_agent(model)

    def parse(text: str) -> str:
        data = asyncio.run(agent.parse_message(text))
        return (data.get("intent") or {}).get("name") or ""

    return parse


def _same_phone(a: Optional[str], b: Optional[str]) -> bool:
    if a in (None, SKIPPED) or b in (None, SKIPPED):
        return a == b
    left, right = validate_phone(a), validate_phone(b)
    return bool(left and right and left.value == right.value)


def _same_words(expected: str, got: Optional[str]) -> bool:
    """Free text (callback moment, need): the visitor's words kept, around the expected ones."""
    if got is None:
        return False
    if expected == SKIPPED or got == SKIPPED:
        return expected == got
    # The same words whatever the apostrophe: « L’après-midi » typed or clicked is « L'après-midi ».
    e, g = fold(normalise(expected)).strip(" .!"), fold(normalise(got)).strip(" .!")
    return e == g or (e in g and len(g) <= len(e) + 40)


def _same(field: str, expected: str, got: Optional[str]) -> bool:
    if field == "phone":
        return _same_phone(expected, got)
    if field == "callback" and got is not None and {expected, got} & {SKIPPED} \
            and (means_any_time(expected) or means_any_time(got)):
        return True  # « peu importe »: no preferred moment, kept as said or as skipped
    if field in ("callback", "need"):
        return _same_words(expected, got)
    if got is None:
        return False
    return fold(str(expected)).strip() == fold(str(got)).strip()


def _left_to(fate: str, intent: str, text: str) -> str:
    """Where a message the reader rejected goes: a command, a question answered by the
    rules, or an aside (bot/forms.py) that pauses the form on « stop » and else asks again."""
    command = next((k for k, v in COMMANDS.items() if intent in v), None)
    if command:
        return command
    if fate == "aside":
        kind = aside_kind(text, intent)
        return {"stop": "stop", "why": "question", "question": "question"}.get(kind, "asked again")
    return "question"


def _left_as_expected(expected: str, leaves: str) -> bool:
    """``leaves: none`` (the eighth set's words): the form stays open and asks again."""
    return leaves == ("asked again" if expected == "none" else expected)


def score_contact(item: dict, intent: str, rules: dict) -> tuple[bool, str, bool, bool]:
    """(right, what happened, form closed by a non-command, fields lost)."""
    field = item["question"][len("contact_"):]
    expect = item["expect"]
    earlier = dict(EARLIER[field])
    if field == "phone" and (expect.get("fields") or {}).get("phone") == SKIPPED:
        earlier["email"] = "arnaud@example.fr"  # skipping the phone: the optional question was shown
    slots = {slot_for(k): v for k, v in earlier.items()}
    questions = load_knowledge().contact_questions
    key = "phone_optional" if field == "phone" and filled(slots, "email") else field
    offered = questions["summary" if field == "consent" else key][1]
    turn = read_contact_turn(field, item["message"], intent, slots, offered)
    if not turn.is_answer:
        fate = rules["contact_form"].get(intent, "kept")
        leaves = _left_to(fate, intent, item["message"])
        closed = fate == "closed" and not any(intent in v for v in COMMANDS.values())
        if "leaves" in expect:
            return _left_as_expected(expect["leaves"], leaves), f"not an answer ({intent}, {fate})", closed, closed
        return False, f"not an answer ({intent}, {fate})", closed, closed
    if "leaves" in expect:
        return False, f"read as an answer {dict(turn.slots) or turn.error!r}", False, False
    if expect.get("error") or expect.get("unclear"):
        # Invalid or unclear: right when Marc says so and asks again.
        return bool(turn.error), f"error={turn.error!r} slots={dict(turn.slots)}", False, False
    if turn.error:
        return False, f"error {turn.error!r}", False, False
    got = {k[len("contact_"):]: v for k, v in turn.slots.items() if k.startswith("contact_")}
    if expect.get("correct"):
        # Right when Marc asks what to correct, or applies the new value given with the request
        # (« le numéro est faux, c'est 06 12 34 56 79 »: the recap comes back with it).
        changed = any(v is not None and v != earlier.get(k) for k, v in got.items() if k in FIELDS and k != "consent")
        return turn.slots.get("contact_fix") == "choose" or any(v is None for v in got.values()) or changed, \
            str(got), False, False
    wanted = expect.get("fields") or {}
    ok = all(_same(f, str(v), got.get(f)) for f, v in wanted.items())
    return ok, str(got), False, False


def score_diagnostic(item: dict, intent: str, rules: dict) -> tuple[bool, str, bool, bool]:
    key, expect = item["question"], item["expect"]
    turn = read_turn(key, item["message"], intent, already_rephrased=False)
    if turn.kind == NOT_AN_ANSWER:
        fate = rules["diagnostic_form"].get(intent, "kept")
        leaves = _left_to(fate, intent, item["message"])
        closed = fate == "closed" and not any(intent in v for v in COMMANDS.values())
        if "leaves" in expect:
            return _left_as_expected(expect["leaves"], leaves), f"not an answer ({intent}, {fate})", closed, False
        if str(expect.get("answer")) in ("unknown", "unclear") and leaves == "asked again":
            # « merci, je dois filer »: nothing recorded, the question stays: no guess, as asking again
            return True, f"not an answer ({intent}, {fate})", closed, False
        return False, f"not an answer ({intent}, {fate})", closed, False
    if "leaves" in expect:
        return False, f"read as {turn.kind} {turn.value}", False, False
    wanted = str(expect["answer"])
    if turn.kind == REPHRASE:
        # Asking the one follow-up question is right when a consultant could not tell.
        return wanted in ("unknown", "unclear"), "asked again", False, False
    return turn.value == wanted, f"recorded {turn.value}", False, False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "coach.tar.gz")
    parser.add_argument("--set", type=Path, default=BLIND)
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    parse = load_parser(args.model)
    rules = form_rules()
    items = yaml.safe_load(args.set.read_text(encoding="utf-8"))["items"]
    per_question: dict[str, list[bool]] = defaultdict(list)
    closed = lost = 0
    misses = []
    for item in items:
        intent = parse(item["message"])
        scorer = score_contact if item["question"].startswith("contact_") else score_diagnostic
        right, what, was_closed, was_lost = scorer(item, intent, rules)
        per_question[item["question"]].append(right)
        closed += was_closed
        lost += was_lost
        if not right:
            misses.append((item["question"], item["message"], item["expect"], what))
    total = sum(len(v) for v in per_question.values())
    good = sum(sum(v) for v in per_question.values())
    print(f"| question | right | items |\n|---|---|---|")
    for question, results in per_question.items():
        print(f"| {question} | {sum(results) / len(results):.0%} | {len(results)} |")
    print(f"\nrecorded right: {good}/{total} = {good / total:.1%}")
    print(f"forms closed by a non-command: {closed}; contact forms closed with their fields lost: {lost}")
    if args.details:
        print("\nmisses:")
        for question, message, expect, what in misses:
            print(f"- [{question}] {message!r} expected {expect} -> {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
