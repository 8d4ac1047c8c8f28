"""French typography for every line the bot sends: no « ; » or « » » alone at the start of a line.

French sets a space before ; : ! ? and inside « » — a space that must not break, or the chat
widget wraps the punctuation onto a line of its own. `french_spacing` turns those ordinary
spaces into non-breaking ones: a narrow one (U+202F) before ; ! ? and inside guillemets, a
normal-width one (U+00A0) before « : », as the Imprimerie nationale's rules have it. It is
idempotent, leaves URLs and times alone (« http://… », « 10:30 » have no space before the
colon), and is applied once where lines leave the bot (actions/common.send, the e-mails, the
widget's own strings) and when the content files are loaded, so tests compare like with like.
"""
from __future__ import annotations

import re

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"

_BEFORE_NARROW = re.compile(r"[ \u00a0]+([;!?»])")
_BEFORE_COLON = re.compile(r"[ \u202f]+:")
_AFTER_OPENING = re.compile(r"«[ \u00a0]+")


def french_spacing(text: str) -> str:
    if not text:
        return text
    text = _BEFORE_NARROW.sub(lambda m: NARROW_NBSP + m.group(1), text)
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    return _AFTER_OPENING.sub("«" + NARROW_NBSP, text)
