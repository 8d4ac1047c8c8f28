"""The widget's own words (web/widget.js) and the demo page follow French spacing: a
non-breaking space before ; : ! ? and inside « », never an ordinary one that would let the
punctuation wrap onto a line of its own (issue 12). Marc's lines are checked where they leave
the bot (tests/bot/test_typography.py); these strings never pass through the bot."""
from __future__ import annotations

import html
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
ORDINARY_SPACE_BEFORE = re.compile(r" [;:!?»]|« ")
STRING_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
FRENCH = re.compile(r"[a-zàâçéèêëîïôûùüÿœ]{3,}", re.IGNORECASE)


def french_strings(source: str) -> list:
    return [a or b for a, b in STRING_LITERAL.findall(source) if FRENCH.search(a or b) and " " in (a or b)]


def test_the_widgets_strings_use_non_breaking_spaces():
    strings = french_strings((WEB / "widget.js").read_text(encoding="utf-8"))
    assert len(strings) > 20  # the widget's French strings were found
    assert [s for s in strings if ORDINARY_SPACE_BEFORE.search(s)] == []
    assert any("\u202f" in s or "\u00a0" in s or "\\u202f" in s or "\\u00a0" in s for s in strings)


def test_the_demo_page_uses_non_breaking_spaces():
    page = html.unescape(re.sub(r"<[^>]+>", "", (WEB / "index.html").read_text(encoding="utf-8")))
    assert ORDINARY_SPACE_BEFORE.findall(page) == []
