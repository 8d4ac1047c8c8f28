"""The back office's Starlette application: the routes, and what they share.

    app = create_app(BackofficeSettings.from_env())
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.backoffice import views_auth, views_funnel, views_leads, views_questions
from bot.backoffice.auth import Authenticator
from bot.backoffice.settings import BackofficeSettings
from bot.backoffice.web import HttpProblem, LoginRequired, SecurityHeaders, problem_page, redirect, template_environment
from bot.leads.db import make_engine
from bot.leads.service import LeadService

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Backoffice:
    """What every request handler reaches through ``request.app.state.backoffice``."""

    settings: BackofficeSettings
    leads: LeadService
    auth: Authenticator
    templates: Environment
    # (sender id, events) → per-session markers: channels/markers.py (Rasa's engine) by default.
    evaluate_markers: Callable[[str, Sequence[dict]], Iterable]


async def home(request: Request) -> Response:
    return redirect(request, "/leads")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def no_favicon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask on their own: no login page for them


ROUTES = [
    Route("/", home),
    Route("/healthz", healthz),
    Route("/favicon.ico", no_favicon),
    Route("/login", views_auth.login_form, methods=["GET"]),
    Route("/login", views_auth.login, methods=["POST"]),
    Route("/logout", views_auth.logout, methods=["POST"]),
    Route("/leads", views_leads.inbox),
    Route("/leads.csv", views_leads.export_csv),
    Route("/leads/{lead_id}", views_leads.lead_page),
    Route("/leads/{lead_id}/status", views_leads.set_status, methods=["POST"]),
    Route("/leads/{lead_id}/note", views_leads.add_note, methods=["POST"]),
    Route("/leads/{lead_id}/contacted", views_leads.mark_contacted, methods=["POST"]),
    Route("/leads/{lead_id}/erase", views_leads.erase_confirm, methods=["GET"]),
    Route("/leads/{lead_id}/erase", views_leads.erase, methods=["POST"]),
    Route("/conversations/{sender_id:path}", views_questions.conversation),
    Route("/questions", views_questions.questions),
    Route("/questions/assign", views_questions.assign, methods=["POST"]),
    Route("/questions/export", views_questions.export, methods=["POST"]),
    Route("/funnel", views_funnel.funnel),
    Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
]

STATUS_TITLES = {
    404: ("Page introuvable", "Cette page n’existe pas."),
    405: ("Action impossible", "Cette adresse ne s’utilise pas ainsi."),
}


def create_app(
    settings: Optional[BackofficeSettings] = None,
    leads: Optional[LeadService] = None,
    evaluate_markers: Optional[Callable[[str, Sequence[dict]], Iterable]] = None,
) -> Starlette:
    settings = settings or BackofficeSettings.from_env()
    if leads is None:
        leads = LeadService(make_engine(settings.leads_db_url), tracker_url=settings.tracker_db_url)
    if evaluate_markers is None:
        from channels import markers

        def evaluate_markers(sender_id: str, events: Sequence[dict]) -> Iterable:
            return markers.evaluate(settings.markers_dir, sender_id, events)

    backoffice = Backoffice(settings, leads, Authenticator(settings), template_environment(), evaluate_markers)

    async def on_problem(request: Request, exc: HttpProblem) -> Response:
        return problem_page(request, exc)

    async def on_http(request: Request, exc: HTTPException) -> Response:
        title, message = STATUS_TITLES.get(exc.status_code, ("Erreur", "La demande n’a pas abouti."))
        return problem_page(request, HttpProblem(exc.status_code, title, message))

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("back office: unexpected error on %s", request.url.path)
        return problem_page(request, HttpProblem(
            500, "Erreur inattendue", "Une erreur est survenue ; rien n’a été perdu. Réessayez dans un moment.",
        ))

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(SecurityHeaders), Middleware(LoginRequired, backoffice=backoffice)],
        exception_handlers={HttpProblem: on_problem, HTTPException: on_http, Exception: on_error},
    )
    app.state.backoffice = backoffice
    return app
