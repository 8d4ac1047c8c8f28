"""Validation of the contact details a visitor types, with reasons in clear French.

``validate_email(text)`` uses *email-validator* (syntax only, no DNS look-up) and returns
the address normalised and lower-cased; ``validate_phone(text)`` uses *phonenumbers* with
the region FR by default (``06 34 22 31 71``, ``06.34.22.31.71``, ``+33 6 34 22 31 71``,
``0033 6 ...`` all give ``+33634223171``); a number with an international prefix from
another country is accepted too. Both return a :class:`ValidationResult`: ``value`` set
and ``error`` None when valid, the reverse otherwise; the error is a sentence Marc can say.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import email_validator
import phonenumbers

EMAIL_EXAMPLE = "prenom.nom@entreprise.fr"
PHONE_EXAMPLE = "06 12 34 56 78 ou +33 6 12 34 56 78"


@dataclass(frozen=True)
class ValidationResult:
    value: Optional[str] = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None

    def __bool__(self) -> bool:
        return self.ok


# email-validator's English messages -> French, first match wins.
_EMAIL_ERRORS = (
    (r"must have an @-sign", "Il manque le « @ » : une adresse e-mail ressemble à {ex}."),
    (r"more than one @-sign|only one @-sign",
     "Une adresse e-mail ne contient qu’un seul « @ » (exemple : {ex})."),
    (r"something after the @-sign",
     "Il manque le nom de domaine après le « @ » (par exemple : entreprise.fr)."),
    (r"something before the @-sign",
     "Il manque la partie avant le « @ » (par exemple : prenom.nom)."),
    (r"should have a period",
     "Le nom de domaine après le « @ » doit contenir un point (par exemple : entreprise.fr)."),
    (r"two periods in a row", "Une adresse e-mail ne peut pas contenir deux points à la suite."),
    (r"(start|end) with a period",
     "Une adresse e-mail ne peut pas commencer ni finir par un point, ni autour du « @ »."),
    (r"before the @-sign.*invalid characters|invalid characters before the @-sign",
     "La partie avant le « @ » contient des caractères non autorisés (espace, virgule…)."),
    (r"after the @-sign.*invalid characters|invalid characters after the @-sign",
     "Le nom de domaine après le « @ » contient des caractères non autorisés (espace, virgule…)."),
    (r"special-use or reserved",
     "Ce nom de domaine est réservé et ne peut pas recevoir d’e-mails."),
    (r"too long", "Cette adresse e-mail est trop longue."),
)


def validate_email(text: Optional[str]) -> ValidationResult:
    """Check an e-mail address (no DNS check); return it normalised and lower-cased."""
    candidate = (text or "").strip().strip("<>").strip().rstrip(".")
    if not candidate:
        return ValidationResult(error=f"Il me faut une adresse e-mail, par exemple {EMAIL_EXAMPLE}.")
    if any(ch.isspace() for ch in candidate):
        return ValidationResult(
            error=f"Une adresse e-mail ne contient pas d’espace (exemple : {EMAIL_EXAMPLE})."
        )
    if candidate.count("@") > 1:
        return ValidationResult(
            error=f"Une adresse e-mail ne contient qu’un seul « @ » (exemple : {EMAIL_EXAMPLE})."
        )
    try:
        info = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        message = str(exc)
        for pattern, french in _EMAIL_ERRORS:
            if re.search(pattern, message, re.IGNORECASE):
                return ValidationResult(error=french.format(ex=EMAIL_EXAMPLE))
        return ValidationResult(
            error=f"Cette adresse e-mail n’est pas valide : vérifiez-la (exemple : {EMAIL_EXAMPLE})."
        )
    return ValidationResult(value=info.normalized.lower())


_PHONE_ALLOWED = re.compile(r"^[0-9+().\-/\s]+$")


def validate_phone(text: Optional[str], region: str = "FR") -> ValidationResult:
    """Check a phone number (region FR by default); return it in E.164 (``+33634223171``)."""
    candidate = (text or "").strip()
    if not candidate:
        return ValidationResult(error=f"Il me faut un numéro de téléphone, par exemple {PHONE_EXAMPLE}.")
    if not _PHONE_ALLOWED.match(candidate):
        return ValidationResult(
            error="Un numéro de téléphone ne contient que des chiffres (et éventuellement "
            f"« + », espaces, points ou tirets), par exemple {PHONE_EXAMPLE}."
        )
    if candidate.count("+") > 1 or ("+" in candidate and not candidate.lstrip("(").startswith("+")):
        return ValidationResult(
            error=f"Le « + » ne peut figurer qu’au début du numéro, par exemple +33 6 12 34 56 78."
        )
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            message = "L’indicatif international de ce numéro n’existe pas (pour la France : +33)."
        elif exc.error_type in (
            phonenumbers.NumberParseException.TOO_SHORT_NSN,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
        ):
            message = f"Ce numéro est trop court : un numéro français compte 10 chiffres ({PHONE_EXAMPLE})."
        elif exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            message = f"Ce numéro est trop long : un numéro français compte 10 chiffres ({PHONE_EXAMPLE})."
        else:
            message = f"Je n’arrive pas à lire ce numéro : écrivez-le sous la forme {PHONE_EXAMPLE}."
        return ValidationResult(error=message)
    french = number.country_code == 33
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.INVALID_LENGTH):
        if french:
            return ValidationResult(
                error=f"Ce numéro est trop court : un numéro français compte 10 chiffres ({PHONE_EXAMPLE})."
            )
        return ValidationResult(error="Ce numéro est trop court pour son pays : vérifiez-le.")
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        if french:
            return ValidationResult(
                error=f"Ce numéro est trop long : un numéro français compte 10 chiffres ({PHONE_EXAMPLE})."
            )
        return ValidationResult(error="Ce numéro est trop long pour son pays : vérifiez-le.")
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return ValidationResult(
            error="L’indicatif international de ce numéro n’existe pas (pour la France : +33)."
        )
    if not phonenumbers.is_valid_number(number):
        if french:
            return ValidationResult(
                error="Ce numéro n’existe pas en France : vérifiez-le (10 chiffres, "
                f"par exemple {PHONE_EXAMPLE})."
            )
        return ValidationResult(error="Ce numéro n’est pas attribué dans son pays : vérifiez-le.")
    return ValidationResult(
        value=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def format_phone(e164: Optional[str]) -> str:
    """A stored E.164 number in the readable national (FR) or international form."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
