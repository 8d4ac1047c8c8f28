"""Notices: e-mail to a local SMTP server (HTML + text), .eml files, webhook POST."""
import email
import hashlib
import hmac
import json
import threading
import time
from email import policy

import pytest

from bot.leads.notifier import NotifierConfig, NotifierConfigError
from bot.typography import french_spacing


def parse(envelope):
    return email.message_from_bytes(envelope.original_content, policy=policy.default)


def bodies(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_email_reaches_the_smtp_server_with_text_and_html(make_service, smtp_server, tracker, sub):
    smtp_server.start()
    svc = make_service(**smtp_server.config())
    tracker.conversation("conv-1", [("On monte un partenariat avec un confrère", "Formidable !")])
    lead_id = svc.submit(sub())
    report = svc.deliver_pending()
    assert report.sent and report.ok
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["consultant@salesinprogress.example"]
    message = parse(envelope)
    assert f"lead n°{lead_id}" in message["Subject"] and "chaud" in message["Subject"]
    assert message["Reply-To"] == "jeanne.martin@menuiserie-martin.fr"
    assert message["X-SIP-Lead-Id"] == str(lead_id)
    text, html = bodies(message)
    for body in (text, html):
        # the summary
        assert "Jeanne Martin" in body and "Menuiserie Martin" in body
        assert "jeanne.martin@menuiserie-martin.fr" in body
        assert "06 34 22 31 71" in body and "mardi matin" in body
        assert "80/100" in body
        assert "Pas encore un partenariat" in body  # the verdict code, in French
        # the diagnostic: four pillars as legs of a table, five points
        assert "La même envie" in body and "Le contrat" in body
        assert "Il manque deux pieds" in body  # balance and contract: the fixture's answers
        assert "Des intervenants autonomes" in body
        assert "Le choix du partenaire" in body
        # the transcript
        assert "On monte un partenariat avec un confrère" in body and french_spacing("Formidable !") in body
    assert "║" in text and "✗" in text  # the table's legs in plain text
    assert "dashed" in html and "Table à quatre pieds" in html  # and in HTML
    assert "<script" not in html


def test_html_escapes_what_the_visitor_typed(make_service, smtp_server, sub):
    smtp_server.start()
    svc = make_service(**smtp_server.config())
    svc.submit(sub(company="<b>ACME</b> & fils", need="<script>alert(1)</script>"))
    svc.deliver_pending()
    _text, html = bodies(parse(smtp_server.messages[0]))
    assert "&lt;b&gt;ACME&lt;/b&gt; &amp; fils" in html
    assert "<script>" not in html


def test_without_smtp_the_email_is_a_file_under_var_mail(tmp_path, make_service, sub):
    svc = make_service(mail_dir=tmp_path / "var" / "mail")
    lead_id = svc.submit(sub(diagnostic=None, need=None))
    assert svc.deliver_pending().sent
    files = list((tmp_path / "var" / "mail").glob("*.eml"))
    assert len(files) == 1 and files[0].name.startswith(f"lead-{lead_id}-")
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    text, html = bodies(message)
    assert "Pas de diagnostic" in text and "Pas de diagnostic" in html
    assert "(transcription indisponible)" in text


def test_default_mail_dir_is_var_mail(tmp_path):
    from bot.paths import PROJECT_ROOT

    assert NotifierConfig.from_env({}).mail_dir == PROJECT_ROOT / "var" / "mail"
    assert NotifierConfig.from_env({}).email_mode == "file"


def test_webhook_receives_the_json_lead(make_service, http_receiver, sub):
    http_receiver.start()
    svc = make_service(email_enabled=False, webhook_url=http_receiver.url, webhook_secret="s3cret")
    lead_id = svc.submit(sub())
    assert svc.deliver_pending().sent
    assert len(http_receiver.requests) == 1
    request = http_receiver.requests[0]
    payload = request["json"]
    assert payload["event"] == "lead.created"
    lead = payload["lead"]
    assert lead["id"] == lead_id and lead["email"] == "jeanne.martin@menuiserie-martin.fr"
    assert lead["consent"] is True and lead["qualification"] == "hot"
    assert lead["missing_pillars"] == ["balance", "contract"]
    assert payload["diagnostic"]["pillars_present"] == 2
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["idempotency-key"] == payload["delivery_id"]
    # Signed with a timestamp: a receiver refuses an old one, so a captured call cannot be replayed.
    timestamp = headers["x-sip-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    assert headers["x-sip-signature"] == f"sha256={expected}"


class MisbehavingServer:
    """A local HTTP server that answers a redirect, or trickles its headers."""

    def __init__(self, mode: str) -> None:
        import socket as socket_module

        self.mode = mode
        self.requests = []
        self.listener = socket_module.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            with client:
                data = client.recv(65536)
                self.requests.append(data)
                if self.mode == "redirect":
                    client.sendall(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")
                else:  # one header line every 0.5 s, for ever
                    client.sendall(b"HTTP/1.1 200 OK\r\n")
                    while not self.stopped.is_set():
                        try:
                            client.sendall(b"X-Slow: 1\r\n")
                        except OSError:
                            break
                        self.stopped.wait(0.5)

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()
        self.thread.join(5)


def test_a_webhook_redirect_is_a_failure_never_followed(make_service, sub):
    server = MisbehavingServer("redirect")
    try:
        svc = make_service(email_enabled=False, webhook_url=server.url)
        svc.submit(sub())
        report = svc.deliver_pending()
        assert not report.sent and (report.failed or report.retry_later)
        assert len(server.requests) == 1 and server.requests[0].startswith(b"POST /hook")
    finally:
        server.close()


def test_a_trickling_webhook_is_cut_at_the_total_deadline(make_service, sub):
    server = MisbehavingServer("trickle")
    try:
        svc = make_service(email_enabled=False, webhook_url=server.url, timeout=1.5)
        svc.submit(sub())
        started = time.monotonic()
        report = svc.deliver_pending()
        assert time.monotonic() - started < 6  # one line every 0.5 s would hold it for ever
        assert not report.sent
    finally:
        server.close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://h/", "http://"])
def test_a_webhook_url_that_is_not_http_is_refused_at_start_up(url):
    from bot.leads.notifier import NotifierConfigError

    with pytest.raises(NotifierConfigError, match="http:// ou https://"):
        NotifierConfig.from_env({"LEADS_WEBHOOK_URL": url})


def test_config_from_env():
    cfg = NotifierConfig.from_env({
        "SMTP_HOST": "smtp.example.org", "SMTP_PORT": "587", "SMTP_USER": "u",
        "SMTP_PASSWORD": "p", "SMTP_FROM": "Marc <marc@example.org>",
        "CONSULTANT_EMAIL": "a@example.org, b@example.org", "LEADS_WEBHOOK_URL": "https://h/x",
    })
    assert cfg.smtp_starttls is True and cfg.smtp_port == 587
    assert cfg.consultant_emails == ("a@example.org", "b@example.org")
    assert cfg.channels == ["email", "webhook"] and cfg.email_mode == "smtp"
    assert "smtp_password" not in repr(cfg)
    assert NotifierConfig.from_env({"SMTP_HOST": "h"}).smtp_port == 25
    assert NotifierConfig.from_env({"SMTP_HOST": "h", "SMTP_STARTTLS": "oui"}).smtp_port == 587
    assert NotifierConfig.from_env({"LEADS_NOTIFY_EMAIL": "false"}).channels == []
    with pytest.raises(NotifierConfigError):
        NotifierConfig.from_env({"SMTP_PORT": "vingt-cinq"})
    with pytest.raises(NotifierConfigError):
        NotifierConfig.from_env({"SMTP_STARTTLS": "peut-être"})


def test_smtp_without_recipient_is_a_clear_failure(make_service, smtp_server, sub, engine):
    smtp_server.start()
    config = smtp_server.config()
    config["consultant_emails"] = ()
    svc = make_service(**config)
    svc.submit(sub())
    report = svc.deliver_pending()
    assert report.retry_later and not smtp_server.messages
    row = svc.outbox.rows()[0]
    assert "CONSULTANT_EMAIL" in row.last_error
