"""E-mail and French phone validation, with reasons in French."""
import pytest
from hypothesis import given, settings, strategies as st

from bot.leads.validation import ValidationResult, format_phone, validate_email, validate_phone


@pytest.mark.parametrize(
    "text, expected",
    [
        ("jeanne.martin@menuiserie-martin.fr", "jeanne.martin@menuiserie-martin.fr"),
        ("  Jeanne.Martin@Menuiserie.FR  ", "jeanne.martin@menuiserie.fr"),
        ("<contact@sip-conseil.com>", "contact@sip-conseil.com"),
        ("marc+partenariat@salesinprogress.com", "marc+partenariat@salesinprogress.com"),
        ("arnaud@entreprise.fr.", "arnaud@entreprise.fr"),
    ],
)
def test_valid_emails_are_normalised(text, expected):
    result = validate_email(text)
    assert result == ValidationResult(value=expected, error=None)
    assert result.ok and bool(result)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "Il me faut une adresse e-mail"),
        (None, "Il me faut une adresse e-mail"),
        ("jeanne.martin", "Il manque le « @ »"),
        ("jeanne@", "Il manque le nom de domaine"),
        ("@menuiserie.fr", "Il manque la partie avant le « @ »"),
        ("jeanne@menuiserie", "doit contenir un point"),
        ("jeanne..martin@menuiserie.fr", "deux points à la suite"),
        ("jeanne martin@menuiserie.fr", "pas d’espace"),
        ("jeanne@@menuiserie.fr", "qu’un seul « @ »"),
        ("jeanne,martin@menuiserie.fr", "caractères non autorisés"),
        ("jeanne@exemple.test", "réservé"),
    ],
)
def test_invalid_emails_say_why_in_french(text, words):
    result = validate_email(text)
    assert result.value is None and not result.ok
    assert words in result.error
    assert "must" not in result.error and "sign" not in result.error  # no English leaks


@pytest.mark.parametrize(
    "text",
    [
        "06 34 22 31 71", "0634223171", "06.34.22.31.71", "06-34-22-31-71",
        "+33 6 34 22 31 71", "+33634223171", "0033 6 34 22 31 71", "+33 (0)6 34 22 31 71",
    ],
)
def test_french_mobile_forms_normalise_to_e164(text):
    assert validate_phone(text) == ValidationResult(value="+33634223171")


def test_landlines_and_foreign_numbers():
    assert validate_phone("01 42 68 53 00").value == "+33142685300"
    assert validate_phone("+32 470 12 34 56").value == "+32470123456"


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "Il me faut un numéro"),
        ("06 34 22 31", "trop court"),
        ("06 34 22 31 71 99", "trop long"),
        ("06 34 22 31 71 svp", "que des chiffres"),
        ("mon numéro", "que des chiffres"),
        ("00 00 00 00 00", "n’existe pas en France"),
        ("06+34 22 31 71", "au début"),
        ("+999 1234 5678", "indicatif"),
    ],
)
def test_invalid_phones_say_why_in_french(text, words):
    result = validate_phone(text)
    assert result.value is None
    assert words in result.error


def test_format_phone_for_display():
    assert format_phone("+33634223171") == "06 34 22 31 71"
    assert format_phone(None) == ""


@settings(max_examples=200, deadline=None)
@given(
    # metropolitan mobile ranges (069x and 063x include overseas numbers)
    prefix=st.sampled_from(["060", "061", "062", "064", "065", "066", "067", "068",
                            "073", "074", "075", "076", "077", "078", "079"]),
    digits=st.lists(st.integers(0, 9), min_size=7, max_size=7),
    separator=st.sampled_from(["", " ", ".", "-"]),
    international=st.booleans(),
)
def test_any_french_mobile_in_any_common_form(prefix, digits, separator, international):
    national = (prefix + "".join(map(str, digits)))[:10]  # 10 digits, French mobile ranges
    text = separator.join(national[i:i + 2] for i in range(0, 10, 2))
    if international:
        text = "+33 " + text[1:]
    expected = "+33" + national[1:]
    assert validate_phone(text).value == expected
