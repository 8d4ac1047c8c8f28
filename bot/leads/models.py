"""SQLAlchemy models of the leads database (SQLAlchemy 1.4 in 2.0 style).

Tables (all prefixed so the leads database may share a PostgreSQL database with
Rasa's tracker store, whose table is ``events``):

``leads``              one row per conversation whose visitor consented to be contacted;
                       status new|contacted|won|lost, qualification and score. The e-mail
                       is not unique: an address typed in a chat is unverified, so a lead
                       with a known address points at the earlier one (``duplicate_of``)
                       and a consultant merges them by hand (``sip-coach leads merge``).
``lead_senders``       every Rasa conversation (sender id) linked to a lead, so that erasure
                       clears all of that visitor's conversations.
``lead_consents``      the consent proofs: when, which wording version, SHA-256 of the notice text.
``lead_diagnostics``   snapshots of the diagnostic (``DiagnosticResult.to_dict()``), latest wins.
``lead_notes``         the consultant's notes and status changes.
``lead_audit``         what was done to a lead, by whom and when (merge, status, erase…).
``bookings``           meetings booked in the chat (issue 14): the slot, the consultant, phone
                       or video, booked|cancelled, the iCalendar UID and SEQUENCE. At most one
                       booked meeting per consultant and start (a partial unique index): two
                       visitors racing for one slot end with exactly one booking.
``lead_outbox``        notifications to deliver (transactional outbox). A row holds no copy of
                       personal data: the message is rendered from the lead at delivery time.

Every timestamp is stored as naive UTC and read back as an aware UTC ``datetime``
(:class:`UTCDateTime`), identically on SQLite and PostgreSQL.

Schema changes go through Alembic (``bot/leads/migrations``); a test checks that the
migrations and these models agree.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship

# Explicit constraint names: identical on SQLite and PostgreSQL, stable for Alembic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))

# Statuses of a lead, in the consultant's workflow order.
LEAD_STATUSES = ("new", "contacted", "won", "lost")
QUALIFICATIONS = ("hot", "warm", "cold")
OUTBOX_CHANNELS = ("email", "webhook")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
BOOKING_STATUSES = ("booked", "cancelled")
BOOKING_MODES = ("phone", "video")


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC, returns aware UTC; refuses naive datetimes on the way in."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite raw strings
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Lead(Base):
    __tablename__ = "leads"

    id = sa.Column(sa.Integer, primary_key=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    # Retention runs from here: last submission by the visitor or last contact by a consultant.
    last_contact_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    # The conversation that created the lead (all linked conversations: ``senders``).
    sender_id = sa.Column(sa.String(255), nullable=False)
    name = sa.Column(sa.String(200), nullable=False)
    company = sa.Column(sa.String(200), nullable=False, default="")
    # Lower-cased normalised e-mail, as typed by the visitor: unverified, hence not unique.
    email = sa.Column(sa.String(320), nullable=True, index=True)
    phone = sa.Column(sa.String(32), nullable=True)  # E.164
    callback_time = sa.Column(sa.String(200), nullable=True)  # the visitor's words
    # The same, normalised for the consultant (bot/callback.py): « sauf lundi · 17 h – 19 h ».
    callback_window = sa.Column(sa.String(200), nullable=True)
    need = sa.Column(sa.Text, nullable=True)
    qualification = sa.Column(sa.String(8), nullable=False, default="cold")
    score = sa.Column(sa.Integer, nullable=False, default=0)
    status = sa.Column(sa.String(16), nullable=False, default="new", index=True)
    # An earlier lead with the same e-mail or phone: « doublon possible de #N », never merged
    # automatically (whoever typed the address may not own it).
    duplicate_of = sa.Column(sa.Integer, sa.ForeignKey("leads.id", ondelete="SET NULL"), nullable=True)

    senders: List["LeadSender"] = relationship(
        "LeadSender", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="LeadSender.id",
    )
    consents: List["ConsentProof"] = relationship(
        "ConsentProof", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="ConsentProof.id",
    )
    diagnostics: List["DiagnosticSnapshot"] = relationship(
        "DiagnosticSnapshot", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="DiagnosticSnapshot.id",
    )
    notes: List["LeadNote"] = relationship(
        "LeadNote", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="LeadNote.id",
    )
    outbox: List["OutboxMessage"] = relationship(
        "OutboxMessage", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="OutboxMessage.id",
    )
    audit: List["LeadAudit"] = relationship(
        "LeadAudit", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="LeadAudit.id",
    )
    bookings: List["Booking"] = relationship(
        "Booking", back_populates="lead", cascade="all, delete-orphan",
        passive_deletes=True, order_by="Booking.id",
    )

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'won', 'lost')", name="status"
        ),
        sa.CheckConstraint(
            "qualification IN ('hot', 'warm', 'cold')", name="qualification"
        ),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="score"),
        sa.CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL", name="reachable"
        ),
        # Never reuse the id of an erased lead (ids are quoted in e-mails and webhooks).
        {"sqlite_autoincrement": True},
    )

    @property
    def latest_diagnostic(self) -> Optional["DiagnosticSnapshot"]:
        return self.diagnostics[-1] if self.diagnostics else None

    @property
    def latest_consent(self) -> Optional["ConsentProof"]:
        return self.consents[-1] if self.consents else None

    @property
    def sender_ids(self) -> List[str]:
        return [s.sender_id for s in self.senders]

    @property
    def active_booking(self) -> Optional["Booking"]:
        booked = [b for b in self.bookings if b.status == "booked"]
        return booked[-1] if booked else None


class LeadSender(Base):
    __tablename__ = "lead_senders"

    id = sa.Column(sa.Integer, primary_key=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # A conversation belongs to at most one lead.
    sender_id = sa.Column(sa.String(255), nullable=False, unique=True)
    linked_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    lead = relationship("Lead", back_populates="senders")


class ConsentProof(Base):
    __tablename__ = "lead_consents"

    id = sa.Column(sa.Integer, primary_key=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sender_id = sa.Column(sa.String(255), nullable=False)
    given_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    wording_version = sa.Column(sa.String(64), nullable=False)
    notice_sha256 = sa.Column(sa.String(64), nullable=False)

    lead = relationship("Lead", back_populates="consents")


class DiagnosticSnapshot(Base):
    __tablename__ = "lead_diagnostics"

    id = sa.Column(sa.Integer, primary_key=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sender_id = sa.Column(sa.String(255), nullable=False)
    taken_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    relationship_kind = sa.Column("relationship", sa.String(32), nullable=True)
    verdict = sa.Column(sa.Text, nullable=True)
    score = sa.Column(sa.Integer, nullable=True)
    data = sa.Column(sa.JSON, nullable=False)

    lead = relationship("Lead", back_populates="diagnostics")

    @property
    def missing_criteria(self) -> List[str]:
        return list(self.data.get("missing_criteria") or [])

    @property
    def missing_pillars(self) -> List[str]:
        return list(self.data.get("missing_pillars") or [])

    @property
    def answers(self) -> dict:
        return dict(self.data.get("answers") or {})


class LeadNote(Base):
    __tablename__ = "lead_notes"

    id = sa.Column(sa.Integer, primary_key=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    status = sa.Column(sa.String(16), nullable=True)  # status set with this note, if any
    text = sa.Column(sa.Text, nullable=True)

    lead = relationship("Lead", back_populates="notes")


class LeadAudit(Base):
    """One thing done to a lead. ``detail`` names lead ids and fields, never their values."""

    __tablename__ = "lead_audit"

    id = sa.Column(sa.Integer, primary_key=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    actor = sa.Column(sa.String(100), nullable=False)
    action = sa.Column(sa.String(32), nullable=False)
    detail = sa.Column(sa.Text, nullable=True)

    lead = relationship("Lead", back_populates="audit")

    __table_args__ = ({"sqlite_autoincrement": True},)


class Booking(Base):
    """A meeting booked in the chat. Its calendar event has the same ``uid``; ``sequence``
    goes up at each change (iTIP: a mail client replaces the event it already has)."""

    __tablename__ = "bookings"

    id = sa.Column(sa.Integer, primary_key=True)
    uid = sa.Column(sa.String(128), nullable=False, unique=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The conversation that booked it: only it may cancel or move it.
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    consultant_id = sa.Column(sa.String(64), nullable=False)
    start_at = sa.Column(UTCDateTime, nullable=False)
    end_at = sa.Column(UTCDateTime, nullable=False)
    mode = sa.Column(sa.String(8), nullable=False, default="phone")
    status = sa.Column(sa.String(16), nullable=False, default="booked")
    sequence = sa.Column(sa.Integer, nullable=False, default=0)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    cancelled_at = sa.Column(UTCDateTime, nullable=True)

    lead = relationship("Lead", back_populates="bookings")

    __table_args__ = (
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name="status"),
        sa.CheckConstraint("mode IN ('phone', 'video')", name="mode"),
        sa.CheckConstraint("end_at > start_at", name="times"),
        # One booked meeting per consultant and start, whoever wins the race.
        sa.Index(
            "uq_bookings_consultant_start", "consultant_id", "start_at", unique=True,
            sqlite_where=sa.text("status = 'booked'"), postgresql_where=sa.text("status = 'booked'"),
        ),
        {"sqlite_autoincrement": True},
    )


class OutboxMessage(Base):
    __tablename__ = "lead_outbox"

    id = sa.Column(sa.Integer, primary_key=True)
    lead_id = sa.Column(
        sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel = sa.Column(sa.String(16), nullable=False)  # email | webhook
    event = sa.Column(sa.String(32), nullable=False, default="lead.created")
    status = sa.Column(sa.String(16), nullable=False, default="pending")
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = sa.Column(UTCDateTime, nullable=True)
    claim_token = sa.Column(sa.String(64), nullable=True)
    # Sent with every delivery attempt (Message-ID, Idempotency-Key): a receiver can de-duplicate.
    delivery_key = sa.Column(
        sa.String(64), nullable=False, unique=True, default=lambda: uuid.uuid4().hex
    )
    sent_at = sa.Column(UTCDateTime, nullable=True)
    last_error = sa.Column(sa.Text, nullable=True)

    lead = relationship("Lead", back_populates="outbox")

    __table_args__ = (
        sa.Index("ix_lead_outbox_status_next", "status", "next_attempt_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name="status"
        ),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        {"sqlite_autoincrement": True},
    )


# The back office's tables (accounts, sessions, reviewed phrasings) live in this database and
# its Alembic history: registered here so that ``Base.metadata`` is always the whole schema.
from bot.backoffice import models as _backoffice_models  # noqa: E402,F401
