"""The consent notice (French) shown before a lead is stored, and its version.

The wording lives in ``bot/leads/consent.yml`` so that it can be reviewed without code.
``CONSENT_VERSION`` is the version the bot must show and pass to
``LeadSubmission.consent_version``; the proof stored with a lead is that version plus the
SHA-256 of the exact notice text (:func:`notice_sha256`), so a later edit of the file
cannot silently change what a visitor is recorded as having accepted.

The notice names who processes the data (Sales In Progress), the purpose (being called
back by a consultant about the partnership project), the retention (three years after the
last contact), and the rights (access, rectification, erasure, objection, portability) with
how to use them (06 34 22 31 71, www.salesinprogress.com, CNIL).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict

import yaml

CONSENT_FILE = Path(__file__).resolve().parent / "consent.yml"
RETENTION_YEARS = 3


@dataclass(frozen=True)
class ConsentNotice:
    version: str
    text: str
    question: str
    refused: str

    @property
    def sha256(self) -> str:
        return notice_sha256(self.text + "\n" + self.question)


class UnknownConsentVersion(ValueError):
    """The consent version given is not one of the notices in consent.yml."""


def notice_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=None)
def _load(path: str = str(CONSENT_FILE)) -> tuple:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    notices: Dict[str, ConsentNotice] = {}
    for version, body in (raw.get("notices") or {}).items():
        notices[str(version)] = ConsentNotice(
            version=str(version),
            text=str(body["text"]).strip(),
            question=str(body["question"]).strip(),
            refused=str(body.get("refused", "")).strip(),
        )
    current = str(raw["current"])
    if current not in notices:
        raise ValueError(f"consent.yml: current version {current!r} has no notice")
    return current, notices


def all_notices() -> Dict[str, ConsentNotice]:
    return dict(_load()[1])


def get_notice(version: str | None = None) -> ConsentNotice:
    """The notice of ``version`` (default: the current one)."""
    current, notices = _load()
    version = current if version is None else str(version)
    try:
        return notices[version]
    except KeyError:
        raise UnknownConsentVersion(
            f"version de consentement inconnue : {version!r} (connues : {', '.join(sorted(notices))})"
        ) from None


CONSENT_VERSION: str = _load()[0]
CONSENT_NOTICE: ConsentNotice = get_notice(CONSENT_VERSION)
