"""The unanswered questions: grouped, assigned to a topic in one click, written as NLU data."""
from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.backoffice import nlu_review, unanswered
from bot.backoffice.web import HttpProblem, checked_form, redirect, render
from bot.leads.db import session_scope
from bot.leads.models import utcnow

WINDOW_DAYS = 90
MAX_GROUPS = 100


def _groups(backoffice):  # noqa: ANN001
    since = utcnow() - dt.timedelta(days=WINDOW_DAYS)
    messages = unanswered.missed_messages(backoffice.settings.tracker_db_url, since)
    with session_scope(backoffice.leads.factory) as session:
        already = nlu_review.assigned_texts(session)
        pending = nlu_review.pending_count(session)
    return unanswered.group_messages(messages, already), len(messages), pending


def _count(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) < 7 else 0


async def questions(request: Request) -> Response:
    backoffice = request.app.state.backoffice
    groups, total, pending = await run_in_threadpool(_groups, backoffice)
    done = request.query_params.get("done", "")
    # Figures only: the page never repeats a sentence someone put in its address.
    written = _count(request.query_params.get("written", ""))
    skipped = _count(request.query_params.get("skipped", ""))
    return render(
        request, "questions.html", groups=groups[:MAX_GROUPS], more=max(0, len(groups) - MAX_GROUPS),
        total=total, pending=pending, topics=nlu_review.topics(), window_days=WINDOW_DAYS,
        done=done, written=written, skipped=skipped, reviewed_path=backoffice.settings.reviewed_nlu_path,
    )


async def assign(request: Request) -> Response:
    backoffice = request.app.state.backoffice
    form = await checked_form(request)
    key, intent = form.get("group", ""), form.get("intent", "")
    actor = request.state.identity.username

    def run() -> int:
        groups, _, _ = _groups(backoffice)
        group = next((g for g in groups if g.key == key), None)
        if group is None:
            raise HttpProblem(409, "La liste a changé", "Ce groupe n’est plus dans la liste : rechargez la page.")
        with session_scope(backoffice.leads.factory) as session:
            return nlu_review.assign(session, group.exportable, intent, actor)

    try:
        await run_in_threadpool(run)
    except nlu_review.ReviewError as exc:
        raise HttpProblem(400, "Action refusée", f"Rien n’a été changé : {exc}.") from None
    return redirect(request, "/questions", done="assigned")


async def export(request: Request) -> Response:
    from pathlib import Path

    backoffice = request.app.state.backoffice
    await checked_form(request)

    def run():  # noqa: ANN202
        with session_scope(backoffice.leads.factory) as session:
            return nlu_review.write_reviewed_file(session, Path(backoffice.settings.reviewed_nlu_path))

    try:
        report = await run_in_threadpool(run)
    except OSError as exc:
        raise HttpProblem(
            503, "Écriture impossible",
            f"Le fichier des données d’entraînement n’a pas pu être écrit ({exc.strerror or type(exc).__name__}) : "
            "rien n’a été perdu, les attributions restent enregistrées.",
        ) from None
    return redirect(request, "/questions", done="exported", written=report.count, skipped=len(report.skipped))


async def conversation(request: Request) -> Response:
    """One conversation's transcript (a missed question's context), with its lead if any."""
    from bot.leads.transcript import read_transcript

    backoffice = request.app.state.backoffice
    sender_id = request.path_params.get("sender_id", "")
    if not sender_id or len(sender_id) > 255:
        raise HttpProblem(404, "Conversation introuvable", "Cette conversation n’existe pas (ou a été effacée).")

    def run():  # noqa: ANN202
        lines = read_transcript(sender_id, backoffice.settings.tracker_db_url)
        return lines, backoffice.leads.find_lead_id(sender_id)

    lines, lead_id = await run_in_threadpool(run)
    if not lines:
        raise HttpProblem(404, "Conversation introuvable", "Cette conversation n’existe pas (ou a été effacée).")
    from bot.leads.report import transcript_view

    # As on a lead's page: Paris time, erased passages folded into one line.
    return render(request, "conversation.html", lines=transcript_view(lines), lead_id=lead_id)
