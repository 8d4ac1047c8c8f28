"""Transactional outbox: a new lead's notices are rows written with the lead, then delivered.

* :func:`enqueue` adds one row per channel (``email``, ``webhook``) in the caller's
  transaction: the lead and its notices are committed together or not at all.
* :meth:`Outbox.deliver_pending` delivers the rows that are due. Each row is first
  **claimed** by a conditional ``UPDATE`` (``pending`` -> ``sending`` with a random token,
  only if nobody else did): two workers, or a worker and the action server, never send the
  same row. Only the claim holder may then mark it ``sent``.
* A failure (SMTP down, webhook unreachable or answering non-2xx...) puts the row back to
  ``pending`` with an exponential backoff (``OUTBOX_BACKOFF_SECONDS`` x 2^(attempts-1),
  at most ``OUTBOX_BACKOFF_MAX_SECONDS``). After ``OUTBOX_MAX_ATTEMPTS`` attempts it becomes
  ``failed``: kept, shown by ``sip-coach outbox``, and sent again by ``sip-coach outbox retry``.
  An outage delays a notice; it never loses it.
* A row left ``sending`` by a crashed process is reclaimed after ``OUTBOX_LEASE_SECONDS``.
  Only a crash in the instant between "the server accepted the message" and "the row is
  marked sent" can then repeat a notice, and the repeat carries the same ``delivery_key``
  (the e-mail's Message-ID, the webhook's ``Idempotency-Key``) so the receiver can drop it.

The row holds no personal data: the message is rendered from the lead when it is sent
(an erased lead takes its pending notices with it, via ON DELETE CASCADE).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import Callable, List, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot.leads.db import session_scope
from bot.leads.models import OUTBOX_CHANNELS, OutboxMessage, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxPolicy:
    max_attempts: int = 10
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 600.0
    batch_size: int = 50

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "OutboxPolicy":
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"{name} doit être un nombre (reçu : {raw!r})") from None

        return cls(
            max_attempts=int(number("OUTBOX_MAX_ATTEMPTS", cls.max_attempts)),
            backoff_seconds=number("OUTBOX_BACKOFF_SECONDS", cls.backoff_seconds),
            backoff_max_seconds=number("OUTBOX_BACKOFF_MAX_SECONDS", cls.backoff_max_seconds),
            lease_seconds=number("OUTBOX_LEASE_SECONDS", cls.lease_seconds),
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        seconds = self.backoff_seconds * (2 ** max(0, attempts - 1))
        return dt.timedelta(seconds=min(seconds, self.backoff_max_seconds))


@dataclass(frozen=True)
class Claim:
    """A row this process holds the right to send."""

    id: int
    lead_id: int
    channel: str
    event: str
    delivery_key: str
    attempts: int
    token: str


@dataclass
class DeliveryReport:
    sent: List[int] = field(default_factory=list)
    retry_later: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)  # gave up after max attempts

    @property
    def ok(self) -> bool:
        return not self.retry_later and not self.failed

    def __add__(self, other: "DeliveryReport") -> "DeliveryReport":
        return DeliveryReport(
            self.sent + other.sent,
            self.retry_later + other.retry_later,
            self.failed + other.failed,
        )


def enqueue(
    session: Session,
    lead_id: int,
    channels: Sequence[str],
    event: str = "lead.created",
    now: Optional[dt.datetime] = None,
) -> List[OutboxMessage]:
    """Add one notice per channel for ``lead_id`` to the caller's transaction."""
    now = now or utcnow()
    rows = []
    for channel in channels:
        if channel not in OUTBOX_CHANNELS:
            raise ValueError(f"unknown outbox channel {channel!r}")
        row = OutboxMessage(
            lead_id=lead_id,
            channel=channel,
            event=event,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            delivery_key=uuid.uuid4().hex,
        )
        session.add(row)
        rows.append(row)
    return rows


# A sender receives the claim and sends it; any exception means "not delivered".
Sender = Callable[[Claim], None]


class Outbox:
    def __init__(self, factory: sessionmaker, policy: Optional[OutboxPolicy] = None) -> None:
        self.factory = factory
        self.policy = policy or OutboxPolicy()

    # ----------------------------------------------------------------- claims
    def _due_ids(self, now: dt.datetime, lead_id: Optional[int], limit: int) -> List[int]:
        stale = now - dt.timedelta(seconds=self.policy.lease_seconds)
        t = OutboxMessage
        query = (
            sa.select(t.id)
            .where(
                sa.or_(
                    sa.and_(t.status == "pending", t.next_attempt_at <= now),
                    sa.and_(t.status == "sending", t.claimed_at < stale),
                )
            )
            .order_by(t.id)
            .limit(limit)
        )
        if lead_id is not None:
            query = query.where(t.lead_id == lead_id)
        with session_scope(self.factory) as session:
            return list(session.execute(query).scalars())

    def claim(self, row_id: int, now: Optional[dt.datetime] = None) -> Optional[Claim]:
        """Atomically take ``row_id`` if it is still due; None if another process has it."""
        now = now or utcnow()
        stale = now - dt.timedelta(seconds=self.policy.lease_seconds)
        token = uuid.uuid4().hex
        t = OutboxMessage
        with session_scope(self.factory) as session:
            result = session.execute(
                sa.update(t)
                .where(t.id == row_id)
                .where(
                    sa.or_(
                        sa.and_(t.status == "pending", t.next_attempt_at <= now),
                        sa.and_(t.status == "sending", t.claimed_at < stale),
                    )
                )
                .values(
                    status="sending",
                    claim_token=token,
                    claimed_at=now,
                    attempts=t.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            row = session.execute(
                sa.select(t.id, t.lead_id, t.channel, t.event, t.delivery_key, t.attempts)
                .where(t.id == row_id)
            ).one()
        return Claim(row.id, row.lead_id, row.channel, row.event, row.delivery_key, row.attempts, token)

    def _finish(self, claim: Claim, values: dict) -> bool:
        t = OutboxMessage
        with session_scope(self.factory) as session:
            result = session.execute(
                sa.update(t)
                .where(t.id == claim.id, t.claim_token == claim.token, t.status == "sending")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def mark_sent(self, claim: Claim, now: Optional[dt.datetime] = None) -> bool:
        return self._finish(
            claim,
            dict(status="sent", sent_at=now or utcnow(), last_error=None, claim_token=None),
        )

    def mark_failed(self, claim: Claim, error: str, now: Optional[dt.datetime] = None) -> str:
        """Back to ``pending`` with a backoff, or ``failed`` after the last attempt."""
        now = now or utcnow()
        give_up = claim.attempts >= self.policy.max_attempts
        status = "failed" if give_up else "pending"
        self._finish(
            claim,
            dict(
                status=status,
                next_attempt_at=now + self.policy.backoff(claim.attempts),
                last_error=error[:1000],
                claim_token=None,
            ),
        )
        return status

    # ----------------------------------------------------------------- delivery
    def deliver_pending(
        self,
        sender: Sender,
        now: Optional[dt.datetime] = None,
        lead_id: Optional[int] = None,
        limit: Optional[int] = None,
    ) -> DeliveryReport:
        """Claim and send every due notice (of ``lead_id`` only, if given)."""
        now = now or utcnow()
        report = DeliveryReport()
        for row_id in self._due_ids(now, lead_id, limit or self.policy.batch_size):
            claim = self.claim(row_id, now)
            if claim is None:
                continue  # another worker took it
            try:
                sender(claim)
            except Exception as exc:  # noqa: BLE001 - any failure means "retry later"
                error = f"{type(exc).__name__}: {exc}"
                status = self.mark_failed(claim, error, now)
                if status == "failed":
                    report.failed.append(claim.id)
                    log.error(
                        "outbox %d (lead %d, %s): giving up after %d attempts: %s",
                        claim.id, claim.lead_id, claim.channel, claim.attempts, error,
                    )
                else:
                    report.retry_later.append(claim.id)
                    log.warning(
                        "outbox %d (lead %d, %s): attempt %d failed, will retry: %s",
                        claim.id, claim.lead_id, claim.channel, claim.attempts, error,
                    )
                continue
            if not self.mark_sent(claim):  # pragma: no cover - lease expired under us
                log.warning("outbox %d: sent, but the claim had been taken over", claim.id)
            report.sent.append(claim.id)
            log.info("outbox %d (lead %d, %s) delivered", claim.id, claim.lead_id, claim.channel)
        return report

    # ----------------------------------------------------------------- admin
    def rows(self, include_sent: bool = False) -> List[OutboxMessage]:
        t = OutboxMessage
        query = sa.select(t).order_by(t.id)
        if not include_sent:
            query = query.where(t.status != "sent")
        with session_scope(self.factory) as session:
            return list(session.execute(query).scalars())

    def reschedule(self, ids: Optional[Sequence[int]] = None, now: Optional[dt.datetime] = None) -> int:
        """Make pending and failed rows due now (``sip-coach outbox retry``); failed rows
        get a fresh set of attempts. Returns the number of rows rescheduled."""
        now = now or utcnow()
        t = OutboxMessage
        query = (
            sa.update(t)
            .where(t.status.in_(("pending", "failed")))
            .values(
                status="pending",
                next_attempt_at=now,
                attempts=sa.case((t.status == "failed", 0), else_=t.attempts),
            )
            .execution_options(synchronize_session=False)
        )
        if ids:
            query = query.where(t.id.in_(tuple(ids)))
        with session_scope(self.factory) as session:
            return session.execute(query).rowcount or 0
