"""Login, sessions, CSRF and the login rate limit of the back office.

* The session cookie holds a random token (32 bytes); the database keeps only its SHA-256.
  HttpOnly, SameSite=Strict, Secure when served over HTTPS; no ``Max-Age`` (it ends with the
  browser), and the server ends it after ``BACKOFFICE_IDLE_MINUTES`` without a request, or
  ``BACKOFFICE_SESSION_MAX_HOURS`` after the login whatever happens. Logging in again ends
  the session the browser held before.
* Each request re-reads the session **and its account**: a disabled account, or one whose
  password changed, loses its open sessions at once.
* Every form carries the session's CSRF token (compared in constant time); the login form,
  which has no session yet, a double-submit token (cookie + field).
* Login, within ``BACKOFFICE_LOGIN_WINDOW_MINUTES``: at most ``BACKOFFICE_LOGIN_MAX_FAILURES``
  failures for one account name from one address; 4× that from one address (whatever the
  names: password spraying); 10× that for one name (from many addresses), so that a stranger
  cannot lock a consultant out with five wrong passwords. Beyond, refused without checking the
  password. Each attempt is written (and committed) *before* the password is checked, so
  parallel requests count each other; at most :data:`CONCURRENT_CHECKS` argon2 checks run at
  once (each takes 64 MiB). The attempts live in the database: several back-office processes
  share the same count.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.backoffice.accounts import DUMMY_HASH, Accounts, hash_password, needs_rehash, normalise_username, password_matches
from bot.backoffice.models import LoginAttempt, User, UserSession
from bot.backoffice.settings import BackofficeSettings
from bot.leads.models import utcnow

SESSION_COOKIE = "sip_backoffice"
CONCURRENT_CHECKS = 4
KEPT_DAYS = 30  # login attempts and ended sessions
PER_CLIENT_FACTOR, PER_NAME_FACTOR = 4, 10
_checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)
LOGIN_CSRF_COOKIE = "sip_backoffice_login"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def same_token(a: Optional[str], b: Optional[str]) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


class LoginRefused(Exception):
    """Wrong name or password (one message for both: it does not say which names exist)."""


class LoginThrottled(Exception):
    """Too many failures: try again later."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


@dataclass(frozen=True)
class Identity:
    """Who is logged in, for the pages: the account name and the session's CSRF token."""

    user_id: int
    username: str
    csrf_token: str
    session_id: int


class Authenticator:
    def __init__(self, settings: BackofficeSettings) -> None:
        self.settings = settings

    # ------------------------------------------------------------------ login
    def _throttled(self, session: Session, name: str, client: str, now: dt.datetime) -> bool:
        since = now - dt.timedelta(minutes=self.settings.login_window_minutes)

        def failures(*conditions) -> int:  # noqa: ANN002
            return session.execute(
                sa.select(sa.func.count()).select_from(LoginAttempt).where(
                    LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False), *conditions)
            ).scalar_one()

        limit = self.settings.login_max_failures
        return (
            failures(LoginAttempt.username == name, LoginAttempt.client == client) > limit
            or failures(LoginAttempt.client == client) > limit * PER_CLIENT_FACTOR
            or failures(LoginAttempt.username == name) > limit * PER_NAME_FACTOR
        )

    def begin_attempt(self, session: Session, username: str, client: str) -> int:
        """Write the attempt (as failed until proven otherwise), in the caller's transaction,
        which must commit before :meth:`finish_attempt`: parallel attempts see each other.
        Attempts and ended sessions older than :data:`KEPT_DAYS` are deleted on the way: a
        typed name and an address are personal data, kept no longer than the limit needs."""
        forgotten = utcnow() - dt.timedelta(days=KEPT_DAYS)
        session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < forgotten))
        session.execute(sa.delete(UserSession).where(UserSession.ended_at < forgotten))
        attempt = LoginAttempt(at=utcnow(), username=normalise_username(username)[:64],
                               client=(client or "inconnu")[:64], succeeded=False)
        session.add(attempt)
        session.flush()
        return attempt.id

    def finish_attempt(self, session: Session, attempt_id: int, password: str) -> str:
        """A new session's cookie token; raises :class:`LoginRefused` or :class:`LoginThrottled`."""
        attempt = session.get(LoginAttempt, attempt_id)
        # This attempt counts itself: over the limit means it is the limit + 1st.
        if self._throttled(session, attempt.username, attempt.client, attempt.at):
            raise LoginThrottled(self.settings.login_window_minutes)
        user = Accounts(session).get(attempt.username) if attempt.username else None
        with _checks:
            ok = password_matches(user.password_hash if user else DUMMY_HASH, password or "")
        if not (ok and user is not None and user.active):
            raise LoginRefused()
        attempt.succeeded = True
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        token = new_token()
        now = utcnow()
        session.add(UserSession(
            token_sha256=token_digest(token), user_id=user.id, csrf_token=new_token(),
            created_at=now, last_seen_at=now,
        ))
        session.flush()
        return token

    # ------------------------------------------------------------------ each request
    def identify(self, session: Session, token: Optional[str]) -> Optional[Identity]:
        """The identity behind a cookie token, or None (unknown, ended, idle, account disabled)."""
        if not token or len(token) > 200:
            return None
        row = session.execute(
            sa.select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_sha256 == token_digest(token))
        ).first()
        if row is None:
            return None
        user_session, user = row
        now = utcnow()
        if user_session.ended_at is not None:
            return None
        if not user.active or user.password_changed_at > user_session.created_at:
            user_session.ended_at = now
            return None
        if now - user_session.last_seen_at > dt.timedelta(minutes=self.settings.idle_minutes) \
                or now - user_session.created_at > dt.timedelta(hours=self.settings.session_max_hours):
            user_session.ended_at = now  # idle, or simply too old: a new login, once a day at least
            return None
        user_session.last_seen_at = now
        return Identity(user.id, user.username, user_session.csrf_token, user_session.id)

    def logout(self, session: Session, token: Optional[str]) -> None:
        if not token:
            return
        session.execute(
            sa.update(UserSession)
            .where(UserSession.token_sha256 == token_digest(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
