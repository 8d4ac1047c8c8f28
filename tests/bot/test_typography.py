"""French spacing (bot/typography.py) in every line the bot sends."""
import pytest

from bot.knowledge import load_knowledge
from bot.typography import NARROW_NBSP, NBSP, french_spacing


@pytest.mark.parametrize("text, expected", [
    ("Prêt ?", f"Prêt{NARROW_NBSP}?"),
    ("Erreur ! C’est ça ; bref", f"Erreur{NARROW_NBSP}! C’est ça{NARROW_NBSP}; bref"),
    ("Trois exemples :", f"Trois exemples{NBSP}:"),
    ("le « Tinder pour entreprises »", f"le «{NARROW_NBSP}Tinder pour entreprises{NARROW_NBSP}»"),
    ("www.salesinprogress.com, http://x.fr, 10:30", "www.salesinprogress.com, http://x.fr, 10:30"),
    ("oui?", "oui?"),  # no space typed: nothing to protect
])
def test_spaces_before_french_punctuation_never_break(text, expected):
    assert french_spacing(text) == expected
    assert french_spacing(expected) == expected  # idempotent


def test_no_line_of_the_content_keeps_a_breaking_space_before_punctuation():
    k = load_knowledge()
    lines = [m for step in k.steps for m in step.messages] + [m for t in k.topics.values() for m in t.messages]
    lines += [m for ms in k.lines.values() for m in ms] + [q for q, _ in k.contact_questions.values()]
    assert lines and not [line for line in lines if any(f" {p}" in line for p in ";:!?»") or "« " in line]
