"""Tables of the consultants' back office, in the leads database (same Alembic history).

``backoffice_users``           the accounts (``sip-coach users add|list|disable|passwd``):
                               an argon2 hash, never the password; disabled, never deleted,
                               so the audit of a lead keeps naming who did what.
``backoffice_sessions``        one row per login: only the SHA-256 of the cookie's token is
                               stored (a database leak opens no session), the CSRF token of
                               the session's forms, when it was last used (idle timeout).
``backoffice_login_attempts``  failed and successful logins, for the rate limit (kept in the
                               database so that every back-office process sees the same count).
``nlu_reviewed``               a visitor's message the bot missed, assigned by a consultant to
                               a topic of the text (or « hors sujet »); ``sip-coach nlu review``
                               writes them into ``data/nlu/reviewed.yml``.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from bot.leads.models import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "backoffice_users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    password_hash = sa.Column(sa.String(255), nullable=False)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    password_changed_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    disabled_at = sa.Column(UTCDateTime, nullable=True)

    sessions = relationship(
        "UserSession", back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    __table_args__ = ({"sqlite_autoincrement": True},)


class UserSession(Base):
    __tablename__ = "backoffice_sessions"

    id = sa.Column(sa.Integer, primary_key=True)
    token_sha256 = sa.Column(sa.String(64), nullable=False, unique=True)
    user_id = sa.Column(
        sa.Integer, sa.ForeignKey("backoffice_users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    ended_at = sa.Column(UTCDateTime, nullable=True)

    user = relationship("User", back_populates="sessions")


class LoginAttempt(Base):
    __tablename__ = "backoffice_login_attempts"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    # The name typed (lower-cased, cut to 64) and the client's address: a limit on each.
    username = sa.Column(sa.String(64), nullable=False, index=True)
    client = sa.Column(sa.String(64), nullable=False, index=True)
    succeeded = sa.Column(sa.Boolean, nullable=False, default=False)


class ReviewedPhrasing(Base):
    __tablename__ = "nlu_reviewed"

    id = sa.Column(sa.Integer, primary_key=True)
    # The message as the visitor typed it (only messages with no personal data are kept here).
    text = sa.Column(sa.String(2000), nullable=False)
    # SHA-256 of the normalised text: one row per phrasing (an index on 2,000 characters would
    # pass PostgreSQL's B-tree entry limit).
    text_sha256 = sa.Column(sa.String(64), nullable=False, unique=True)
    intent = sa.Column(sa.String(64), nullable=False)
    assigned_by = sa.Column(sa.String(64), nullable=False)
    assigned_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    # Set by `sip-coach nlu review` once written into the reviewed data file.
    exported_at = sa.Column(UTCDateTime, nullable=True)

    __table_args__ = ({"sqlite_autoincrement": True},)
