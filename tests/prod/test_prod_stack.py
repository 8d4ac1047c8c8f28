"""The production profile under faults and hostile input: 2 Rasa replicas and 2 action servers
behind nginx, conversations in PostgreSQL, locks in Redis, leads in PostgreSQL.

One stack for the whole module (tests/prod/conftest.py); the tests run in file order and the
last one kills a replica for good.
"""
from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.knowledge import load_knowledge
from tests.conftest import ROOT, free_ports

from .conftest import (
    ProdStack,
    http_request,
    listening_addresses,
    _admin_engine,
    render_nginx,
    set_database_reachable,
    terminate_backends,
)

pytestmark = [pytest.mark.prod, pytest.mark.e2e]
K = load_knowledge()


def new_sender(prefix: str = "prod") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def texts(messages):
    return [m["text"] for m in messages if m.get("text")]


def mark_access_log(stack: ProdStack) -> str:
    """Put a marker line in nginx's access log and return it once it is written.

    nginx writes a request's line just *after* sending the response, so a line read right
    after a reply may still be missing (or show up in the next read). A marker request (a 404
    on a path of its own, sent after every reply so far was received) is logged after them:
    the text between two markers is exactly the requests made between them."""
    path = f"/log-mark-{uuid.uuid4().hex}"
    assert http_request(f"{stack.public_url}{path}").status == 404
    deadline = time.monotonic() + 10
    while f" {path} " not in (stack.log_dir / "nginx-access.log").read_text():
        assert time.monotonic() < deadline, f"nginx never logged {path}"
        time.sleep(0.05)
    return path


def attempts_since(stack: ProdStack, mark: str) -> list[list[str]]:
    """For each public webhook request made since a marker, the replicas nginx tried, in
    order (the last one answered)."""
    log = logged_since(stack, mark)
    return [tried.split(", ") for tried in
            re.findall(r"POST /webhooks/rest/webhook \d+ \d+ rt=\S+ up=(.*?) us=", log)]


def logged_since(stack: ProdStack, mark: str) -> str:
    """nginx's access log between a marker and now (a new marker, so nothing is missing)."""
    end = mark_access_log(stack)
    log = (stack.log_dir / "nginx-access.log").read_text()
    first_line = log.index("\n", log.index(f" {mark} ")) + 1
    end_line = log.rindex("\n", 0, log.index(f" {end} ")) + 1
    return log[first_line:end_line]


def upstreams_since(stack: ProdStack, mark: str) -> list[str]:
    """The replicas that answered the public webhook requests made since a marker."""
    return [tried[-1] for tried in attempts_since(stack, mark)]


# ---------------------------------------------------------------------- security defaults
def test_only_the_webhook_and_health_are_public_and_the_api_is_disabled(prod_stack):
    stack = prod_stack
    assert http_request(f"{stack.public_url}/health").json() == {"status": "ok"}
    for path in ("/", "/version", "/status", "/conversations/x/tracker", "/model/parse",
                 "/webhooks/rest/webhook/../../status", "/nginx_status"):
        response = http_request(f"{stack.public_url}{path}")
        assert response.status == 404, path
        assert response.json() == {"error": "Introuvable."}
        assert b"Rasa" not in response.body and response.headers.get("server") == "nginx"  # no version
    assert http_request(f"{stack.public_url}/webhooks/rest/webhook").status == 403  # GET
    # On the replicas themselves: no HTTP API (no --enable-api), no token to guess.
    for index in range(2):
        for method, path in (("GET", "/status"), ("GET", "/conversations/x/tracker"),
                             ("POST", "/model/parse"), ("PUT", "/model")):
            assert http_request(f"{stack.replica_url(index)}{path}", method).status == 404, path
    # Replicas and action servers listen on the loopback only; nginx's action side too.
    for port in stack.replica_ports + stack.action_ports + [int(stack.env["ACTIONS_PORT"])]:
        assert listening_addresses(port) == ["127.0.0.1"], port


def test_the_action_servers_only_answer_the_rasa_replicas(prod_stack):
    """A local process posting `next_action: action_submit_lead` stored leads with consent
    proofs: without ACTIONS_SECRET, the action servers and nginx's action side say 401."""
    stack = prod_stack
    before = stack.count_leads()
    sender = new_sender("forged")
    call = json.dumps({
        "next_action": "action_submit_lead", "sender_id": sender, "version": "3.6.21", "domain": {},
        "tracker": {"sender_id": sender, "slots": {"contact_name": "Mallory", "contact_email": "m@example.org",
                                                   "contact_consent": "yes"}, "events": [], "latest_message": {}},
    }).encode()
    ports = stack.action_ports + [int(stack.env["ACTIONS_PORT"])]
    for port in ports:
        for headers in ({}, {"X-Actions-Secret": "devine"}):
            response = http_request(f"http://127.0.0.1:{port}/webhook", "POST", call,
                                    {"Content-Type": "application/json", **headers})
            assert response.status == 401, (port, response.status)
    assert stack.count_leads() == before
    assert texts(stack.chat(new_sender(), "bonjour"))  # Rasa, which has the secret, is served


def test_cors_allows_the_demo_page_only(prod_stack):
    stack = prod_stack
    allowed = f"http://localhost:{stack.env['WEB_PORT']}"
    preflight = {"Origin": allowed, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    ok = http_request(f"{stack.public_url}/webhooks/rest/webhook", "OPTIONS", headers=preflight)
    assert ok.status < 300 and ok.headers.get("access-control-allow-origin") == allowed
    for origin in ("https://evil.example", f"http://localhost:{stack.env['WEB_PORT']}.evil.example",
                   "null"):
        refused = http_request(f"{stack.public_url}/webhooks/rest/webhook", "OPTIONS",
                               headers={**preflight, "Origin": origin})
        assert "access-control-allow-origin" not in refused.headers, origin
    # nginx's own errors carry the header too, so the widget can read them.
    too_big = http_request(f"{stack.public_url}/webhooks/rest/webhook", "POST", b"x" * 200_000,
                           {"Content-Type": "application/json", "Origin": allowed})
    assert too_big.status == 413 and too_big.headers.get("access-control-allow-origin") == allowed


# ---------------------------------------------------------------------- replicas share the state
def test_one_conversation_alternating_between_the_two_replicas_keeps_its_state(prod_stack):
    sender = new_sender("alt")
    shown = [texts(prod_stack.chat(sender, "/start_coaching", via=0))]
    for turn in range(5):
        shown.append(texts(prod_stack.chat(sender, "/continue", via=(turn + 1) % 2)))
    assert shown == [list(step.messages) for step in K.steps[:6]]


def test_through_nginx_the_turns_of_one_conversation_go_to_both_replicas(prod_stack):
    sender, mark = new_sender("lb"), mark_access_log(prod_stack)
    live = prod_stack.chat(sender, "/start_coaching")
    shown = [texts(live)]
    for _ in range(3):
        shown.append(texts(prod_stack.chat(sender, "/continue")))
    assert shown == [list(step.messages) for step in K.steps[:4]]
    # An interruption, then the session resumes exactly where it was, wherever it lands.
    answer = texts(prod_stack.chat(sender, "C'est quoi les quatre piliers ?"))
    assert answer[0] == K.topics["pillars"].messages[0]
    assert texts(prod_stack.chat(sender, "on reprend")) == list(K.steps[4].messages)
    used = set(upstreams_since(prod_stack, mark))
    assert used == {f"127.0.0.1:{port}" for port in prod_stack.replica_ports}


# ---------------------------------------------------------------------- hostile input
HOSTILE_MESSAGES = [
    "bonjour\x00\x01\x02\x07\x1b[31m\x7f",
    "😀🤝💼 partenariat ? 👨‍👩‍👧‍👦🏳️‍🌈",
    "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE events; -- \" OR 1=1; DELETE FROM leads; SELECT pg_sleep(5);",
    "{{ 7*7 }} {% for x in range(9) %}{% endfor %} ${7*7} #{7*7} <%= 7*7 %> {0.__class__.__mro__}",
    "%s%s%s%s%n%x%d %(message)s {message} {{message}}",
    "\u202e\u200b\ufeff zéro largeur \u0301\u0301",
    "x" * 4_000,  # longer than the NLU reads (2,000), shorter than the body limit
]

MALFORMED_BODIES = [
    b"", b"[]", b"{}", b"null", b"42", b'"bonjour"', b"{not json", b"[" * 5000 + b"]" * 5000,
    b'{"sender": "a"}', b'{"message": "bonjour"}', b'\xff\xfe{"sender": "a", "message": "b"}',
    b'{"sender": "\'; DROP TABLE events; --", "message": "bonjour"}',
    b'{"sender": "ok-id", "message": ["liste"]}', b'{"sender": "ok-id", "message": {"a": 1}}',
]
# Odd but well-formed: answered like any message (200), never a 5xx.
ODD_BODIES = [
    b'{"sender": "odd-meta-%s", "message": "bonjour", "metadata": "pas un objet"}' % uuid.uuid4().hex.encode(),
    b'{"sender": "odd-surrogate-%s", "message": "\\ud800 surrogate seule \\udfff"}' % uuid.uuid4().hex.encode(),
    b'{"sender": "odd-extra-%s", "message": "bonjour", "sender2": "x", "__proto__": {"a": 1}}' % uuid.uuid4().hex.encode(),
]


@pytest.fixture(scope="module")
def before_hostile(prod_stack):
    """A reference conversation and the data counts, before the hostile input."""
    reference = new_sender("reference")
    prod_stack.chat(reference, "/start_coaching")
    prod_stack.chat(reference, "/continue")
    return {
        "reference": reference,
        "reference_events": prod_stack.count_events(reference),
        "leads": prod_stack.count_leads(),
        "events": prod_stack.count_events(),
    }


@pytest.mark.parametrize("message", HOSTILE_MESSAGES, ids=lambda m: repr(m[:12]))
def test_hostile_messages_through_nginx_get_a_french_answer(prod_stack, before_hostile, message):
    visitor = new_sender("hostile")
    reply = prod_stack.chat(visitor, message)
    assert reply and all(m.get("recipient_id") == visitor for m in reply)
    assert any(m.get("text") for m in reply)
    follow_up = prod_stack.chat(visitor, "C'est quoi les quatre piliers ?")
    assert follow_up[0]["text"] == K.topics["pillars"].messages[0]


@pytest.mark.parametrize("body", MALFORMED_BODIES, ids=lambda b: repr(b[:16]))
def test_malformed_bodies_through_nginx_get_a_french_400(prod_stack, before_hostile, body):
    response = prod_stack.post(body)
    assert response.status == 400, (response.status, response.body[:200])
    assert response.json()["error"].startswith("Requête invalide")


@pytest.mark.parametrize("sender", ["1", "visiteur-42", "0612345678", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])
def test_a_guessable_sender_id_is_refused_through_nginx(prod_stack, before_hostile, sender):
    """The id is the conversation's only credential, in this profile too."""
    response = prod_stack.post(json.dumps({"sender": sender, "message": "bonjour"}).encode())
    assert response.status == 400, (response.status, response.body[:200])
    assert response.json()["error"].startswith("Requête invalide")
    assert prod_stack.count_events(sender) == 0


@pytest.mark.parametrize("body", ODD_BODIES, ids=lambda b: repr(b[:24]))
def test_odd_but_well_formed_bodies_are_answered(prod_stack, before_hostile, body):
    response = prod_stack.post(body)
    assert response.status == 200, (response.status, response.body[:200])
    assert any(m.get("text") for m in response.json())


@pytest.mark.parametrize("message", ["", "   ", "\n\t \u00a0 \n"])
def test_empty_messages_through_nginx_get_a_polite_answer(prod_stack, before_hostile, message):
    assert texts(prod_stack.chat(new_sender("empty"), message)) == list(K.lines["empty"])


@pytest.mark.parametrize("size, chunked", [(100_000, False), (2_000_000, False), (2_000_000, True)],
                         ids=["100KB", "2MB", "2MB-chunked"])
def test_huge_bodies_are_refused_by_nginx_before_reaching_rasa(prod_stack, before_hostile, size, chunked):
    body = json.dumps({"sender": new_sender("huge"), "message": "é" * (size // 2)},
                      ensure_ascii=False).encode()
    started = time.monotonic()
    response = prod_stack.post(body, chunked=chunked)
    assert response.status == 413
    assert "trop long" in response.json()["error"]
    assert time.monotonic() - started < 5


def test_hostile_requests_around_the_body(prod_stack, before_hostile):
    url = f"{prod_stack.public_url}/webhooks/rest/webhook"
    ok_body = json.dumps({"sender": new_sender("odd"), "message": "bonjour"}).encode()
    cases = {
        "huge header": http_request(url, "POST", ok_body, {"Content-Type": "application/json",
                                                          "Cookie": "a=" + "b" * 20_000}),
        "PUT": http_request(url, "PUT", ok_body, {"Content-Type": "application/json"}),
        "DELETE": http_request(url, "DELETE"),
        "text/plain": http_request(url, "POST", ok_body, {"Content-Type": "text/plain"}),
        "form": http_request(url, "POST", b"sender=a&message=b",
                             {"Content-Type": "application/x-www-form-urlencoded"}),
        "query string": http_request(url + "?sender=<script>&x=%00", "POST", ok_body,
                                     {"Content-Type": "application/json"}),
    }
    for name, response in cases.items():
        assert response.status < 500, (name, response.status, response.body[:200])
    assert cases["huge header"].status == 400 and cases["PUT"].status == 403
    # No CORS preflight for these: a page elsewhere could post them from a visitor's browser.
    assert cases["text/plain"].status == 415 and cases["form"].status == 415


def test_after_the_hostile_input_the_stack_is_healthy_and_no_data_was_damaged(prod_stack, before_hostile):
    assert http_request(f"{prod_stack.public_url}/health").json() == {"status": "ok"}
    for index in range(2):
        assert http_request(f"{prod_stack.replica_url(index)}/").status == 200
    assert prod_stack.count_leads() == before_hostile["leads"]
    reference = before_hostile["reference"]
    assert prod_stack.count_events(reference) == before_hostile["reference_events"]
    assert prod_stack.count_events() > before_hostile["events"]  # the table is there and grew
    # The reference conversation goes on exactly where it was.
    assert texts(prod_stack.chat(reference, "/continue")) == list(K.steps[2].messages)
    # No stored message is longer than what the channel keeps.
    engine = prod_stack.tracker_engine()
    try:
        with engine.connect() as connection:
            stored = connection.execute(sa.text(
                "SELECT data FROM events WHERE type_name = 'user' AND sender_id LIKE 'hostile-%'")).scalars().all()
    finally:
        engine.dispose()
    assert stored and max(len(json.loads(data).get("text") or "") for data in stored) <= 5000


def test_rate_limit_answers_429_in_french(prod_stack, tmp_path):
    """The same template with the production limits on a second nginx, same replicas."""
    env = dict(prod_stack.env)
    public_port, actions_port = free_ports(2)
    # One message a minute: however slowly the 15 requests go, none is let through by the
    # rate refilling (at 2r/s, a loaded machine let a sixth one pass).
    env.update(RASA_PORT=str(public_port), ACTIONS_PORT=str(actions_port),
               NGINX_RATE_LIMIT="1r/m", NGINX_RATE_BURST="3", PROD_LOG_DIR=str(tmp_path))
    run_dir = Path(tempfile.mkdtemp(prefix="coach-prod-test."))
    render_nginx(env, run_dir)
    nginx = subprocess.Popen(
        ["bash", "-c", 'source scripts/prod_lib.sh && prod_exec_nginx "$1"', "_", str(run_dir)],
        cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                http_request(f"http://127.0.0.1:{env['RASA_PORT']}/nothing", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the second nginx did not start within 10 s")
        statuses, limited = [], None
        for _ in range(15):
            response = http_request(url, "POST", b"[]", {"Content-Type": "application/json"})
            statuses.append(response.status)
            if response.status == 429:
                limited = response
        assert statuses[:4] == [400] * 4  # 1 + burst of 3 pass (Rasa's own 400 for [])
        assert statuses[4:] == [429] * 11
        assert limited.json()["error"].startswith("Trop de messages")
        assert limited.headers.get("retry-after")
    finally:
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(run_dir, ignore_errors=True)


# ---------------------------------------------------------------------- faults
def test_both_action_servers_down_the_visitor_gets_a_short_french_apology_then_it_works_again(prod_stack):
    stack, visitor = prod_stack, new_sender("actions")
    stack.chat(visitor, "/start_coaching")
    started = time.monotonic()
    stack.stop_actions()
    try:
        for _ in range(2):
            reply = stack.chat(visitor, "/continue")
            assert texts(reply) == list(K.lines["action_error"])
        assert http_request(f"{stack.public_url}/health").status == 200
        for index in range(2):  # no crash
            assert stack.processes[f"rasa-{index + 1}"].poll() is None
    finally:
        stack.start_actions()
    again = stack.chat(visitor, "/continue")
    assert texts(again) == list(K.steps[1].messages)
    print(f"\nactions down and back: {time.monotonic() - started:.1f} s")


def contact_form(stack: ProdStack, sender: str, name: str, company: str, email: str, phone: str):
    stack.chat(sender, "je veux être rappelé par un consultant")
    for text in (name, company, email, phone, "le matin", "Choisir le partenaire"):
        stack.chat(sender, text)
    return stack.chat(sender, "Oui, j'accepte")


LEAD = dict(name="Capucine Spoolière", company="Tonnellerie Résiliente",
            email="capucine.spool@tonnellerie-resiliente.fr", phone="06 47 25 81 93")


@pytest.fixture(scope="module")
def spooled_visitor() -> str:
    return new_sender("spool")


def test_leads_database_down_the_lead_is_kept_then_written_exactly_once(prod_stack, spooled_visitor):
    stack, visitor = prod_stack, spooled_visitor
    leads_db = stack.settings.leads_db
    before = stack.count_leads()
    started = time.monotonic()
    set_database_reachable(leads_db, False)
    try:
        done = contact_form(stack, visitor, **LEAD)
        assert texts(done) == list(K.lines["contact_done"])  # told it is recorded
        files = list(stack.spool_dir.glob("*.json"))
        assert len(files) == 1
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(stack.spool_dir.stat().st_mode) == 0o700
        time.sleep(3)  # several replay attempts (action servers, worker) while still down
        assert list(stack.spool_dir.glob("*.json")) == files
        # The conversation is not stuck meanwhile.
        assert texts(stack.chat(visitor, "C'est quoi les quatre piliers ?"))[0] == K.topics["pillars"].messages[0]
    finally:
        set_database_reachable(leads_db, True)
    back = time.monotonic()
    deadline = time.monotonic() + 30
    while list(stack.spool_dir.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list(stack.spool_dir.glob("*.json")), "the spool was not replayed"
    written, outage = time.monotonic() - back, back - started
    time.sleep(2)  # let every replayer make one more pass
    replay = stack.sip_coach("spool", "replay")
    assert replay.returncode == 0 and "Aucune demande en attente" in replay.stdout
    assert stack.count_leads() == before + 1
    proofs = stack.scalar(stack.leads_engine,
                          "SELECT count(*) FROM lead_consents WHERE sender_id = :s", s=visitor)
    assert proofs == 1
    export = json.loads(stack.sip_coach("leads", "export", "--format", "json").stdout)
    [lead] = [lead for lead in export if lead["sender_id"] == visitor]
    assert lead["email"] == LEAD["email"] and lead["phone"] == "+33647258193"
    assert lead["consent"] is True
    print(f"\nleads DB down {outage:.1f} s (form filled meanwhile); spooled lead written "
          f"{written:.1f} s after the database came back")


def test_erase_also_clears_the_postgresql_tracker_store(prod_stack, spooled_visitor):
    stack = prod_stack
    assert stack.count_events(spooled_visitor) > 0
    assert stack.env["TRACKER_DB_URL"].startswith("postgresql")
    erased = stack.sip_coach("leads", "erase", "--email", LEAD["email"])
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith("Effacé : lead(s)")
    assert stack.count_events(spooled_visitor) == 0
    assert stack.scalar(stack.leads_engine, "SELECT count(*) FROM leads WHERE email = :e",
                        e=LEAD["email"]) == 0
    # The same visitor writing again starts afresh, without error.
    assert stack.chat(spooled_visitor, "bonjour")


def test_tracker_database_connections_dropped_the_conversation_continues(prod_stack):
    """What a PostgreSQL restart or failover does to the replicas' pooled connections."""
    stack, visitor = prod_stack, new_sender("pgdrop")
    stack.chat(visitor, "/start_coaching")
    stack.chat(visitor, "/continue")
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            terminate_backends(connection, stack.settings.tracker_db)
    finally:
        admin.dispose()
    shown = [texts(stack.chat(visitor, "/continue")) for _ in range(3)]  # both replicas, in turn
    assert shown == [list(step.messages) for step in K.steps[2:5]]
    assert stack.count_events(visitor) > 0


def test_redis_down_the_visitor_gets_a_short_french_apology_then_the_conversation_continues(prod_stack):
    stack, visitor = prod_stack, new_sender("redis")
    stack.chat(visitor, "/start_coaching")
    stack.chat(visitor, "/continue")
    stack.redis_proxy.cut()  # the lock store is unreachable: no message can be processed safely
    try:
        for _ in range(2):  # both replicas
            assert texts(stack.chat(visitor, "/continue")) == list(K.lines["action_error"])
    finally:
        stack.redis_proxy.restore()
    shown = [texts(stack.chat(visitor, "/continue")) for _ in range(2)]
    assert shown == [list(step.messages) for step in K.steps[2:4]]  # nothing lost, nothing skipped
    assert all(stack.processes[name].poll() is None for name in ("rasa-1", "rasa-2"))


def test_no_personal_data_in_any_log(prod_stack):
    secrets = [LEAD["name"], "Spoolière", LEAD["company"], LEAD["email"], "capucine.spool",
               "06 47 25 81 93", "0647258193", "+33647258193", "47 25 81 93"]
    for path in prod_stack.log_dir.iterdir():
        if path.is_file():
            content = path.read_text(errors="replace")
            for secret in secrets:
                assert secret not in content, f"{secret!r} in {path.name}"
    access = (prod_stack.log_dir / "nginx-access.log").read_text()
    assert "127.0.0.1 - " not in access  # no client address


def test_a_replica_killed_mid_conversation_the_conversation_continues_on_the_other(prod_stack):
    stack, visitor = prod_stack, new_sender("kill")
    stack.chat(visitor, "/start_coaching")
    stack.chat(visitor, "/continue")
    mark = mark_access_log(stack)
    started = time.monotonic()
    stack.stop("rasa-1", kill=True)  # SIGKILL: no goodbye
    shown = [texts(stack.chat(visitor, "/continue")) for _ in range(4)]
    assert shown == [list(step.messages) for step in K.steps[2:6]]
    dead, alive = (f"127.0.0.1:{port}" for port in stack.replica_ports)
    attempts = attempts_since(stack, mark)
    assert [tried[-1] for tried in attempts] == [alive] * 4  # all answered by the survivor
    assert any(tried == [dead, alive] for tried in attempts)  # nginx tried the dead one, moved on
    statuses = re.findall(r"POST /webhooks/rest/webhook (\d+)", logged_since(stack, mark))
    assert statuses == ["200"] * 4
    print(f"\nreplica killed, 4 turns on the other: {time.monotonic() - started:.1f} s")


def _fetch(url: str, method: str = "GET", body=None, headers=None):  # noqa: ANN001
    """(status, text, every Set-Cookie, location): the back office sets two cookies at login."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers or {})
        reply = connection.getresponse()
        return (reply.status, reply.read().decode("utf-8", "replace"), reply.headers.get_all("Set-Cookie") or [],
                reply.headers.get("Location", ""))
    finally:
        connection.close()


def test_the_back_office_through_nginx_under_admin_and_the_funnel_fed_by_rabbitmq(prod_stack):
    """Login through nginx at /admin/ (links and cookie under /admin), the inbox, and the
    funnel counting a conversation whose events went Rasa → RabbitMQ → the consumer → PostgreSQL."""
    import urllib.parse

    created = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "sip-coach"), "users", "add", "claire", "--password-stdin"],
        cwd=ROOT, env=prod_stack.env, input="un mot de passe solide\n", capture_output=True, text=True, timeout=60,
    )
    assert created.returncode == 0, created.stderr
    sender = str(uuid.uuid4())
    prod_stack.chat(sender, "/greet")
    prod_stack.chat(sender, "/start_coaching")
    base = prod_stack.public_url + "/admin"
    status, body, cookies, _ = _fetch(base + "/login")
    assert status == 200 and 'action="/admin/login"' in body
    login_cookie = next(c for c in cookies if c.startswith("sip_backoffice_login="))
    assert "path=/admin/login" in login_cookie.lower()
    token = re.search(r'name="login_csrf" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"login_csrf": token, "username": "claire", "password": "un mot de passe solide",
                                   "next": "/funnel"})
    status, body, cookies, location = _fetch(base + "/login", "POST", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": login_cookie.split(";")[0]})
    assert status == 303 and location == "/admin/funnel", (status, body[:300])
    session_cookie = next(c for c in cookies if c.startswith("sip_backoffice="))
    assert "path=/admin" in session_cookie.lower() and "httponly" in session_cookie.lower()
    assert "; secure" in session_cookie.lower()  # TLS is in front of nginx in production
    session = session_cookie.split(";")[0]
    status, body, _, _ = _fetch(base + "/leads", headers={"Cookie": session})
    assert status == 200 and 'href="/admin/leads.csv"' in body
    deadline = time.monotonic() + 60  # the consumer writes the events as they arrive
    while True:
        status, body, _, _ = _fetch(base + "/funnel", headers={"Cookie": session})
        assert status == 200
        started = re.search(r"Ont commencé la séance guidée</span>.*?</svg>\s*<span>(\d+)", body, re.S)
        if started and int(started.group(1)) >= 1:
            break
        assert time.monotonic() < deadline, body[:3000]
        time.sleep(0.5)
    events_engine = lambda: sa.create_engine(prod_stack.settings.pg_url(prod_stack.settings.events_db), future=True)  # noqa: E731
    assert prod_stack.scalar(events_engine, "SELECT count(*) FROM events WHERE sender_id = :s", s=sender) > 0
    # Minimised: none of Marc's or the visitor's words in the broker's events.
    assert prod_stack.scalar(events_engine, "SELECT count(*) FROM events WHERE data LIKE '%Bonjour%'") == 0
