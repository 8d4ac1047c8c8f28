"""Nothing readable or doable without a live session; CSRF on every form; accounts disabled or
re-keyed lose their sessions; the login is rate-limited; bad input gets a French page."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from starlette.routing import Route

from bot.backoffice.app import ROUTES
from bot.backoffice.auth import SESSION_COOKIE
from bot.backoffice.models import LoginAttempt, UserSession
from bot.leads.db import session_scope

from backoffice_fixtures import OTHER_PASSWORD, PASSWORD, add_account, submission

PUBLIC = {"/login", "/healthz", "/favicon.ico"}


def concrete(path: str) -> str:
    return path.replace("{lead_id}", "1").replace("{sender_id}", "conv-jeanne")


def routes(method: str):
    for route in ROUTES:
        if isinstance(route, Route) and method in (route.methods or ()) and route.path not in PUBLIC:
            yield concrete(route.path)


def test_every_page_sends_an_anonymous_visitor_to_the_login(backoffice, leads):
    leads.submit(submission())
    client = backoffice.session()
    pages = list(routes("GET"))
    assert "/leads/1" in pages and "/leads.csv" in pages and "/funnel" in pages
    for path in pages:
        page = client.get(path)
        assert page.status == 303, path
        assert "/login" in page.location, path
        assert "Jeanne" not in page.body


def test_every_action_is_refused_without_a_session(backoffice, leads):
    leads.submit(submission())
    client = backoffice.session()
    actions = list(routes("POST"))
    assert "/leads/1/erase" in actions and "/questions/export" in actions
    for path in actions:
        page = client.post(path, {"csrf_token": "x", "status": "won", "confirm": "oui"})
        assert page.status == 403, path
        assert "reconnectez-vous" in page.text()
    assert leads.report(1)["lead"]["status"] == "new"


def test_every_action_is_refused_with_a_wrong_or_missing_csrf_token(backoffice, leads):
    leads.submit(submission())
    add_account(leads)
    client = backoffice.session()
    assert client.login().status == 303
    for path in routes("POST"):
        for fields in ({"csrf_token": "pas-le-bon"}, {}):
            page = client.post(path, {**fields, "status": "won", "note": "x", "confirm": "oui"}, csrf=False)
            assert page.status == 403, path
            assert "expiré" in page.text()
    assert leads.report(1)["lead"]["status"] == "new"


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(start_backoffice, leads):
    add_account(leads)
    backoffice = start_backoffice()
    plain = backoffice.session()
    plain.login()
    cookie = next(c for c in plain.raw_set_cookies if c.startswith(SESSION_COOKIE))
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http on 127.0.0.1 (make run)
    behind_nginx = backoffice.session(headers={"X-Forwarded-Proto": "https"})
    behind_nginx.login()
    cookie = next(c for c in behind_nginx.raw_set_cookies if c.startswith(SESSION_COOKIE))
    assert "; secure" in cookie.lower()


def test_a_wrong_password_says_nothing_about_which_names_exist(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    wrong_password = client.login("claire", "pas le bon mot de passe")
    unknown_name = client.login("personne", "pas le bon mot de passe")
    assert wrong_password.status == unknown_name.status == 401
    assert "Identifiant ou mot de passe incorrect." in wrong_password.text()
    assert "Identifiant ou mot de passe incorrect." in unknown_name.text()


def test_login_is_rate_limited_per_account_even_with_the_right_password_after(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    for _ in range(backoffice.settings.login_max_failures):
        assert client.login("claire", "mauvais mot de passe").status == 401
    throttled = client.login("claire", PASSWORD)
    assert throttled.status == 429
    assert "Trop d’essais" in throttled.text()
    # After the window, the right password works again (the attempts are moved back in time).
    with session_scope(leads.factory) as session:
        for attempt in session.execute(sa.select(LoginAttempt)).scalars():
            attempt.at -= dt.timedelta(hours=1)
    assert client.login("claire", PASSWORD).status == 303


def test_login_is_rate_limited_per_client_across_account_names(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    for number in range(backoffice.settings.login_max_failures):
        client.login(f"inconnu{number}", "mauvais mot de passe")
    assert client.login("claire", PASSWORD).status == 429


def test_a_disabled_account_loses_its_open_session_at_once(backoffice, leads):
    from bot.backoffice.accounts import Accounts

    add_account(leads)
    add_account(leads, "paul", OTHER_PASSWORD)
    claire, paul = backoffice.session(), backoffice.session()
    claire.login()
    paul.login("paul", OTHER_PASSWORD)
    with session_scope(leads.factory) as session:
        Accounts(session).disable("claire")
    assert claire.get("/leads").status == 303
    assert paul.get("/leads").status == 200  # another account is untouched
    assert claire.login().status == 401  # and it cannot log in again


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(backoffice, leads):
    from bot.backoffice.accounts import Accounts

    add_account(leads)
    client = backoffice.session()
    client.login()
    with session_scope(leads.factory) as session:
        Accounts(session).set_password("claire", OTHER_PASSWORD)
    assert client.get("/leads").status == 303
    assert client.login("claire", OTHER_PASSWORD).status == 303


def test_an_idle_session_expires(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    client.login()
    assert client.get("/leads").status == 200
    idle = dt.timedelta(minutes=backoffice.settings.idle_minutes + 1)
    with session_scope(leads.factory) as session:
        for row in session.execute(sa.select(UserSession)).scalars():
            row.last_seen_at -= idle
    page = client.get("/leads")
    assert page.status == 303 and "reason=expired" in page.location
    assert "Votre session a expiré" in client.get(page.location.replace(backoffice.url, "")).text()


def test_logout_ends_the_session(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    client.login()
    assert client.post("/logout").status == 303
    assert client.get("/leads").status == 303


def test_the_login_never_redirects_elsewhere(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.body).group(1)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        result = client.post("/login", {"login_csrf": token, "username": "claire", "password": PASSWORD,
                                        "next": target}, csrf=False)
        assert result.status == 303
        assert result.location.endswith("/leads"), target
        page = client.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.body).group(1)


def test_the_login_form_needs_its_own_token(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    page = client.post("/login", {"username": "claire", "password": PASSWORD}, csrf=False)
    assert page.status == 403 and "expiré" in page.text()


def test_pages_carry_security_headers(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    for page in (client.get("/login"), client.get("/leads")):
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/leads/999999", "/leads/abc", "/leads/" + "9" * 40, "/nulle-part"])
def test_unknown_or_malformed_addresses_get_a_french_404(backoffice, leads, path):
    add_account(leads)
    client = backoffice.session()
    client.login()
    page = client.get(path)
    assert page.status == 404
    assert "introuvable" in page.text()


def test_malformed_and_huge_forms_get_a_french_answer_never_a_500(backoffice, leads):
    leads.submit(submission())
    add_account(leads)
    client = backoffice.session()
    client.login()
    garbage = client.request("POST", "/leads/1/note", b"\xff\xfe%%%=&&==", {"Content-Type": "multipart/form-data; boundary=x"})
    assert garbage.status in (400, 403) and "refusée" in garbage.text() or "illisible" in garbage.text()
    huge = client.post("/leads/1/note", {"note": "x" * 70_000})
    assert huge.status == 413 and "taille" in huge.text()
    assert client.post("/leads/1/status", {"status": "n'importe quoi"}).status == 400
    assert leads.report(1)["lead"]["status"] == "new"
