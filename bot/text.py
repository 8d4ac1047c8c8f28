"""Text hygiene shared by the NLU pipeline (nlu_components/), the answer parser (bot/answers.py)
and the actions: one definition of "the same text", so all three read a message alike."""
from __future__ import annotations

import re
import unicodedata

# Beyond this, a message is cut before NLU: long enough for any real question, short enough
# that a pasted 2 MB document cannot stall spaCy or the classifier.
MAX_MESSAGE_CHARS = 2000

# Phones and Macs type ’, laptops type '; the training data uses '.
_APOSTROPHES = re.compile("[\u2019\u2018\u02bc\u02b9`\u00b4\u2032]")
# Non-breaking and thin spaces come from French keyboards and copy-paste.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\u200a]+")
# C0 and C1 controls (ANSI/OSC terminal escapes start with ESC or U+009B/U+009D), zero-width
# and bidi-override characters: never meaningful in a chat message, dangerous in a terminal.
_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200d\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROL_KEEP_LINES = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200d\u202a-\u202e\u2066-\u2069\ufeff]")


def strip_controls(text: str | None, keep_lines: bool = False) -> str:
    """The text without control characters (kept: tab, and newlines when `keep_lines`):
    what a visitor typed is stored and printed without terminal escapes."""
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return (_CONTROL_KEEP_LINES if keep_lines else _CONTROL).sub("", text)


def normalize_text(text: str | None) -> str:
    """NFC, straight apostrophes, no control characters, single spaces, capped length."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)[: MAX_MESSAGE_CHARS * 2])
    text = _CONTROL.sub("", text)
    text = _APOSTROPHES.sub("'", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_MESSAGE_CHARS].rstrip()


def is_too_long(text: str) -> bool:
    """True for a message that was (or will be) cut. The NLU pipeline hands the actions the
    text already capped at MAX_MESSAGE_CHARS, so reaching the cap is the sign it was cut."""
    return len(text or "") >= MAX_MESSAGE_CHARS
