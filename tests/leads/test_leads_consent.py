"""The consent notice: complete, versioned, and its hash stable."""
import pytest

from bot.leads.consent import (
    CONSENT_NOTICE, CONSENT_VERSION, UnknownConsentVersion, all_notices, get_notice,
)


def test_current_version_has_a_notice():
    assert get_notice().version == CONSENT_VERSION
    assert CONSENT_NOTICE.version == CONSENT_VERSION


@pytest.mark.parametrize("version", sorted(all_notices()))
def test_every_notice_says_who_why_how_long_and_rights(version):
    notice = get_notice(version)
    text = notice.text
    assert "Sales In Progress" in text  # who processes the data
    assert "recontacte" in text  # purpose
    assert "trois ans après notre dernier contact" in text  # retention
    for right in ("accès", "rectification", "effacement"):
        assert right in text
    assert "06 34 22 31 71" in text and "www.salesinprogress.com" in text  # how to use them
    assert "oui" in notice.question and "non" in notice.question
    assert "06 34 22 31 71" in notice.refused


def test_hash_is_stable_and_covers_the_question():
    notice = get_notice()
    assert notice.sha256 == get_notice(CONSENT_VERSION).sha256
    assert len(notice.sha256) == 64


def test_unknown_version_is_refused():
    with pytest.raises(UnknownConsentVersion):
        get_notice("1999-01-v0")
