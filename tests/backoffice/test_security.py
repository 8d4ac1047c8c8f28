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


def chunked_post(base: str, path: str, body: bytes) -> int:
    """A POST without Content-Length (Transfer-Encoding: chunked): the size check cannot read it."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("POST", parts.path + path)
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        try:
            for start in range(0, len(body), 16384):
                piece = body[start:start + 16384]
                connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end of the body
        return connection.getresponse().status
    finally:
        connection.close()


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


def session_cookie(client) -> str:  # noqa: ANN001
    return next(c for c in client.raw_set_cookies if c.startswith(SESSION_COOKIE + "=")).lower()


def login_by_hand(client) -> str:  # noqa: ANN001
    """Log in sending the login cookie ourselves (a cookie jar keeps a Secure cookie off plain
    http); returns the session's Set-Cookie, lower-cased."""
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.body).group(1)
    cookie = next(c for c in client.raw_set_cookies if c.startswith("sip_backoffice_login=")).split(";")[0]
    client.raw_set_cookies.clear()
    body = f"login_csrf={token}&username=claire&password={PASSWORD.replace(' ', '+')}".encode()
    result = client.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert result.status == 303, result.text()
    return session_cookie(client)


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(start_backoffice, leads):
    add_account(leads)
    alone = start_backoffice()  # make run: nobody in front, forwarded headers are not believed
    plain = alone.session()
    plain.login()
    assert "httponly" in session_cookie(plain) and "samesite=strict" in session_cookie(plain)
    assert "secure" not in session_cookie(plain)  # plain http on 127.0.0.1
    forged = alone.session(headers={"X-Forwarded-Proto": "https"})
    forged.login()
    assert "secure" not in session_cookie(forged)
    for backoffice, headers in ((start_backoffice(trust_proxy=True), {"X-Forwarded-Proto": "https"}),
                                (start_backoffice(secure_cookie="true"), {})):
        assert "; secure" in login_by_hand(backoffice.session(headers=headers))


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
    from bot.backoffice.auth import PER_CLIENT_FACTOR

    add_account(leads)
    client = backoffice.session()
    for number in range(backoffice.settings.login_max_failures * PER_CLIENT_FACTOR):
        assert client.login(f"inconnu{number}", "mauvais mot de passe").status == 401
    assert client.login("claire", PASSWORD).status == 429


def test_old_login_attempts_and_ended_sessions_are_forgotten(backoffice, leads):
    from bot.backoffice.auth import KEPT_DAYS

    add_account(leads)
    client = backoffice.session()
    client.login("claire", "mauvais mot de passe")
    client.login()
    client.post("/logout")
    with session_scope(leads.factory) as session:
        for row in [*session.execute(sa.select(LoginAttempt)).scalars(), *session.execute(sa.select(UserSession)).scalars()]:
            if isinstance(row, LoginAttempt):
                row.at -= dt.timedelta(days=KEPT_DAYS + 1)
            else:
                row.ended_at -= dt.timedelta(days=KEPT_DAYS + 1)
    backoffice.session().login()  # the next attempt clears what is too old
    with session_scope(leads.factory) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(LoginAttempt)).scalar_one() == 1
        assert session.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar_one() == 1


def test_a_forged_forwarded_address_is_not_a_new_client(backoffice, leads):
    add_account(leads)
    for number in range(backoffice.settings.login_max_failures):
        spoofer = backoffice.session(headers={"X-Forwarded-For": f"10.0.0.{number}"})
        assert spoofer.login("claire", "mauvais mot de passe").status == 401
    assert backoffice.session(headers={"X-Forwarded-For": "10.9.9.9"}).login("claire", PASSWORD).status == 429


def test_a_stranger_cannot_lock_a_consultant_out_from_elsewhere(leads):
    from bot.backoffice.auth import Authenticator, LoginRefused, LoginThrottled
    from bot.backoffice.settings import BackofficeSettings

    add_account(leads)
    auth = Authenticator(BackofficeSettings())

    def attempt(password: str, client: str) -> str:
        with session_scope(leads.factory) as session:
            attempt_id = auth.begin_attempt(session, "claire", client)
        try:
            with session_scope(leads.factory) as session:
                auth.finish_attempt(session, attempt_id, password)
            return "ok"
        except LoginRefused:
            return "refused"
        except LoginThrottled:
            return "throttled"

    assert [attempt("mauvais", "203.0.113.9") for _ in range(6)] == ["refused"] * 5 + ["throttled"]
    assert attempt(PASSWORD, "198.51.100.7") == "ok"  # the consultant, from her own address


def test_parallel_login_attempts_count_each_other(backoffice, leads):
    from concurrent.futures import ThreadPoolExecutor

    add_account(leads)
    clients = [backoffice.session() for _ in range(12)]
    for client in clients:
        client.get("/login")

    def wrong(client):  # noqa: ANN001
        token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").body).group(1)
        return client.post("/login", {"login_csrf": token, "username": "claire", "password": "mauvais"}, csrf=False).status

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(wrong, clients))
    assert statuses.count(401) <= backoffice.settings.login_max_failures
    assert set(statuses) <= {401, 429}


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


def test_a_session_older_than_the_limit_ends_even_when_busy(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    client.login()
    with session_scope(leads.factory) as session:
        for row in session.execute(sa.select(UserSession)).scalars():
            row.created_at -= dt.timedelta(hours=backoffice.settings.session_max_hours + 1)
    assert client.get("/leads").status == 303


def test_logging_in_again_ends_the_previous_session(backoffice, leads):
    add_account(leads)
    client = backoffice.session()
    client.login()
    before = client.jar._cookies.copy()  # noqa: SLF001 - the old cookie, to try it afterwards
    old = next(c.value for domain in before.values() for path in domain.values() for c in path.values()
               if c.name == SESSION_COOKIE)
    client.login()
    stale = backoffice.session()
    assert stale.request("GET", "/leads", headers={"Cookie": f"{SESSION_COOKIE}={old}"}).status == 303
    assert client.get("/leads").status == 200


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


def test_public_paths_are_exact(backoffice):
    client = backoffice.session()
    for path in ("/loginx", "/login/../leads", "/healthz2", "/favicon.ico.bak"):
        assert client.get(path).status in (303, 404), path
    assert client.get("/loginx").status == 303


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
    assert garbage.status == 400 and "illisible" in garbage.text()
    not_utf8 = client.request("POST", "/leads/1/note", b"note=\xff\xfe", {"Content-Type": "application/x-www-form-urlencoded"})
    assert not_utf8.status == 400 and "illisible" in not_utf8.text()
    huge = client.post("/leads/1/note", {"note": "x" * 70_000})
    assert huge.status == 413 and "taille" in huge.text()
    assert chunked_post(backoffice.url, "/login", b"username=" + b"x" * 200_000) == 413
    assert client.post("/leads/1/status", {"status": "n'importe quoi"}).status == 400
    assert leads.report(1)["lead"]["status"] == "new"
