"""The facade the Rasa actions call (synchronous: run it in a worker thread).

::

    from bot.leads.service import LeadService, LeadSubmission
    svc = LeadService.from_env()          # LEADS_DB_URL, TRACKER_DB_URL, SMTP_*, ...
    lead_id = svc.submit(LeadSubmission(sender_id=..., name=..., company=..., email=...,
                                        phone=..., callback_time=..., need=...,
                                        consent=True, consent_version=CONSENT_VERSION,
                                        diagnostic=result.to_dict()))

Rules enforced here:

* **No consent, nothing stored**: ``submit`` raises :class:`ConsentRequired` before touching
  the database when ``consent`` is not ``True``.
* Invalid details raise :class:`InvalidSubmission` (``field``, ``message`` in French); an
  unknown ``consent_version`` raises :class:`~bot.leads.consent.UnknownConsentVersion`.
* A lead per conversation. A second submission from the same conversation (sender id)
  **updates** its lead (the visitor corrected a detail). A submission from another
  conversation **never changes, links or merges** an existing lead, even with the same
  e-mail: an address typed in a chat is unverified, and whoever typed it may not own it. It
  is stored as its own lead, pointing at the earlier one with the same e-mail or phone
  (``duplicate_of``, « doublon possible de #N »); a consultant merges by hand
  (:meth:`LeadService.merge`, ``sip-coach leads merge``), recorded in the audit trail.
* The lead, its consent proof (time, wording version, notice hash), its diagnostic snapshot
  and its outbox notices are written in **one transaction**.
* Notices: a new lead is announced on every configured channel (``lead.created``). An
  update from the same conversation announces nothing.
* With ``deliver_on_submit`` (``LEADS_DELIVER_ON_SUBMIT``, default true in ``from_env``),
  ``submit`` then tries to deliver the new notices at once in a background thread; whatever
  fails stays in the outbox for ``sip-coach outbox worker`` / ``outbox retry``.
* Logs carry lead ids, never names, e-mails or phone numbers.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.callback import normalise_moment
from bot.text import strip_controls
from bot.leads.consent import CONSENT_VERSION, ConsentNotice, get_notice
from bot.leads.db import make_engine, session_factory, session_scope, upgrade_database, leads_db_url
from bot.leads.models import LEAD_STATUSES, ConsentProof, Lead, LeadSender, utcnow
from bot.leads.notifier import Notifier, NotifierConfig, env_bool
from bot.leads.outbox import Claim, DeliveryReport, Outbox, OutboxPolicy, enqueue
from bot.leads.qualification import qualify
from bot.leads.report import lead_record, lead_report, webhook_payload
from bot.leads.repository import LeadRepository

from bot.leads.transcript import (
    delete_conversations, idle_conversations, read_transcript, redact_since, tracker_db_url,
    unconsented_form_starts,
)
from bot.leads.validation import validate_email, validate_phone

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_NEED = 2000


class ConsentRequired(ValueError):
    """Raised by ``submit`` when consent is not given: nothing has been stored."""


class InvalidSubmission(ValueError):
    """A field of the submission is invalid; ``message`` is in French, for the visitor."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class LeadNotFound(LookupError):
    pass


class TooManySubmissions(ValueError):
    """Too many submissions from one conversation, or new leads with one e-mail or phone, in a
    short time (a script flooding the consultant's inbox, or someone reusing another person's
    address): nothing is stored; the visitor is told how to reach the firm directly."""


@dataclass(frozen=True)
class SubmissionLimits:
    """`LEADS_MAX_PER_CONVERSATION` submissions an hour from one conversation (5), and
    `LEADS_MAX_PER_ADDRESS` new leads a day with the same e-mail or phone (3); 0 turns a
    limit off."""

    per_conversation_per_hour: int = 5
    per_address_per_day: int = 3

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "SubmissionLimits":
        env = os.environ if env is None else env

        def number(name: str, default: int) -> int:
            raw = (env.get(name) or "").strip()
            try:
                return max(0, int(raw)) if raw else default
            except ValueError:
                log.warning("%s=%r is not a whole number: %d used", name, raw, default)
                return default

        return cls(number("LEADS_MAX_PER_CONVERSATION", cls.per_conversation_per_hour),
                   number("LEADS_MAX_PER_ADDRESS", cls.per_address_per_day))


@dataclass(frozen=True)
class LeadSubmission:
    sender_id: str
    name: str
    company: str
    email: Optional[str]
    phone: Optional[str]
    callback_time: Optional[str] = None
    need: Optional[str] = None
    consent: bool = False
    consent_version: str = CONSENT_VERSION
    diagnostic: Optional[Dict[str, Any]] = None

    def __repr__(self) -> str:  # never show personal data in logs or tracebacks
        return f"LeadSubmission(sender_id={self.sender_id!r}, consent={self.consent!r})"


@dataclass
class ErasureReport:
    lead_ids: List[int] = field(default_factory=list)
    sender_ids: List[str] = field(default_factory=list)
    tracker_events: int = 0
    mail_files: int = 0
    calendar_events: int = 0


def _clean_text(value: Optional[str], limit: int) -> Optional[str]:
    if value is None:
        return None
    value = " ".join(strip_controls(value).split())
    return value[:limit] if value else None


class LeadService:
    def __init__(
        self,
        engine: Engine,
        notifier: Optional[Notifier] = None,
        tracker_url: Optional[str] = None,
        policy: Optional[OutboxPolicy] = None,
        deliver_on_submit: bool = False,
        limits: Optional[SubmissionLimits] = None,
    ) -> None:
        self.engine = engine
        self.limits = limits or SubmissionLimits()
        self.factory = session_factory(engine)
        self.notifier = notifier or Notifier(NotifierConfig())
        self.tracker_url = tracker_url or tracker_db_url()
        self.outbox = Outbox(self.factory, policy)
        self.deliver_on_submit = deliver_on_submit
        self._threads: List[threading.Thread] = []
        # The booking rules (bot/booking/settings.yml) the booking e-mails are rendered with;
        # set by the BookingService that shares this service, else the default file's.
        self.booking_settings = None

    @classmethod
    def from_env(
        cls,
        env: Optional[Mapping[str, str]] = None,
        *,
        upgrade: bool = False,
        deliver_on_submit: Optional[bool] = None,
    ) -> "LeadService":
        """Build the service from the environment. ``upgrade=True`` applies the migrations
        first (by default the schema is left to ``sip-coach db upgrade`` / ``make run``)."""
        env = os.environ if env is None else env
        url = leads_db_url(env)
        if upgrade:
            upgrade_database(url)
        if deliver_on_submit is None:
            deliver_on_submit = env_bool(env, "LEADS_DELIVER_ON_SUBMIT", True)
        return cls(
            make_engine(url),
            notifier=Notifier(NotifierConfig.from_env(env)),
            tracker_url=tracker_db_url(env),
            policy=OutboxPolicy.from_env(env),
            deliver_on_submit=deliver_on_submit,
            limits=SubmissionLimits.from_env(env),
        )

    def close(self, wait: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(wait)
        self.engine.dispose()

    # ================================================================ the bot side
    @staticmethod
    def consent_notice(version: Optional[str] = None) -> ConsentNotice:
        return get_notice(version)

    def submit(self, submission: LeadSubmission, submitted_at: Optional[dt.datetime] = None) -> int:
        """Store (or update) the lead of a consenting visitor; return its id.

        ``submitted_at`` is when the visitor gave consent, if earlier than now: a submission
        replayed from the spool keeps the moment it was made (the consent proof's date)."""
        if submission.consent is not True:
            raise ConsentRequired("pas de consentement : aucune donnée n’est enregistrée")
        notice = get_notice(submission.consent_version)
        clean = self._validate(submission)
        for attempt in range(3):
            try:
                with session_scope(self.factory) as session:
                    lead_id, outcome = self._upsert(session, submission, clean, notice, submitted_at)
                break
            except IntegrityError:
                # Another submission of the same conversation created its link at the same
                # moment: run again, it will now find and update that lead.
                if attempt == 2:
                    raise
                log.info("concurrent submission for the same lead, retrying")
        log.info("lead %d %s (conversation linked)", lead_id, outcome)
        if self.deliver_on_submit:
            self._deliver_in_background(lead_id)
        return lead_id

    def find_lead_id(self, sender_id: str) -> Optional[int]:
        """The lead this conversation is linked to, if any."""
        with session_scope(self.factory) as session:
            lead = LeadRepository(session).by_sender(sender_id)
            return lead.id if lead else None

    def _validate(self, sub: LeadSubmission) -> Dict[str, Any]:
        if not (sub.sender_id or "").strip():
            raise InvalidSubmission("sender_id", "identifiant de conversation manquant")
        name = _clean_text(sub.name, MAX_NAME)
        if not name:
            raise InvalidSubmission("name", "Il me faut votre nom pour que le consultant vous rappelle.")
        email = phone = None
        if sub.email not in (None, ""):
            result = validate_email(sub.email)
            if not result.ok:
                raise InvalidSubmission("email", result.error)
            email = result.value
        if sub.phone not in (None, ""):
            result = validate_phone(sub.phone)
            if not result.ok:
                raise InvalidSubmission("phone", result.error)
            phone = result.value
        if email is None and phone is None:
            raise InvalidSubmission(
                "email", "Il me faut au moins un moyen de vous joindre : un e-mail ou un téléphone."
            )
        diagnostic = sub.diagnostic
        if diagnostic is not None and not isinstance(diagnostic, dict):
            raise InvalidSubmission("diagnostic", "le diagnostic doit être un dictionnaire")
        return {
            "sender_id": sub.sender_id.strip(),
            "name": name,
            "company": _clean_text(sub.company, MAX_NAME) or "",
            "email": email,
            "phone": phone,
            "callback_time": _clean_text(sub.callback_time, MAX_NAME),
            "need": strip_controls(sub.need, keep_lines=True).strip()[:MAX_NEED] or None,
            "diagnostic": dict(diagnostic) if diagnostic else None,
        }

    def _upsert(self, session, sub: LeadSubmission, c: Dict[str, Any], notice: ConsentNotice,
                submitted_at: Optional[dt.datetime] = None):
        now = utcnow()
        given = submitted_at or now  # when the visitor consented; `now` is when the row is written
        repo = LeadRepository(session)
        sender_id = c["sender_id"]
        lead = repo.by_sender(sender_id)
        self._check_limits(session, sender_id, lead, c, now)
        event: Optional[str] = None
        if lead is not None:
            outcome = "updated"
        else:
            lead = repo.add(
                Lead(
                    created_at=given, updated_at=now, last_contact_at=given, sender_id=sender_id,
                    name=c["name"], company=c["company"], status="new",
                    qualification="cold", score=0,
                )
            )
            repo.link_sender(lead, sender_id, now)
            outcome, event = "created", "lead.created"
        lead.name = c["name"]
        if c["company"]:
            lead.company = c["company"]
        if c["email"]:
            lead.email = c["email"]
        if c["phone"]:
            lead.phone = c["phone"]
        if c["callback_time"]:
            lead.callback_time = c["callback_time"]
            lead.callback_window = normalise_moment(c["callback_time"])
        if c["need"]:
            lead.need = c["need"]
        session.flush()
        if lead.duplicate_of is None:
            earlier = repo.earlier_with_contact(lead.email, lead.phone, before=lead.id)
            lead.duplicate_of = earlier.id if earlier else None
        repo.add_consent(lead, sender_id, notice.version, notice.sha256, given)
        if c["diagnostic"]:
            repo.add_diagnostic(lead, sender_id, c["diagnostic"], given)
        latest = lead.latest_diagnostic
        result = qualify(latest.data if latest else None, lead.need, booked=lead.active_booking is not None)
        lead.qualification, lead.score = result.label, result.score
        lead.updated_at = now
        lead.last_contact_at = max(lead.last_contact_at or given, given)
        session.flush()
        channels = self.notifier.channels
        if event and channels:
            enqueue(session, lead.id, channels, event, now)
        elif event and not channels:
            log.warning("lead %d: no notification channel configured", lead.id)
        return lead.id, outcome

    def _check_limits(self, session, sender_id: str, lead: Optional[Lead], c: Dict[str, Any],
                      now: dt.datetime) -> None:
        limits = self.limits
        if limits.per_conversation_per_hour:
            recent = session.execute(
                sa.select(sa.func.count()).select_from(ConsentProof)
                .where(ConsentProof.sender_id == sender_id, ConsentProof.given_at >= now - dt.timedelta(hours=1))
            ).scalar_one()
            if recent >= limits.per_conversation_per_hour:
                raise TooManySubmissions("trop de demandes envoyées depuis cette conversation")
        if limits.per_address_per_day and lead is None:
            same = [Lead.email == c["email"]] if c["email"] else []
            same += [Lead.phone == c["phone"]] if c["phone"] else []
            recent = session.execute(
                sa.select(sa.func.count()).select_from(Lead)
                .where(sa.or_(*same), Lead.created_at >= now - dt.timedelta(days=1))
            ).scalar_one()
            if recent >= limits.per_address_per_day:
                raise TooManySubmissions("trop de nouveaux leads avec cette adresse ou ce numéro aujourd’hui")

    # ================================================================ delivery
    def _send(self, claim: Claim) -> None:
        """Render the notice from the lead as it is now, then send it on its channel."""
        with session_scope(self.factory) as session:
            lead = LeadRepository(session).get(claim.lead_id)  # eagerly loaded, usable after
        if lead is None:  # erased meanwhile: its outbox rows went with it
            raise LeadNotFound(f"lead {claim.lead_id} introuvable")
        from bot.booking.notices import build_notice, is_booking_event

        if is_booking_event(claim.event) and claim.channel == "email":  # a webhook gets the lead record
            built = build_notice(lead, claim.event, claim.delivery_key, self.notifier.config.smtp_from,
                                 self.notifier.config.consultant_emails, self.booking_settings)
            if built is not None:
                self.notifier.deliver(*built, lead.id, claim.delivery_key)
            return
        transcript = (
            read_transcript(lead.sender_ids, self.tracker_url) if claim.channel == "email" else ()
        )
        report = lead_report(lead, transcript, claim.event)
        if claim.channel == "email":
            self.notifier.send_email(report, claim.delivery_key)
        elif claim.channel == "webhook":
            self.notifier.post_webhook(webhook_payload(report, claim.delivery_key), claim.delivery_key)
        else:  # pragma: no cover - excluded by a CHECK constraint
            raise ValueError(f"canal inconnu : {claim.channel}")

    def deliver_pending(
        self, now: Optional[dt.datetime] = None, lead_id: Optional[int] = None
    ) -> DeliveryReport:
        """Deliver every due notice (claimed first: safe to run from several processes)."""
        return self.outbox.deliver_pending(self._send, now=now, lead_id=lead_id)

    def _deliver_in_background(self, lead_id: int) -> None:
        def run() -> None:
            try:
                self.deliver_pending(lead_id=lead_id)
            except Exception:  # noqa: BLE001 - the outbox keeps it for the worker
                log.exception("lead %d: immediate delivery failed, left in the outbox", lead_id)

        thread = threading.Thread(target=run, name=f"lead-{lead_id}-notify", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    # ================================================================ the consultant side
    def list_leads(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        with session_scope(self.factory) as session:
            return [lead_record(lead) for lead in LeadRepository(session).list(status)]

    def export(self) -> List[Dict[str, Any]]:
        with session_scope(self.factory) as session:
            leads = LeadRepository(session).list()
            return [lead_record(lead) for lead in sorted(leads, key=lambda l: l.id)]

    def report(self, lead_id: int) -> Dict[str, Any]:
        """Everything about one lead: record, qualification, diagnostic, notes, transcript."""
        with session_scope(self.factory) as session:
            lead = LeadRepository(session).get(lead_id)
        if lead is None:
            raise LeadNotFound(lead_id)
        return lead_report(lead, read_transcript(lead.sender_ids, self.tracker_url), "lead.show")

    def mark(self, lead_id: int, status: str, note: Optional[str] = None) -> Dict[str, Any]:
        if status not in LEAD_STATUSES:
            raise ValueError(f"statut inconnu : {status}")
        with session_scope(self.factory) as session:
            repo = LeadRepository(session)
            lead = repo.get(lead_id)
            if lead is None:
                raise LeadNotFound(lead_id)
            repo.set_status(lead, status, note)
            session.flush()
            record = lead_record(lead)
        log.info("lead %d marked %s", lead_id, status)
        return record

    def edit(self, lead_id: int, **changes: Optional[str]) -> Dict[str, Any]:
        """Rectify a lead (right of rectification): name, company, email, phone,
        callback_time, need. Raises InvalidSubmission (French message) on a bad value,
        LeadNotFound when the lead does not exist."""
        allowed = {"name", "company", "email", "phone", "callback_time", "need"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"champs inconnus : {', '.join(sorted(unknown))}")
        changes = {k: v for k, v in changes.items() if v is not None}
        clean: Dict[str, Optional[str]] = {}
        for key, value in changes.items():
            if key == "email":
                if value == "":
                    clean[key] = None
                    continue
                result = validate_email(value)
                if not result.ok:
                    raise InvalidSubmission("email", result.error)
                clean[key] = result.value
            elif key == "phone":
                if value == "":
                    clean[key] = None
                    continue
                result = validate_phone(value)
                if not result.ok:
                    raise InvalidSubmission("phone", result.error)
                clean[key] = result.value
            elif key == "name":
                name = _clean_text(value, MAX_NAME)
                if not name:
                    raise InvalidSubmission("name", "le nom ne peut pas être vide")
                clean[key] = name
            elif key == "need":
                clean[key] = strip_controls(value, keep_lines=True).strip()[:MAX_NEED] or None
            else:
                clean[key] = _clean_text(value, MAX_NAME) or ("" if key == "company" else None)
        with session_scope(self.factory) as session:
            repo = LeadRepository(session)
            lead = repo.get(lead_id)
            if lead is None:
                raise LeadNotFound(lead_id)
            for key, value in clean.items():
                setattr(lead, key, value)
            if "callback_time" in clean:
                lead.callback_window = normalise_moment(clean["callback_time"] or "")
            if lead.email is None and lead.phone is None:
                raise InvalidSubmission(
                    "email", "il faut garder au moins un moyen de contact (e-mail ou téléphone)"
                )
            latest = lead.latest_diagnostic
            result = qualify(latest.data if latest else None, lead.need, booked=lead.active_booking is not None)
            lead.qualification, lead.score = result.label, result.score
            lead.updated_at = utcnow()
            session.flush()
            record = lead_record(lead)
        log.info("lead %d rectified (%s)", lead_id, ", ".join(sorted(clean)))
        return record

    def merge(self, source_id: int, target_id: int, actor: str) -> Dict[str, Any]:
        """The consultant merges two leads of one person: ``source`` goes into ``target``
        (conversations, consent proofs, diagnostics, notes, notices; details ``target``
        lacks), ``source`` is deleted, and the audit trail of ``target`` says who did it."""
        if source_id == target_id:
            raise ValueError("un lead ne peut pas être fusionné avec lui-même")
        with session_scope(self.factory) as session:
            repo = LeadRepository(session)
            source, target = repo.get(source_id), repo.get(target_id)
            if source is None:
                raise LeadNotFound(source_id)
            if target is None:
                raise LeadNotFound(target_id)
            repo.merge(target=target, source=source)
            repo.record(target, actor, "merge", f"lead n°{source_id} fusionné dans ce lead")
            session.flush()
            target = repo.get(target_id)
            latest = target.latest_diagnostic
            result = qualify(latest.data if latest else None, target.need, booked=target.active_booking is not None)
            target.qualification, target.score = result.label, result.score
            target.updated_at = utcnow()
            session.flush()
            record = lead_record(target)
        log.info("lead %d merged into lead %d by %s", source_id, target_id, actor)
        return record

    def _erase(self, select) -> ErasureReport:  # noqa: ANN001
        report = ErasureReport()
        with session_scope(self.factory) as session:
            leads = select(LeadRepository(session))
            report.lead_ids = [lead.id for lead in leads]
            events = []
            for lead in leads:
                report.sender_ids.extend(lead.sender_ids)
                events.extend((b.consultant_id, b.uid) for b in lead.bookings if b.status == "booked")
        if not report.lead_ids:
            return report
        if events:
            # The meetings in the consultants' calendars carry the visitor's name and details:
            # removed first (CalendarUnavailable stops the erasure, which can be run again).
            from bot.booking.service import remove_calendar_events

            report.calendar_events = remove_calendar_events(events, self.booking_settings)
        # The conversations first: if this fails, the lead (and its list of conversations)
        # is still there and the command can simply be run again.
        report.tracker_events = delete_conversations(report.sender_ids, self.tracker_url)
        with session_scope(self.factory) as session:
            repo = LeadRepository(session)
            # Selected again: a lead that no longer matches (the visitor came back meanwhile,
            # during a retention purge) is kept.
            still = {lead.id for lead in select(repo)}
            report.lead_ids = [i for i in report.lead_ids if i in still]
            repo.delete([lead for lead in (repo.get(i) for i in report.lead_ids) if lead])
        for lead_id in report.lead_ids:
            for path in self.notifier.eml_files(lead_id):
                path.unlink(missing_ok=True)
                report.mail_files += 1
        log.info(
            "erased lead(s) %s with %d conversation(s)",
            ", ".join(map(str, report.lead_ids)), len(report.sender_ids),
        )
        return report

    def erase_email(self, email: str) -> ErasureReport:
        """Erase every lead with this e-mail (the address is unverified: several conversations
        may have given it), all their conversations and their demo e-mail files."""
        key = email.strip().lower()

        return self._erase(lambda repo: repo.with_email(key))

    def erase_lead(self, lead_id: int) -> ErasureReport:
        """Erase one lead (the back office's « Effacer »), all its conversations and e-mail files."""

        def select(repo: LeadRepository) -> List[Lead]:
            lead = repo.get(lead_id)
            return [lead] if lead else []

        return self._erase(select)

    def erase_sender(self, sender_id: str) -> ErasureReport:
        """Erase the lead linked to a conversation (if any) and the conversation itself."""

        def select(repo: LeadRepository) -> List[Lead]:
            lead = repo.by_sender(sender_id)
            return [lead] if lead else []

        report = self._erase(select)
        if not report.lead_ids:
            report.sender_ids = [sender_id]
            report.tracker_events = delete_conversations([sender_id], self.tracker_url)
        return report

    def purge(self, cutoff: dt.datetime, dry_run: bool = False) -> ErasureReport:
        """Erase the leads not contacted since ``cutoff`` (retention: 3 years)."""
        if dry_run:
            with session_scope(self.factory) as session:
                leads = LeadRepository(session).not_contacted_since(cutoff)
                return ErasureReport(
                    lead_ids=[l.id for l in leads],
                    sender_ids=[s for l in leads for s in l.sender_ids],
                )
        return self._erase(lambda repo: repo.not_contacted_since(cutoff))

    def _without_a_lead(self, sender_ids: List[str]) -> List[str]:
        """Those conversations that no lead links to (a lead's conversations follow the lead's
        own retention)."""
        with session_scope(self.factory) as session:
            linked = set()
            for start in range(0, len(sender_ids), 500):
                linked.update(session.execute(
                    sa.select(LeadSender.sender_id)
                    .where(LeadSender.sender_id.in_(sender_ids[start:start + 500]))
                ).scalars())
        return [s for s in sender_ids if s not in linked]

    def purge_conversations(self, cutoff: dt.datetime, dry_run: bool = False) -> ErasureReport:
        """Erase the conversations that led to no lead and were idle since ``cutoff``
        (CONVERSATIONS_RETENTION, 30 days by default)."""
        idle = idle_conversations(cutoff.timestamp(), self.tracker_url)
        report = ErasureReport(sender_ids=self._without_a_lead(idle))
        if report.sender_ids and not dry_run:
            report.tracker_events = delete_conversations(report.sender_ids, self.tracker_url)
            log.info("retention: erased %d conversation(s) without a lead", len(report.sender_ids))
        return report

    def forget_abandoned_forms(self, cutoff: dt.datetime) -> int:
        """Redact the contact forms left unconsented in conversations idle since ``cutoff``
        (CONTACT_FORM_TTL_MINUTES): a visitor who never comes back leaves no details behind.
        Returns the number of conversations redacted."""
        idle = self._without_a_lead(idle_conversations(cutoff.timestamp(), self.tracker_url))
        starts = unconsented_form_starts(idle, self.tracker_url)
        for sender_id, started in starts.items():
            redact_since(sender_id, started, self.tracker_url)
        if starts:
            log.info("redacted %d abandoned contact form(s)", len(starts))
        return len(starts)
