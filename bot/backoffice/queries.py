"""What the inbox and a lead's page show, and what a consultant does to a lead.

The inbox reuses the export record (:func:`bot.leads.report.lead_record`) and the CSV of
``sip-coach leads export`` (cells neutralised against spreadsheet formulas), so the web, the
CLI and the e-mail never disagree. Every change is written in the lead's audit trail with the
account's name.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import sqlalchemy as sa

from bot.leads.db import session_scope
from bot.leads.models import LEAD_STATUSES, QUALIFICATIONS, Booking, Lead, LeadNote, utcnow
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
    return query


def folded(text: str) -> str:
    """Lower case without accents: « élodie » finds « Élodie » (SQLite's lower() is ASCII only)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(lead: Lead, search: str) -> bool:
    """The search in Python, the same on SQLite and PostgreSQL: words in the name, company or
    e-mail, or four digits or more of the phone (« 06 98 76 » finds +33698765432)."""
    if not search:
        return True
    haystack = folded(" ".join(v for v in (lead.name, lead.company, lead.email) if v))
    if folded(search) in haystack:
        return True
    digits = "".join(c for c in search if c.isdigit()).lstrip("0")
    return len(digits) >= 4 and bool(lead.phone) and digits in lead.phone


def _matching(session, filters: InboxFilters) -> List[Lead]:  # noqa: ANN001
    # A small firm's leads: filtered in SQL, searched in Python (accents, phone digits).
    return [lead for lead in session.execute(_filtered(filters)).scalars() if matches(lead, filters.search)]


def inbox(service: LeadService, filters: InboxFilters) -> Inbox:
    from bot.leads.validation import format_phone

    with session_scope(service.factory) as session:
        leads = _matching(session, filters)
        result = Inbox(truncated=len(leads) > INBOX_LIMIT, total=len(leads))
        for lead in leads[:INBOX_LIMIT]:
            record = lead_record(lead)
            result.rows.append(InboxRow(
                record=record,
                created_text=paris_text(lead.created_at),
                booked=lead.active_booking is not None,
                meeting=record.get("meeting"),
                phone_display=format_phone(lead.phone) or "",
            ))
    return result


def export_records(service: LeadService, filters: InboxFilters) -> List[Dict[str, Any]]:
    with session_scope(service.factory) as session:
        return [lead_record(lead) for lead in sorted(_matching(session, filters), key=lambda l: l.id)]


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
        # A note is not a contact: unlike a status change, it does not restart the retention
        # period of the visitor's data (bot/leads/retention.py).
        lead.notes.append(LeadNote(created_at=utcnow(), status=None, text=note))
        lead.updated_at = utcnow()
        repo.record(lead, actor, "note", "note ajoutée")


