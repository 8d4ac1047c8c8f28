"""Text hygiene shared by the NLU pipeline and the action server."""
from __future__ import annotations

import re
import unicodedata

# Beyond this, a message is cut before NLU: long enough for any real question, short enough
# that a pasted 2 MB document cannot stall spaCy or the classifier.
MAX_MESSAGE_CHARS = 2000

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFC, straight apostrophes, no control characters, single spaces, capped length."""
    text = unicodedata.normalize("NFC", text[: MAX_MESSAGE_CHARS * 2])
    text = _CONTROL.sub(" ", text.translate(_APOSTROPHES))
    return _SPACES.sub(" ", text).strip()[:MAX_MESSAGE_CHARS]


def is_too_long(text: str) -> bool:
    """True for a message that was (or will be) cut. The NLU pipeline hands the actions the
    text already capped at MAX_MESSAGE_CHARS, so reaching the cap is the sign it was cut."""
    return len(text or "") >= MAX_MESSAGE_CHARS
