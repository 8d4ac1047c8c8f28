"""The REST channel's conversation ids: random ones served, guessable ones refused."""
import secrets
import uuid

import pytest

from bot.sender_ids import GUESSABLE, MALFORMED, refusal


def test_fresh_random_uuids_are_always_accepted():
    # The contract: any client sending str(uuid.uuid4()) is served. 40,000 draws here;
    # the thresholds were set against a million (the module docstring).
    for _ in range(20_000):
        assert refusal(str(uuid.uuid4())) is None
        assert refusal(uuid.uuid4().hex) is None


def binomial_tail(n: int, p: float, k: int) -> float:
    from math import comb

    return sum(comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))


def test_a_real_uuid4_is_refused_with_a_negligible_probability():
    """The thresholds against the 30 random hex digits of a uuid4 (2 more are fixed)."""
    from math import comb, floor

    from bot.sender_ids import MAX_SHARE_OF_ONE_CHAR, MAX_SHARE_OF_STEPS, MIN_DISTINCT

    one_char = 16 * binomial_tail(30, 1 / 16, floor(MAX_SHARE_OF_ONE_CHAR * 32) + 1 - 2)
    few_distinct = comb(16, MIN_DISTINCT - 1) * ((MIN_DISTINCT - 1) / 16) ** 30
    steps = binomial_tail(31, 2 / 16, floor(MAX_SHARE_OF_STEPS * 31) + 1 - 4)
    assert one_char < 1e-12 and few_distinct < 1e-12 and steps < 1e-12, (one_char, few_distinct, steps)
    # The one CI met: 13 « a » of 32 was once more than the share allowed.
    assert refusal("a6aa8a58-e59a-4a21-ab96-adaaaaa50dd1") is None


@pytest.mark.parametrize("sender", [
    str(uuid.uuid4()).upper(),
    f"test-{uuid.uuid4()}",
    secrets.token_urlsafe(16),
    secrets.token_hex(16),
])
def test_other_random_ids_are_accepted(sender):
    assert refusal(sender) is None


@pytest.mark.parametrize("sender", [
    "1", "42", "abandon-2", "visiteur-42", "arnaud", "0612345678", "2026-12-03",
    "00000000-0000-0000-0000-000000000000", "11111111-1111-4111-8111-111111111111",
    "a" * 64, "ab" * 32, "abc" * 30, "0123456789abcdef0123456789abcdef",
    "visiteur-0000000000000000000000000001", "test-" + "0" * 40,
])
def test_guessable_ids_are_refused_in_french(sender):
    assert refusal(sender) == GUESSABLE


@pytest.mark.parametrize("sender", [None, 12, "", "a b c", "x" * 129, "<script>", "é" * 40])
def test_malformed_ids_are_refused(sender):
    assert refusal(sender) == MALFORMED


def test_base64url_tokens_are_never_refused_for_their_dashes_and_underscores():
    """`secrets.token_urlsafe(16)` is 22 symbols of 6 bits; counting only its letters and digits
    refused about 3 in 100,000 of them (those with several « - » or « _ »)."""
    import secrets as s

    assert refusal("DZYl_EOSwn-j_-F-rSBR-g") is None and refusal("_l-6V-r5-Z_ew_uNlRbc-w") is None
    # Drawn by token_urlsafe in a test run: its letters happen to be capitals only.
    assert refusal("-_F2ID04_6MQD0RVJ6P-DQ") is None
    assert not [t for t in (s.token_urlsafe(16) for _ in range(100_000)) if refusal(t)]
