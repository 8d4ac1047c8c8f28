"""Back-office accounts: ``sip-coach users add|list|disable|passwd``.

Passwords are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106 low-memory profile);
a hash made with older parameters is re-hashed at the next successful login. An account is
disabled, never deleted: the audit of a lead keeps naming who did what, and disabling ends
every open session at once (:mod:`bot.backoffice.auth` checks the account at each request).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from bot.backoffice.models import User, UserSession
from bot.leads.models import utcnow

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes anything; a limit keeps a huge body from costing CPU

_hasher = PasswordHasher()


class AccountError(ValueError):
    """Refused, with the reason in French."""


@dataclass(frozen=True)
class AccountView:
    username: str
    created_at: object
    disabled: bool
    open_sessions: int


def normalise_username(raw: str) -> str:
    return (raw or "").strip().lower()


def check_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "identifiant invalide : de 2 à 64 caractères, lettres minuscules, chiffres, « . », « _ » ou « - »"
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"mot de passe trop court : au moins {MIN_PASSWORD_LENGTH} caractères")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"mot de passe trop long : au plus {MAX_PASSWORD_LENGTH} caractères")
    if password.strip() != password or not password.strip():
        raise AccountError("le mot de passe ne commence ni ne finit par une espace")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# A hash of nothing anyone knows: verifying against it when the account does not exist costs
# the same time as a real check, so the login's timing does not tell which names exist.
DUMMY_HASH = _hasher.hash("pas un vrai mot de passe, seulement pour le temps de calcul")


class Accounts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, username: str) -> Optional[User]:
        return self.session.execute(
            sa.select(User).where(User.username == normalise_username(username))
        ).scalar_one_or_none()

    def add(self, username: str, password: str) -> User:
        username = check_username(username)
        check_password(password)
        if self.get(username) is not None:
            raise AccountError(f"le compte « {username} » existe déjà")
        user = User(username=username, password_hash=hash_password(password))
        self.session.add(user)
        self.session.flush()
        return user

    def list(self) -> List[AccountView]:
        users = self.session.execute(sa.select(User).order_by(User.username)).scalars().all()
        return [
            AccountView(
                username=u.username,
                created_at=u.created_at,
                disabled=not u.active,
                open_sessions=sum(1 for s in u.sessions if s.ended_at is None),
            )
            for u in users
        ]

    def _existing(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise AccountError(f"aucun compte « {normalise_username(username)} »")
        return user

    def disable(self, username: str) -> User:
        user = self._existing(username)
        now = utcnow()
        if user.disabled_at is None:
            user.disabled_at = now
        self._end_sessions(user, now)
        return user

    def set_password(self, username: str, password: str) -> User:
        """New password; the account is enabled again and its open sessions end."""
        user = self._existing(username)
        check_password(password)
        now = utcnow()
        user.password_hash = hash_password(password)
        user.password_changed_at = now
        user.disabled_at = None
        self._end_sessions(user, now)
        return user

    def _end_sessions(self, user: User, now) -> None:  # noqa: ANN001
        self.session.execute(
            sa.update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=now)
        )
