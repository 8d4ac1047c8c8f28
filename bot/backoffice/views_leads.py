"""The inbox, the CSV export, a lead's page and what a consultant does to a lead."""
from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.backoffice import queries
from bot.backoffice.web import HttpProblem, checked_form, redirect, render
from bot.leads.models import LEAD_STATUSES, QUALIFICATIONS
from bot.leads.qualification import LABELS_FR
from bot.leads.report import STATUS_LABELS
from bot.leads.service import LeadNotFound

log = logging.getLogger(__name__)

DONE_MESSAGES = {
    "status": "Statut enregistré.",
    "note": "Note ajoutée.",
    "contacted": "Lead marqué comme contacté.",
    "erased": "Le lead et ses conversations ont été effacés.",
}
PERIOD_LABELS = {"7": "7 derniers jours", "30": "30 derniers jours", "90": "3 derniers mois", "365": "12 derniers mois"}


def _lead_id(request: Request) -> int:
    raw = request.path_params.get("lead_id", "")
    if not str(raw).isdigit() or len(str(raw)) > 9:
        raise HttpProblem(404, "Lead introuvable", "Ce lead n’existe pas (ou a été effacé).")
    return int(raw)


def _not_found() -> HttpProblem:
    return HttpProblem(404, "Lead introuvable", "Ce lead n’existe pas (ou a été effacé).")


async def inbox(request: Request) -> Response:
    backoffice = request.app.state.backoffice
    filters = queries.InboxFilters.from_query(request.query_params)
    result = await run_in_threadpool(queries.inbox, backoffice.leads, filters)
    return render(
        request, "leads.html", inbox=result, filters=filters,
        qualifications=[(q, LABELS_FR.get(q, q)) for q in QUALIFICATIONS],
        statuses=[(s, STATUS_LABELS.get(s, s)) for s in LEAD_STATUSES],
        periods=list(PERIOD_LABELS.items()), status_labels=STATUS_LABELS, qualification_labels=LABELS_FR,
        done=DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
    )


async def export_csv(request: Request) -> Response:
    from bot.cli import export_csv as csv_of

    backoffice = request.app.state.backoffice
    filters = queries.InboxFilters.from_query(request.query_params)
    records = await run_in_threadpool(queries.export_records, backoffice.leads, filters)
    body = await run_in_threadpool(csv_of, records)
    log.info("CSV export of %d lead(s) by %s", len(records), request.state.identity.username)
    return Response(
        "\ufeff" + body,  # the BOM: Excel opens UTF-8 accents correctly
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
    )


async def _report(request: Request) -> dict:
    """The lead's whole report (its conversations included), or the French 404."""
    try:
        return await run_in_threadpool(request.app.state.backoffice.leads.report, _lead_id(request))
    except LeadNotFound:
        raise _not_found() from None


async def lead_page(request: Request) -> Response:
    report = await _report(request)
    return render(
        request, "lead.html", report=report, lead=report["lead"], statuses=[(s, STATUS_LABELS.get(s, s)) for s in LEAD_STATUSES],
        done=DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
    )


async def _change(request: Request, change) -> Response:  # noqa: ANN001
    lead_id = _lead_id(request)
    form = await checked_form(request)
    actor = request.state.identity.username
    try:
        done = await run_in_threadpool(change, request.app.state.backoffice.leads, lead_id, form, actor)
    except LeadNotFound:
        raise _not_found() from None
    except ValueError as exc:
        raise HttpProblem(400, "Action refusée", f"Rien n’a été changé : {exc}.") from None
    return redirect(request, f"/leads/{lead_id}", done=done)


def _set_status(service, lead_id: int, form: dict, actor: str) -> str:  # noqa: ANN001
    queries.set_status(service, lead_id, form.get("status", ""), form.get("note", ""), actor)
    return "status"


def _add_note(service, lead_id: int, form: dict, actor: str) -> str:  # noqa: ANN001
    queries.add_note(service, lead_id, form.get("note", ""), actor)
    return "note"


def _mark_contacted(service, lead_id: int, form: dict, actor: str) -> str:  # noqa: ANN001
    queries.set_status(service, lead_id, "contacted", form.get("note", ""), actor)
    return "contacted"


async def set_status(request: Request) -> Response:
    return await _change(request, _set_status)


async def add_note(request: Request) -> Response:
    return await _change(request, _add_note)


async def mark_contacted(request: Request) -> Response:
    return await _change(request, _mark_contacted)


async def erase_confirm(request: Request) -> Response:
    report = await _report(request)
    return render(request, "erase.html", lead=report["lead"], conversations=len(report["lead"]["sender_ids"]))


async def erase(request: Request) -> Response:
    from bot.booking.calendar import CalendarUnavailable
    from bot.leads.transcript import TrackerUnavailable

    backoffice = request.app.state.backoffice
    lead_id = _lead_id(request)
    form = await checked_form(request)
    if form.get("confirm") != "oui":
        return redirect(request, f"/leads/{lead_id}/erase")
    try:
        result = await run_in_threadpool(backoffice.leads.erase_lead, lead_id)
    except (CalendarUnavailable, TrackerUnavailable):
        raise HttpProblem(
            503, "Effacement impossible pour l’instant",
            "L’agenda ou la base des conversations ne répond pas : rien n’a été effacé. Réessayez dans un moment.",
        ) from None
    if not result.lead_ids:
        raise _not_found()
    log.info("lead %d erased from the back office by %s", lead_id, request.state.identity.username)
    return redirect(request, "/leads", done="erased")
