"""Which conversation ids the REST channel accepts.

Rasa's REST channel trusts the `sender` field: whoever posts a conversation's id *is* that
visitor for the bot, sees its replies and can consent in its name. The id is therefore a
bearer secret, and it must be one that nobody can guess. The widget draws a random UUID
(`crypto.randomUUID()`), `rasa shell` a `uuid4().hex`; any REST client that sends a fresh
`str(uuid.uuid4())` is served.

An id is refused when it is clearly not random. The checks are deliberately simple, and their
thresholds are set so that a real random id is refused with a probability below 1e-12
(computed in tests/bot/test_sender_ids.py, and checked on 40,000 draws each run):
- fewer than 96 bits by its length and alphabet (`visiteur-42`, `1`, a phone number, a date;
  in a base64url token, « - » and « _ » are symbols of the alphabet, not punctuation);
- fewer than 5 distinct characters, one character on more than 60 % of the positions, more
  than 85 % of neighbours one apart, or a repeated pattern (`aaaa…`, `abababab…`,
  `0123456789abcdef…`).
This cannot prove an id random (a client may derive one from something public); the README and
docs/security.md tell integrators to send a random UUID.
"""
from __future__ import annotations

import math
import re
from typing import Optional

# The characters the channel has always accepted in an id; anything else is malformed.
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MIN_BITS = 96
# Set so that a real `uuid4()` is refused with a probability below 1e-12 (binomial tails over
# its 30 random hex digits, tests/bot/test_sender_ids.py computes them): 0.4 and 0.5 refused
# about one in seven million (« a6aa8a58-e59a-4a21-ab96-adaaaaa50dd1 », 13 « a » of 32).
MIN_DISTINCT = 5
MAX_SHARE_OF_ONE_CHAR = 0.6
MAX_SHARE_OF_STEPS = 0.85

MALFORMED = "« sender » doit être un identifiant (lettres, chiffres, - _ . : @, 128 caractères au plus)."
GUESSABLE = (
    "« sender » est trop facile à deviner : utilisez un identifiant aléatoire, par exemple un "
    "UUID tiré au hasard pour chaque conversation."
)


def _alphabet_bits(chars: str) -> float:
    """Bits per character of the smallest usual alphabet the characters come from."""
    if re.fullmatch(r"[0-9]+", chars):
        return math.log2(10)
    if re.fullmatch(r"[0-9a-f]+", chars) or re.fullmatch(r"[0-9A-F]+", chars):
        return 4.0
    if re.fullmatch(r"[0-9a-z]+", chars) or re.fullmatch(r"[0-9A-Z]+", chars):
        return math.log2(36)
    return math.log2(62)


def _is_periodic(chars: str) -> bool:
    """True when the string is a shorter string repeated (`abcabcabc…`)."""
    for period in range(1, len(chars) // 2 + 1):
        if all(chars[i] == chars[i % period] for i in range(len(chars))):
            return True
    return False


def _share_of_steps(chars: str) -> float:
    """Share of neighbours one code point apart (`0123…`, `abcd…`, `9876…`)."""
    pairs = list(zip(chars, chars[1:]))
    if not pairs:
        return 1.0
    return sum(abs(ord(a) - ord(b)) == 1 for a, b in pairs) / len(pairs)


def estimated_bits(sender: str) -> float:
    chars = re.sub(r"[^A-Za-z0-9]", "", sender)
    if not chars:
        return 0.0
    bits = _alphabet_bits(chars)
    base64url = re.fullmatch(r"[A-Za-z0-9_-]+", sender) and (
        bits >= math.log2(62) or (re.search(r"[_-]", sender) and bits > 4.0))
    if base64url:
        # Base64url (`secrets.token_urlsafe`): « - » and « _ » are symbols of the alphabet too,
        # 6 bits each like the others, even when the letters drawn happen to be all capitals
        # (« -_F2ID04_6MQD0RVJ6P-DQ »); a UUID's hyphens (hex, 4 bits) stay punctuation.
        return len(sender) * 6.0
    return len(chars) * bits


def refusal(sender: object) -> Optional[str]:
    """The French reason to refuse this sender id, or None when it is acceptable."""
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        return MALFORMED
    chars = re.sub(r"[^A-Za-z0-9]", "", sender)
    folded = chars.lower()
    if (
        estimated_bits(sender) < MIN_BITS
        or len(set(folded)) < MIN_DISTINCT
        or max(folded.count(c) for c in set(folded)) > MAX_SHARE_OF_ONE_CHAR * len(folded)
        or _is_periodic(folded)
        or _share_of_steps(folded) > MAX_SHARE_OF_STEPS
    ):
        return GUESSABLE
    return None
