"""spaCy French model, loaded once per process, and the text normaliser.

Everything that reads a visitor's text goes through `normalise()` first, so that
the typographic apostrophe of a phone keyboard (’) and the straight one of a
laptop (') mean the same thing, runs of whitespace do not matter, and a pasted
novel cannot make the action server spend seconds in spaCy.

`get_nlp()` loads `fr_core_news_md` lazily: importing this module costs nothing,
the first call pays the ~3 s load, every later call (from any thread) gets the
same object. The Rasa server loads its own copy for its pipeline; this one lives
in the action server.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import TYPE_CHECKING

from bot.text import MAX_MESSAGE_CHARS, normalize_text

if TYPE_CHECKING:  # spaCy is imported lazily: tests of pure data need not pay for it
    from spacy.language import Language

MODEL_NAME = "fr_core_news_md"
MAX_CHARS = MAX_MESSAGE_CHARS

_lock = threading.Lock()
_nlp: "Language | None" = None


def normalise(text: str | None) -> str:
    """Visitor text made comparable (see bot/text.py: the NLU pipeline uses the same rules)."""
    return normalize_text(text)


def fold(text: str) -> str:
    """Lower-case, accent-free form used to compare words ("Évidemment" == "evidemment")."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def get_nlp() -> "Language":
    """The shared spaCy pipeline; raises OSError/ImportError if the model is not installed."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:  # another thread may have loaded it while we waited
                import spacy

                _nlp = spacy.load(MODEL_NAME)
    return _nlp


def is_loaded() -> bool:
    return _nlp is not None
