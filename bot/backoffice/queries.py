"""What the inbox and a lead's page show, and what a consultant does to a lead.

The inbox reuses the export record (:func:`bot.leads.report.lead_record`) and the CSV of
``sip-coach leads export`` (cells neutralised against spreadsheet formulas), so the web, the
CLI and the e-mail never disagree. Every change is written in the lead's audit trail with the
account's name.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import sqlalchemy as sa

from bot.leads.db import session_scope
from bot.leads.models import LEAD_STATUSES, QUALIFICATIONS, Booking, Lead, utcnow
from bot.leads.repository import _FULL, LeadRepository
from bot.leads.report import lead_record, local_text
from bot.leads.service import LeadNotFound, LeadService

PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
INBOX_LIMIT = 500
NOTE_LIMIT = 4000


def paris_text(value: Optional[dt.datetime]) -> str:
    """« 04/12/2026 10:15 » in Paris time (the pages say « heures de Paris » once)."""
    return local_text(value, with_zone=False)


@dataclass(frozen=True)
class InboxFilters:
    qualification: str = ""
    status: str = ""
    period: str = ""
    booked: str = ""
    search: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "InboxFilters":
        """Unknown values are ignored (a hand-edited URL shows everything, never an error)."""
        def pick(name: str, allowed) -> str:  # noqa: ANN001
            value = (params.get(name) or "").strip()
            return value if value in allowed else ""

        return cls(
            qualification=pick("qualification", QUALIFICATIONS),
            status=pick("status", LEAD_STATUSES),
            period=pick("period", PERIODS),
            booked=pick("booked", ("yes", "no")),
            search=" ".join((params.get("q") or "").split())[:100],
        )

    def as_query(self) -> Dict[str, str]:
        values = {"qualification": self.qualification, "status": self.status, "period": self.period,
                  "booked": self.booked, "q": self.search}
        return {k: v for k, v in values.items() if v}


@dataclass
class InboxRow:
    record: Dict[str, Any]
    created_text: str
    booked: bool
    meeting: Optional[str]
    phone_display: str


@dataclass
class Inbox:
    rows: List[InboxRow] = field(default_factory=list)
    total: int = 0
    truncated: bool = False


def _filtered(filters: InboxFilters, now: Optional[dt.datetime] = None):
    query = sa.select(Lead).options(*_FULL).order_by(Lead.created_at.desc(), Lead.id.desc())
    if filters.qualification:
        query = query.where(Lead.qualification == filters.qualification)
    if filters.status:
        query = query.where(Lead.status == filters.status)
    if filters.period:
        since = (now or utcnow()) - dt.timedelta(days=PERIODS[filters.period])
        query = query.where(Lead.created_at >= since)
    booked = sa.exists().where(Booking.lead_id == Lead.id, Booking.status == "booked")
    if filters.booked == "yes":
        query = query.where(booked)
    elif filters.booked == "no":
        query = query.where(~booked)
    if filters.search:
        digits = "".join(c for c in filters.search if c.isdigit())
        like = f"%{_escape_like(filters.search.lower())}%"
        conditions = [
            sa.func.lower(Lead.name).like(like, escape="\\"),
            sa.func.lower(Lead.company).like(like, escape="\\"),
            sa.func.lower(Lead.email).like(like, escape="\\"),
        ]
        if len(digits) >= 4:  # « 06 98 76 » finds +33698765432
            conditions.append(Lead.phone.like(f"%{digits.lstrip('0')}%"))
        query = query.where(sa.or_(*conditions))
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def inbox(service: LeadService, filters: InboxFilters) -> Inbox:
    from bot.leads.validation import format_phone

    with session_scope(service.factory) as session:
        leads = list(session.execute(_filtered(filters).limit(INBOX_LIMIT + 1)).scalars())
        result = Inbox(truncated=len(leads) > INBOX_LIMIT)
        for lead in leads[:INBOX_LIMIT]:
            record = lead_record(lead)
            result.rows.append(InboxRow(
                record=record,
                created_text=paris_text(lead.created_at),
                booked=lead.active_booking is not None,
                meeting=record.get("meeting"),
                phone_display=format_phone(lead.phone) or "",
            ))
        result.total = len(result.rows)
    return result


def export_records(service: LeadService, filters: InboxFilters) -> List[Dict[str, Any]]:
    with session_scope(service.factory) as session:
        leads = session.execute(_filtered(filters)).scalars().all()
        return [lead_record(lead) for lead in sorted(leads, key=lambda l: l.id)]


# ---------------------------------------------------------------------- a lead's actions
def _lead(repo: LeadRepository, lead_id: int) -> Lead:
    lead = repo.get(lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


def set_status(service: LeadService, lead_id: int, status: str, note: str, actor: str) -> None:
    if status not in LEAD_STATUSES:
        raise ValueError("statut inconnu")
    note = (note or "").strip()[:NOTE_LIMIT]
    with session_scope(service.factory) as session:
        repo = LeadRepository(session)
        lead = _lead(repo, lead_id)
        previous = lead.status
        repo.set_status(lead, status, note or None)
        repo.record(lead, actor, "status", f"{previous} → {status}" + (" (avec une note)" if note else ""))


def add_note(service: LeadService, lead_id: int, note: str, actor: str) -> None:
    note = (note or "").strip()[:NOTE_LIMIT]
    if not note:
        raise ValueError("note vide")
    with session_scope(service.factory) as session:
        repo = LeadRepository(session)
        lead = _lead(repo, lead_id)
        repo.set_status(lead, lead.status, note)
        repo.record(lead, actor, "note", "note ajoutée")


