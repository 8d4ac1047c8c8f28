"""Queries and changes on leads, inside a caller-provided :class:`Session`.

The repository never commits: the caller owns the unit of work
(:func:`bot.leads.db.session_scope`), so a lead, its consent proof, its diagnostic
snapshot and its outbox rows are written in one transaction.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from bot.leads.models import (
    ConsentProof,
    LeadAudit,
    DiagnosticSnapshot,
    Lead,
    LeadNote,
    LeadSender,
    OutboxMessage,
    Booking,
    utcnow,
)

_FULL = (
    selectinload(Lead.senders),
    selectinload(Lead.audit),
    selectinload(Lead.consents),
    selectinload(Lead.diagnostics),
    selectinload(Lead.notes),
    selectinload(Lead.bookings),
)


class LeadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ----------------------------------------------------------------- reading
    def get(self, lead_id: int) -> Optional[Lead]:
        return self.session.execute(
            sa.select(Lead).where(Lead.id == lead_id).options(*_FULL)
        ).scalar_one_or_none()

    def by_sender(self, sender_id: str) -> Optional[Lead]:
        return self.session.execute(
            sa.select(Lead)
            .join(LeadSender, LeadSender.lead_id == Lead.id)
            .where(LeadSender.sender_id == sender_id)
            .options(*_FULL)
        ).scalar_one_or_none()

    def with_email(self, email: str) -> List[Lead]:
        """Every lead that gave this address (it is unverified: there may be several)."""
        return list(self.session.execute(
            sa.select(Lead).where(Lead.email == email.lower()).options(*_FULL).order_by(Lead.id)
        ).scalars())

    def earlier_with_contact(
        self, email: Optional[str], phone: Optional[str], before: int
    ) -> Optional[Lead]:
        """The first lead, older than ``before``, with this e-mail or this phone."""
        same = [Lead.email == email] if email else []
        same += [Lead.phone == phone] if phone else []
        if not same:
            return None
        return self.session.execute(
            sa.select(Lead).where(sa.or_(*same), Lead.id < before).order_by(Lead.id).limit(1)
        ).scalar_one_or_none()

    def list(self, status: Optional[str] = None) -> List[Lead]:
        query = sa.select(Lead).options(*_FULL).order_by(Lead.created_at.desc(), Lead.id.desc())
        if status:
            query = query.where(Lead.status == status)
        return list(self.session.execute(query).scalars())

    def not_contacted_since(self, cutoff: dt.datetime) -> List[Lead]:
        """Leads whose last contact is older than ``cutoff`` (retention)."""
        return list(
            self.session.execute(
                sa.select(Lead).where(Lead.last_contact_at < cutoff).options(*_FULL)
                .order_by(Lead.id)
            ).scalars()
        )

    # ----------------------------------------------------------------- writing
    def add(self, lead: Lead) -> Lead:
        self.session.add(lead)
        return lead

    def link_sender(self, lead: Lead, sender_id: str, now: Optional[dt.datetime] = None) -> None:
        if sender_id not in lead.sender_ids:
            lead.senders.append(LeadSender(sender_id=sender_id, linked_at=now or utcnow()))

    def add_consent(
        self, lead: Lead, sender_id: str, version: str, sha256: str, now: dt.datetime
    ) -> ConsentProof:
        proof = ConsentProof(
            sender_id=sender_id, given_at=now, wording_version=version, notice_sha256=sha256
        )
        lead.consents.append(proof)
        return proof

    def add_diagnostic(
        self, lead: Lead, sender_id: str, data: dict, now: dt.datetime
    ) -> DiagnosticSnapshot:
        score = data.get("score")
        snapshot = DiagnosticSnapshot(
            sender_id=sender_id,
            taken_at=now,
            relationship_kind=data.get("relationship"),
            verdict=data.get("verdict"),
            score=int(score) if isinstance(score, (int, float)) else None,
            data=data,
        )
        lead.diagnostics.append(snapshot)
        return snapshot

    def set_status(
        self, lead: Lead, status: str, note: Optional[str], now: Optional[dt.datetime] = None
    ) -> LeadNote:
        now = now or utcnow()
        lead.status = status
        lead.updated_at = now
        lead.last_contact_at = now  # a consultant's contact restarts the retention period
        entry = LeadNote(created_at=now, status=status, text=note or None)
        lead.notes.append(entry)
        return entry

    def merge(self, target: Lead, source: Lead) -> None:
        """Move ``source``'s conversations, proofs, snapshots, notes and notices to ``target``
        (same person, known under two leads), then delete ``source``."""
        # The source's notices still waiting announced it as a new lead: now it is not one.
        self.session.execute(
            sa.delete(OutboxMessage)
            .where(OutboxMessage.lead_id == source.id, OutboxMessage.status != "sent")
            .execution_options(synchronize_session=False)
        )
        for model in (LeadSender, ConsentProof, DiagnosticSnapshot, LeadNote, OutboxMessage, LeadAudit, Booking):
            self.session.execute(
                sa.update(model)
                .where(model.lead_id == source.id)
                .values(lead_id=target.id)
                .execution_options(synchronize_session=False)
            )
        for detail in ("company", "email", "phone", "callback_time", "callback_window", "need"):
            if not getattr(target, detail) and getattr(source, detail):
                setattr(target, detail, getattr(source, detail))
        self.session.execute(
            sa.update(Lead).where(Lead.duplicate_of == source.id)
            .values(duplicate_of=sa.case((Lead.id == target.id, None), else_=target.id))
            .execution_options(synchronize_session=False)
        )
        if target.duplicate_of == source.id:
            target.duplicate_of = None
        if target.created_at > source.created_at:
            target.created_at = source.created_at
        self.session.flush()
        self.session.expunge(source)
        self.session.execute(sa.delete(Lead).where(Lead.id == source.id))
        self.session.flush()
        self.session.expire(target)

    def record(self, lead: Lead, actor: str, action: str, detail: Optional[str] = None) -> LeadAudit:
        """One line of the lead's audit trail (ids and field names, never personal values)."""
        entry = LeadAudit(at=utcnow(), actor=actor[:100], action=action, detail=detail)
        lead.audit.append(entry)
        return entry

    def delete(self, leads: Iterable[Lead]) -> List[int]:
        ids = [lead.id for lead in leads]
        if ids:
            # ON DELETE CASCADE removes senders, proofs, snapshots, notes and outbox rows.
            self.session.execute(
                sa.delete(Lead).where(Lead.id.in_(ids)).execution_options(
                    synchronize_session=False
                )
            )
        return ids

    def pending_notice_exists(self, lead_id: int, channels: Sequence[str]) -> bool:
        return (
            self.session.execute(
                sa.select(sa.func.count(OutboxMessage.id)).where(
                    OutboxMessage.lead_id == lead_id,
                    OutboxMessage.channel.in_(tuple(channels)),
                    OutboxMessage.status.in_(("pending", "sending")),
                )
            ).scalar_one()
            > 0
        )
