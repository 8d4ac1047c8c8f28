"""What every page shares: the templates, the identity of the request, CSRF-checked forms,
French error pages, and the security headers.

Access is denied by default: :class:`LoginRequired` (an ASGI middleware) lets through only
the login page and the static files without a session; every other request either carries a
live session or gets the login page (GET) or a French 403 (anything else). Each POST handler
reads its form through :func:`checked_form`, which refuses a missing or wrong CSRF token.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import parse_qsl, quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.backoffice.auth import SESSION_COOKIE, Identity, same_token
from bot.leads.db import session_scope
from bot.typography import french_spacing

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Exact paths (a future « /login-history » must not be public by accident), and the CSS.
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/favicon.ico"})
PUBLIC_PREFIX = "/static/"
MAX_FORM_BYTES = 64 * 1024

SECURITY_HEADERS = {
    # Server-rendered pages, our own CSS and scripts only: nothing from elsewhere runs here.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # personal data: never kept by a shared browser or proxy
}


def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["action_label"] = lambda action: ACTION_LABELS.get(action, action)
    # A path segment, « / » included (a conversation id comes from the client).
    env.globals["quote"] = lambda text: quote(str(text), safe="")
    return env


ACTION_LABELS = {
    "status": "statut changé", "note": "note ajoutée", "merge": "fusion", "edit": "coordonnées corrigées",
    "erase": "effacement",
}


class HttpProblem(Exception):
    """Answered with a French page and this status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def prefix(request: Request) -> str:
    return request.app.state.backoffice.settings.root_path


def url(request: Request, path: str, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return prefix(request) + path + (("?" + urlencode(query)) if query else "")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    backoffice = request.app.state.backoffice
    identity: Optional[Identity] = getattr(request.state, "identity", None)
    html = render_page(backoffice.templates, template, **dict(
        request=request,
        identity=identity,
        csrf_token=identity.csrf_token if identity else "",
        url=lambda path, **params: url(request, path, **params),
        path=request.url.path,
        **context,
    ))
    return HTMLResponse(html, status_code=status)


def render_page(templates: Environment, template: str, **context: Any) -> str:
    """A page, with French spacing (bot/typography.py) as the e-mails have it: no « : » or
    « ? » alone at the start of a line, whatever the text came from."""
    return french_spacing(templates.get_template(template).render(**context))


def problem_page(request: Request, problem: HttpProblem) -> HTMLResponse:
    return render(request, "error.html", status=problem.status, title=problem.title, message=problem.message)


def redirect(request: Request, path: str, **params: Any) -> RedirectResponse:
    return RedirectResponse(url(request, path, **params), status_code=303)


def cookie_is_secure(request: Request) -> bool:
    setting = request.app.state.backoffice.settings.secure_cookie
    if setting == "auto":
        return request.url.scheme == "https"
    return setting == "true"


FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> Dict[str, str]:
    """The POSTed form (URL-encoded: every form here is), at most MAX_FORM_BYTES however it is
    sent (a chunked body has no Content-Length), at most 50 fields."""
    too_long = HttpProblem(413, "Formulaire trop long", "Ce formulaire dépasse la taille admise (64 Kio).")
    unreadable = HttpProblem(400, "Formulaire illisible", "Le formulaire envoyé n’a pas pu être lu.")
    length = request.headers.get("content-length")
    if length and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise too_long
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise unreadable
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise too_long
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise unreadable from None
    return dict(pairs)


async def checked_form(request: Request) -> Dict[str, str]:
    """The POSTed form, once its CSRF token matched the session's."""
    form = await read_form(request)
    identity: Optional[Identity] = getattr(request.state, "identity", None)
    if identity is None or not same_token(form.get("csrf_token"), identity.csrf_token):
        raise HttpProblem(
            403, "Action refusée",
            "Ce formulaire a expiré ou ne vient pas du back-office. Rechargez la page et recommencez.",
        )
    return form


class LoginRequired:
    """ASGI middleware: no page or action without a live session (see the module docstring)."""

    def __init__(self, app, backoffice) -> None:  # noqa: ANN001
        self.app = app
        self.backoffice = backoffice

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        path = scope["path"]
        root = self.backoffice.settings.root_path
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIX):
            await self.app(scope, receive, send)
            return
        token = request.cookies.get(SESSION_COOKIE)
        identity = await run_in_threadpool(self._identify, token)
        if identity is None:
            response = self._refuse(request, path, had_cookie=bool(token))
            await _with_headers(response)(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)

    def _identify(self, token: Optional[str]) -> Optional[Identity]:
        with session_scope(self.backoffice.leads.factory) as session:
            return self.backoffice.auth.identify(session, token)

    def _refuse(self, request: Request, path: str, had_cookie: bool) -> Response:
        root = self.backoffice.settings.root_path
        if request.method in ("GET", "HEAD"):
            target = path + (("?" + request.url.query) if request.url.query else "")
            reason = "expired" if had_cookie else ""
            query = {"next": target} if target not in ("/", "/login") else {}
            if reason:
                query["reason"] = reason
            location = root + "/login" + ("?" + urlencode(query, quote_via=quote) if query else "")
            return RedirectResponse(location, status_code=303)
        html = render_page(
            self.backoffice.templates, "error.html",
            identity=None, csrf_token="", url=lambda p, **k: root + p, path=path,
            title="Connexion nécessaire",
            message="Votre session a expiré ou vous n’êtes pas connecté : reconnectez-vous, puis recommencez.",
        )
        return HTMLResponse(html, status_code=403)


def _with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
