"""« Parcours des visiteurs »: the funnel page."""
from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.backoffice import funnel as funnel_module
from bot.backoffice.web import render
from bot.leads.models import utcnow


def question_labels() -> dict:
    from bot.leads.report import BEYOND_LABELS, CRITERIA_LABELS, PILLAR_LABELS

    return {"relationship": "Client, fournisseur ou partenaire ?", **CRITERIA_LABELS, **PILLAR_LABELS, **BEYOND_LABELS}


def compute(backoffice) -> funnel_module.Funnel:  # noqa: ANN001
    from bot.knowledge import load_knowledge

    knowledge = load_knowledge()
    since = utcnow() - dt.timedelta(weeks=funnel_module.WEEKS)
    events = funnel_module.read_events(backoffice.settings.events_db_url, since)
    return funnel_module.build_funnel(
        events, backoffice.evaluate_markers,
        step_titles=[step.title for step in knowledge.steps],
        question_labels=question_labels(),
        topic_titles={f"ask_{k}": t.title for k, t in knowledge.topics.items()},
        since=since,
    )


async def funnel(request: Request) -> Response:
    backoffice = request.app.state.backoffice
    result = await run_in_threadpool(compute, backoffice)
    return render(request, "funnel.html", funnel=result, stages=funnel_module.STAGES, weeks_shown=funnel_module.WEEKS)
