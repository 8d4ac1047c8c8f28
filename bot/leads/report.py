"""What a consultant sees of a lead: the export record and the full report.

:func:`lead_record` is the flat object of ``sip-coach leads export`` (the fields of
``docs/leads.md``, a superset of the contract in ``design.md``) and the body of the
webhook. :func:`lead_report` adds the qualification reasons, the diagnostic laid out as the
text does (the five points of the definition, the four pillars as the legs of a table,
partner choice and piloting) and the transcript; the e-mail templates and
``sip-coach leads show`` render it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from bot.leads.models import Lead
from bot.leads.qualification import CRITERIA, PILLARS, LABELS_FR, qualify
from bot.leads.transcript import REDACTED, TranscriptLine
from bot.leads.validation import format_phone
from bot.typography import french_spacing

CRITERIA_LABELS = {
    "autonomy": "Des intervenants autonomes",
    "pooled_efforts": "Qui mettent en commun leurs efforts",
    "common_goal": "Vers un objectif commun, relié à un besoin clairement identifié",
    "own_missions": "Chacun avec ses missions propres",
    "shared_stakes": "Chacun avec un intérêt, une responsabilité, une motivation, voire des obligations",
}
PILLAR_LABELS = {
    "shared_desire": "La même envie",
    "common_project": "Un projet commun",
    "balance": "Une relation équilibrée",
    "contract": "Le contrat",
}
PILLAR_SHORT = {
    "shared_desire": "Envie",
    "common_project": "Projet",
    "balance": "Équilibre",
    "contract": "Contrat",
}
BEYOND_LABELS = {
    "partner_choice": "Le choix du partenaire",
    "piloting": "Le pilotage dans la durée",
}
RELATIONSHIP_LABELS = {
    "partnership": "un partenariat",
    "client": "une relation client",
    "supplier": "une relation fournisseur",
    "unclear": "à clarifier",
}
# Fallback labels of bot.diagnostic's verdict codes (the YAML there is the reference).
VERDICT_LABELS = {
    "not_a_partnership": "Pas un partenariat",
    "mandatory_points_missing": "Pas encore un partenariat",
    "wobbly": "Une table bancale",
    "not_sufficient": "Indispensable mais pas suffisant",
    "solid": "Une base solide",
}
ANSWER_LABELS = {"yes": "oui", "partly": "en partie", "no": "non", "unknown": "ne sait pas"}
STATUS_LABELS = {"new": "nouveau", "contacted": "contacté", "won": "gagné", "lost": "perdu"}

EXPORT_FIELDS = (
    "id", "created_at", "updated_at", "last_contact_at", "sender_id", "sender_ids",
    "name", "company", "email", "phone", "callback_time", "callback_window", "need",
    "consent", "consent_at", "consent_version", "consent_notice_sha256",
    "qualification", "score", "relationship", "verdict", "verdict_label", "diagnostic_score",
    "missing_criteria", "missing_pillars", "status", "possible_duplicate_of",
)


def verdict_label(code: Optional[str]) -> Optional[str]:
    """The French label of a diagnostic verdict code (the code itself if unknown)."""
    if not code:
        return None
    try:
        from bot.diagnostic import load_questionnaire

        return load_questionnaire().verdicts[code].label
    except Exception:  # noqa: BLE001 - the snapshot must stay readable whatever happens
        return VERDICT_LABELS.get(code, code)


# The consultants work in France: every time they read is Paris time, and says so. The export
# and the webhook stay ISO 8601 UTC (iso): machines read those.
CONSULTANT_ZONE = ZoneInfo("Europe/Paris")
ZONE_NOTE = "heure de Paris"


def iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds") if value else None


def paris_time(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """The moment on a French wall clock (a naive value is UTC, as the database stores it)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(CONSULTANT_ZONE)


def local_text(value: Optional[dt.datetime], with_zone: bool = True) -> str:
    """A timestamp as a consultant reads it: « 04/12/2026 10:15 (heure de Paris) »; without
    the zone where a heading already says it (a table's column, a list of times)."""
    local = paris_time(value)
    if local is None:
        return ""
    text = local.strftime("%d/%m/%Y %H:%M")
    return f"{text} ({ZONE_NOTE})" if with_zone else text


def lead_record(lead: Lead) -> Dict[str, Any]:
    """The export object of one lead (JSON-ready: ISO 8601 UTC dates, lists, booleans)."""
    diagnostic = lead.latest_diagnostic
    consent = lead.latest_consent
    return {
        "id": lead.id,
        "created_at": iso(lead.created_at),
        "updated_at": iso(lead.updated_at),
        "last_contact_at": iso(lead.last_contact_at),
        "sender_id": lead.sender_id,
        "sender_ids": lead.sender_ids,
        "name": lead.name,
        "company": lead.company,
        "email": lead.email,
        "phone": lead.phone,
        "callback_time": lead.callback_time,
        "callback_window": lead.callback_window,
        "need": lead.need,
        "consent": consent is not None,
        "consent_at": iso(consent.given_at) if consent else None,
        "consent_version": consent.wording_version if consent else None,
        "consent_notice_sha256": consent.notice_sha256 if consent else None,
        "qualification": lead.qualification,
        "score": lead.score,
        "relationship": diagnostic.relationship_kind if diagnostic else None,
        "verdict": diagnostic.verdict if diagnostic else None,
        "verdict_label": verdict_label(diagnostic.verdict) if diagnostic else None,
        "diagnostic_score": diagnostic.score if diagnostic else None,
        "missing_criteria": diagnostic.missing_criteria if diagnostic else [],
        "missing_pillars": diagnostic.missing_pillars if diagnostic else [],
        "status": lead.status,
        # Same e-mail or phone as this earlier lead: to check, never merged automatically.
        "possible_duplicate_of": lead.duplicate_of,
        # The meeting booked in the chat (issue 14), as the consultant reads it, or None.
        "meeting": meeting_text(lead),
    }


def meeting_text(lead: Lead) -> Optional[str]:
    """« mardi 8 décembre, 10 h 00 (heure de Paris), en visio » for the latest booking."""
    if not lead.bookings:
        return None
    from bot.booking.invitation import MODE_LABELS
    from bot.booking.settings import default_settings
    from bot.booking.slots import slot_label

    booking = lead.bookings[-1]
    text = f"{slot_label(default_settings(), booking.start_at)} (heure de Paris), {MODE_LABELS.get(booking.mode, booking.mode)}"
    return text if booking.status == "booked" else f"{text} — annulé"


def _item(key: str, label: str, answers: dict, missing: Optional[Sequence[str]], words: Optional[dict] = None) -> dict:
    answer = answers.get(key) or "unknown"
    if missing is not None:
        present = key not in missing
    else:
        present = answer == "yes"
    return {
        "key": key,
        "label": label,
        "answer": answer,
        "answer_fr": ANSWER_LABELS.get(answer, answer),
        "present": present,
        "mark": "x" if present and answer == "yes" else ("~" if present else " "),
        # What the visitor typed, when it was not a button: « oui — "lui est moins motivé" ».
        "words": (words or {}).get(key),
    }


# How many pieces of advice the verdict quoted (bot.diagnostic.engine.MAX_NEXT_STEPS) when
# snapshots did not yet record them under "advice_shown".
OLD_SNAPSHOT_STEPS = 3
NUMBERS_FR = {2: "deux", 3: "trois"}


def _texts(value: Any) -> List[str]:
    if not value:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def advice_split(data: dict) -> Tuple[List[str], List[str]]:
    """(what the visitor was shown, the rest): the verdict quotes only its first next steps,
    the snapshot keeps every piece of advice the engine found."""
    advice = _texts(data.get("advice"))
    if "advice_shown" in data:
        shown = _texts(data.get("advice_shown"))
    else:
        shown = advice[:OLD_SNAPSHOT_STEPS]
    return shown, [a for a in advice if a not in shown]


def table_text(pillars: Sequence[dict]) -> str:
    """What the legs say, counted from the answers: « Il manque trois pieds (…) : … »."""
    missing = [p["short"] for p in pillars if not p["present"]]
    if not missing:
        return "Les quatre pieds sont là : la table tient debout."
    if len(missing) == len(pillars):
        return "Aucun des quatre pieds n’est en place : il n’y a pas encore de table."
    if len(missing) == 1:
        return f"Il manque un pied ({missing[0]}) : la table est instable."
    count = NUMBERS_FR.get(len(missing), str(len(missing)))
    return f"Il manque {count} pieds ({', '.join(missing)}) : la table ne tient pas debout."


def diagnostic_view(data: Optional[dict]) -> Optional[dict]:
    """The diagnostic snapshot laid out for reading (None when there was none)."""
    if not data:
        return None
    answers = dict(data.get("answers") or {})
    missing_c = data.get("missing_criteria")
    missing_p = data.get("missing_pillars")
    words = data.get("words") if isinstance(data.get("words"), dict) else {}
    criteria = [_item(k, CRITERIA_LABELS[k], answers, missing_c, words) for k in CRITERIA]
    pillars = [_item(k, PILLAR_LABELS[k], answers, missing_p, words) for k in PILLARS]
    for pillar in pillars:
        pillar["short"] = PILLAR_SHORT[pillar["key"]]
    beyond = [_item(k, label, answers, None, words) for k, label in BEYOND_LABELS.items()]
    relationship = data.get("relationship") or "unclear"
    shown, more = advice_split(data)
    pillars_present = sum(1 for p in pillars if p["present"])
    return {
        "relationship": relationship,
        "relationship_fr": RELATIONSHIP_LABELS.get(relationship, relationship),
        "relationship_words": words.get("relationship"),
        "verdict": data.get("verdict"),
        "verdict_label": verdict_label(data.get("verdict")),
        "score": data.get("score"),
        "criteria": criteria,
        "criteria_met": sum(1 for c in criteria if c["present"]),
        "pillars": pillars,
        "pillars_present": pillars_present,
        "pillars_missing": len(pillars) - pillars_present,
        "table_stands": all(p["present"] for p in pillars),
        "table_text": french_spacing(table_text(pillars)),
        "beyond": beyond,
        # Exactly the advice the visitor read in Marc's verdict...
        "advice": shown,
        # ...and what the engine found beyond it, never shown to the visitor.
        "more_advice": more,
    }


def pillars_ascii(pillars: List[dict]) -> List[str]:
    """The four pillars as the legs of a table: a present leg stands (║), a missing one is a gap."""
    width = 11
    top = "█" * (width * 4)
    legs = "".join(("║" if p["present"] else " ").center(width) for p in pillars)
    feet = "".join(("╨" if p["present"] else "✗").center(width) for p in pillars)
    names = "".join(p["short"].center(width) for p in pillars)
    return [line.rstrip() for line in (top, legs, legs, feet, names)]


def backoffice_link(lead_id: object, env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The lead's page in the back office (``BACKOFFICE_URL``, set by make run), or None."""
    import os

    base = ((os.environ if env is None else env).get("BACKOFFICE_URL") or "").strip().rstrip("/")
    return f"{base}/leads/{lead_id}" if base.startswith(("http://", "https://")) else None


def lead_report(
    lead: Lead,
    transcript: Sequence[TranscriptLine] = (),
    event: str = "lead.created",
) -> Dict[str, Any]:
    record = lead_record(lead)
    snapshot = lead.latest_diagnostic
    data = snapshot.data if snapshot else None
    qualification = qualify(data, lead.need, booked=lead.active_booking is not None)
    view = diagnostic_view(data)
    return {
        "event": event,
        "lead": record,
        "backoffice_link": backoffice_link(lead.id),
        "status_fr": STATUS_LABELS.get(lead.status, lead.status),
        "phone_display": format_phone(lead.phone),
        "created_text": local_text(lead.created_at),
        "consent_text": local_text(lead.latest_consent.given_at) if lead.latest_consent else "",
        "qualification": {
            "label": lead.qualification,
            "label_fr": LABELS_FR.get(lead.qualification, lead.qualification),
            "score": lead.score,
            "reasons": qualification.reasons,
        },
        "diagnostic": view,
        "diagnostic_taken": local_text(snapshot.taken_at) if snapshot else "",
        "pillars_ascii": pillars_ascii(view["pillars"]) if view else [],
        "notes": [
            {
                "created": local_text(n.created_at),
                "status": n.status,
                "status_fr": STATUS_LABELS.get(n.status or "", n.status or ""),
                "text": n.text,
            }
            for n in lead.notes
        ],
        "audit": [
            {"at": local_text(a.at), "actor": a.actor, "action": a.action, "detail": a.detail}
            for a in lead.audit
        ],
        "transcript": transcript_view(transcript),
    }


def _runs(lines: Sequence[TranscriptLine]) -> Iterator[List[TranscriptLine]]:
    """The lines in runs: each erased passage (consecutive « [effacé] » of one conversation)
    as one run, every other line alone."""
    run: List[TranscriptLine] = []
    for line in lines:
        erased = line.text == REDACTED
        if run and (not erased or run[-1].text != REDACTED or run[-1].sender_id != line.sender_id):
            yield run
            run = []
        run.append(line)
    if run:
        yield run


def erased_text(count: int) -> str:
    """« [effacé : 12 messages] »: one line for a whole erased passage."""
    return french_spacing(f"[effacé : {count} message{'s' if count > 1 else ''}]")


def transcript_view(lines: Sequence[TranscriptLine]) -> List[Dict[str, Any]]:
    """The transcript as the consultant reads it, in Paris time. An abandoned contact form
    leaves dozens of « [effacé] » lines: each passage is folded into one line that says how
    many messages it held (``erased``, 0 for a line that was not erased; ``folded`` says whether
    it is such a line)."""
    view = []
    for run in _runs(lines):
        first = run[0]
        erased = len(run) if first.text == REDACTED else 0
        local = paris_time(first.timestamp)
        view.append({
            "sender_id": first.sender_id,
            "time": local.strftime("%H:%M") if local else "",
            "date": local_text(first.timestamp),
            "speaker": "erased" if erased else first.speaker,
            "speaker_fr": "" if erased else first.speaker_fr,
            "text": erased_text(erased) if erased else first.text,
            "erased": erased,
            "folded": bool(erased),
        })
    return view


def webhook_payload(report: Dict[str, Any], delivery_key: str) -> Dict[str, Any]:
    """The JSON POSTed to ``LEADS_WEBHOOK_URL``: the export record plus the diagnostic."""
    return {
        "event": report["event"],
        "delivery_id": delivery_key,
        "lead": report["lead"],
        "qualification_reasons": report["qualification"]["reasons"],
        "diagnostic": report["diagnostic"],
    }
