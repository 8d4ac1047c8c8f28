"""`sip-coach users add|list|disable|passwd`: argon2 hashes, French refusals, no password on
the command line."""
from __future__ import annotations

import io
import sys

import pytest

from bot.backoffice.accounts import AccountError, Accounts, password_matches
from bot.cli import main
from bot.leads.db import session_scope

from backoffice_fixtures import PASSWORD


@pytest.fixture
def cli(leads, monkeypatch):
    monkeypatch.setenv("LEADS_DB_URL", leads.engine.url.render_as_string(hide_password=False))

    def run(*argv: str, stdin: str = "") -> tuple:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        code = main(list(argv))
        return code, out.getvalue(), err.getvalue()

    return run


def test_add_stores_an_argon2_hash_never_the_password(leads):
    with session_scope(leads.factory) as session:
        user = Accounts(session).add("  Claire.Dupont ", PASSWORD)
        assert user.username == "claire.dupont"
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert password_matches(user.password_hash, PASSWORD)
        assert not password_matches(user.password_hash, PASSWORD + "x")


@pytest.mark.parametrize("username, password, reason", [
    ("c", PASSWORD, "identifiant invalide"),
    ("claire dupont", PASSWORD, "identifiant invalide"),
    ("claire", "court", "trop court"),
    ("claire", " " + PASSWORD, "espace"),
    ("claire", "x" * 2000, "trop long"),
])
def test_bad_names_and_passwords_are_refused_in_french(leads, username, password, reason):
    with session_scope(leads.factory) as session, pytest.raises(AccountError, match=reason):
        Accounts(session).add(username, password)


def test_the_cli_manages_accounts(cli):
    assert cli("users", "list")[1].startswith("Aucun compte.")
    code, out, _ = cli("users", "add", "claire", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and out.strip() == "Compte « claire » créé."
    code, _, err = cli("users", "add", "claire", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 1 and "existe déjà" in err
    code, _, err = cli("users", "add", "paul")  # no terminal, no --password-stdin
    assert code == 2 and "--password-stdin" in err
    assert "désactivé" in cli("users", "disable", "claire")[1]
    listing = cli("users", "list")[1]
    assert "claire" in listing and "désactivé" in listing
    code, out, _ = cli("users", "passwd", "claire", "--password-stdin", stdin="un tout nouveau mot de passe\n")
    assert code == 0 and "changé" in out
    assert "actif" in cli("users", "list")[1]
    code, _, err = cli("users", "disable", "personne")
    assert code == 1 and "aucun compte « personne »" in err
