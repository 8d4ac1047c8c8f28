"""Login and logout pages."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.backoffice.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, LoginRefused, LoginThrottled, new_token, same_token
from bot.backoffice.web import checked_form, cookie_is_secure, prefix, read_form, redirect, render
from bot.leads.db import session_scope

REASONS = {
    "expired": "Votre session a expiré : reconnectez-vous.",
    "logout": "Vous êtes déconnecté.",
}


def _safe_next(target: str) -> str:
    """Only a path of this site (never « //ailleurs.example » or a full URL): no open redirect."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return "/leads"
    return target


def _login_page(request: Request, status: int = 200, error: str = "", username: str = "") -> Response:
    # The same token while the cookie lives: a second tab, or a request the browser makes on
    # its own (a favicon sent to the login page), must not invalidate the form already shown.
    existing = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    token = existing if 20 <= len(existing) <= 100 else new_token()
    response = render(
        request, "login.html", status=status, error=error, username=username,
        login_csrf=token, next=_safe_next(request.query_params.get("next", "")),
        notice=REASONS.get(request.query_params.get("reason", ""), ""),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
        secure=cookie_is_secure(request), path=(prefix(request) or "") + "/login",
    )
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request)


async def login(request: Request) -> Response:
    backoffice = request.app.state.backoffice
    form = await read_form(request)
    username = (form.get("username") or "").strip()[:64]
    if not same_token(form.get("login_csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, 403, "Le formulaire a expiré : recommencez.", username)
    client = request.client.host if request.client else "inconnu"

    previous = request.cookies.get(SESSION_COOKIE)

    def attempt() -> str:
        with session_scope(backoffice.leads.factory) as session:  # committed: it counts at once
            attempt_id = backoffice.auth.begin_attempt(session, username, client)
        with session_scope(backoffice.leads.factory) as session:
            token = backoffice.auth.finish_attempt(session, attempt_id, form.get("password") or "")
            backoffice.auth.logout(session, previous)  # no fixation: the old session ends
            return token

    try:
        token = await run_in_threadpool(attempt)
    except LoginThrottled as exc:
        return _login_page(
            request, 429,
            f"Trop d’essais infructueux : réessayez plus tard (d’ici {exc.minutes} minutes au plus).", username,
        )
    except LoginRefused:
        return _login_page(request, 401, "Identifiant ou mot de passe incorrect.", username)
    response = redirect(request, _safe_next(form.get("next", "")))
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict",
        secure=cookie_is_secure(request), path=prefix(request) or "/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=(prefix(request) or "") + "/login")
    return response


async def logout(request: Request) -> Response:
    backoffice = request.app.state.backoffice
    await checked_form(request)
    token = request.cookies.get(SESSION_COOKIE)

    def end() -> None:
        with session_scope(backoffice.leads.factory) as session:
            backoffice.auth.logout(session, token)

    await run_in_threadpool(end)
    response = redirect(request, "/login", reason="logout")
    response.delete_cookie(SESSION_COOKIE, path=prefix(request) or "/")
    return response
