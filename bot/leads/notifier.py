"""Notices to the consultant: an e-mail (SMTP, or a ``.eml`` file) and/or a webhook POST.

Configuration, from the environment:

=======================  ==============================================================
``SMTP_HOST``            SMTP server; **unset: the e-mail is written as a ``.eml`` file**
                         under ``LEADS_MAIL_DIR`` (default ``var/mail/``) for a local demo
``SMTP_PORT``            default 587 when ``SMTP_STARTTLS`` is true, else 25; 465 = implicit TLS
``SMTP_STARTTLS``        ``true``/``false``; default true on port 587, false otherwise
``SMTP_USER``            login (optional), with ``SMTP_PASSWORD``
``SMTP_FROM``            sender, default ``Coach Partenariat <coach-partenariat@localhost>``
``CONSULTANT_EMAIL``     recipient(s), comma-separated; required with ``SMTP_HOST``
``LEADS_NOTIFY_EMAIL``   ``false`` to send no e-mail at all (default true)
``LEADS_WEBHOOK_URL``    when set, the JSON lead is POSTed there (http:// or https:// only,
                         checked at start-up)
``LEADS_WEBHOOK_SECRET`` optional: adds ``X-SIP-Timestamp`` and ``X-SIP-Signature:
                         sha256=<HMAC of "<timestamp>.<body>">`` (docs/leads.md)
``NOTIFY_TIMEOUT``       deadline of one delivery in seconds, in all (default 15); a webhook's
                         3xx is a failure (never followed)
=======================  ==============================================================

Every message carries the outbox row's ``delivery_key``: ``Message-ID`` of the e-mail,
``Idempotency-Key`` header of the webhook, name of the ``.eml`` file (so a retry rewrites
the same file). Nothing here logs personal data.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import http.client
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.typography import french_spacing

from bot.paths import PROJECT_ROOT, project_path

log = logging.getLogger(__name__)

DEFAULT_FROM = "Coach Partenariat <coach-partenariat@localhost>"
DEFAULT_MAIL_DIR = "var/mail"
FILE_RECIPIENT = "consultant@localhost"

_TRUE = {"1", "true", "yes", "oui", "on", "vrai"}
_FALSE = {"0", "false", "no", "non", "off", "faux"}


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256, hex, of ``<timestamp>.<body>`` (docs/leads.md shows how to check it: the
    receiver refuses a timestamp more than five minutes old, so a captured request cannot be
    replayed later)."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def check_webhook_url(url: str) -> str:
    """The URL, or a French NotifierConfigError: only http(s) with a host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifierConfigError(
            f"LEADS_WEBHOOK_URL doit être une adresse http:// ou https:// (reçu : {url!r})"
        )
    return url


def _post_with_deadline(url: str, body: bytes, headers: Dict[str, str], timeout: float) -> int:
    """POST and read the status line and headers within ``timeout`` seconds in all (a socket
    timeout alone is per read: a server trickling a header line every few seconds would hold
    a delivery for minutes). No redirect is followed."""
    parts = urllib.parse.urlsplit(check_webhook_url(url))
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read up
            except OSError:
                pass

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        if not expired.is_set():
            raise ConnectionError(f"webhook injoignable : {type(exc).__name__}") from None
    finally:
        timer.cancel()
        connection.close()
    if expired.is_set():  # cut short (the headers seem to end when the socket is shut down)
        raise ConnectionError(f"webhook : pas de réponse complète en {timeout:g} s")
    return status


class NotifierConfigError(ValueError):
    """The notification settings are incomplete or wrong (message in French)."""


def _webhook_url(env: Mapping[str, str]) -> Optional[str]:
    url = (env.get("LEADS_WEBHOOK_URL") or "").strip()
    return check_webhook_url(url) if url else None


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise NotifierConfigError(f"{name} doit valoir true ou false (reçu : {raw!r})")


@dataclass(frozen=True)
class NotifierConfig:
    smtp_host: Optional[str] = None
    smtp_port: int = 25
    smtp_user: Optional[str] = None
    smtp_password: Optional[str] = field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_from: str = DEFAULT_FROM
    consultant_emails: Tuple[str, ...] = ()
    email_enabled: bool = True
    webhook_url: Optional[str] = None
    webhook_secret: Optional[str] = field(default=None, repr=False)
    mail_dir: Path = PROJECT_ROOT / DEFAULT_MAIL_DIR
    timeout: float = 15.0

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "NotifierConfig":
        env = os.environ if env is None else env
        host = (env.get("SMTP_HOST") or "").strip() or None
        raw_port = (env.get("SMTP_PORT") or "").strip()
        if raw_port:
            try:
                port = int(raw_port)
            except ValueError:
                raise NotifierConfigError(
                    f"SMTP_PORT doit être un numéro de port (reçu : {raw_port!r})"
                ) from None
            starttls = env_bool(env, "SMTP_STARTTLS", port == 587)
        else:
            starttls = env_bool(env, "SMTP_STARTTLS", False)
            port = 587 if starttls else 25
        recipients = tuple(
            a.strip() for a in (env.get("CONSULTANT_EMAIL") or "").split(",") if a.strip()
        )
        try:
            timeout = float(env.get("NOTIFY_TIMEOUT") or 15)
        except ValueError:
            raise NotifierConfigError("NOTIFY_TIMEOUT doit être un nombre de secondes") from None
        return cls(
            smtp_host=host,
            smtp_port=port,
            smtp_user=(env.get("SMTP_USER") or "").strip() or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=starttls,
            smtp_from=(env.get("SMTP_FROM") or "").strip() or DEFAULT_FROM,
            consultant_emails=recipients,
            email_enabled=env_bool(env, "LEADS_NOTIFY_EMAIL", True),
            webhook_url=_webhook_url(env),
            webhook_secret=env.get("LEADS_WEBHOOK_SECRET") or None,
            mail_dir=project_path(env.get("LEADS_MAIL_DIR") or DEFAULT_MAIL_DIR, env),
            timeout=timeout,
        )

    @property
    def channels(self) -> List[str]:
        """The channels a new lead is announced on."""
        channels = []
        if self.email_enabled:
            channels.append("email")
        if self.webhook_url:
            channels.append("webhook")
        return channels

    @property
    def email_mode(self) -> str:
        return "smtp" if self.smtp_host else "file"


_envs: Dict[str, Environment] = {}


def templates(package: str = "bot.leads") -> Environment:
    """The e-mail templates of ``package`` (its ``templates/`` folder): HTML autoescaped, an
    unknown variable an error. Also used for the booking e-mails (bot/booking/notices.py)."""
    if package not in _envs:
        _envs[package] = Environment(
            loader=PackageLoader(package, "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2", "html")),
            undefined=StrictUndefined,
            trim_blocks=False,
            keep_trailing_newline=True,
        )
    return _envs[package]


def render_email_bodies(report: Dict[str, Any]) -> Tuple[str, str]:
    """(plain text, HTML) bodies of the notice for ``report`` (see ``report.lead_report``)."""
    env = templates()
    # French spacing (bot/typography.py): « Téléphone : » never leaves its colon on the next line.
    return (
        french_spacing(env.get_template("lead_email.txt.j2").render(**report)),
        french_spacing(env.get_template("lead_email.html.j2").render(**report)),
    )


def email_subject(report: Dict[str, Any]) -> str:
    lead, q = report["lead"], report["qualification"]
    what = "Retour d’un contact" if report["event"] == "lead.returned" else "Nouveau contact"
    company = f" — {lead['company']}" if lead.get("company") else ""
    return (
        f"[Coach Partenariat] {what} {q['label_fr']} ({q['score']}/100) : "
        f"lead n°{lead['id']}{company}"
    )


class Notifier:
    def __init__(self, config: Optional[NotifierConfig] = None) -> None:
        self.config = config or NotifierConfig.from_env()

    @property
    def channels(self) -> List[str]:
        return self.config.channels

    # ----------------------------------------------------------------- e-mail
    def build_email(self, report: Dict[str, Any], delivery_key: str) -> EmailMessage:
        text, html = render_email_bodies(report)
        recipients = self.config.consultant_emails or (FILE_RECIPIENT,)
        message = EmailMessage()
        # RFC 2047 by email.header: the default folder of Python 3.10 loses the space
        # between two adjacent non-ASCII words ("n°1 —").
        message.set_raw("Subject", Header(email_subject(report), "utf-8", header_name="Subject").encode())
        message["From"] = self.config.smtp_from
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{delivery_key}@coach-partenariat.sip>"
        message["X-SIP-Lead-Id"] = str(report["lead"]["id"])
        message["X-SIP-Event"] = report["event"]
        reply_to = report["lead"].get("email")
        if reply_to and reply_to.isascii():
            message["Reply-To"] = reply_to
        message.set_content(text, subtype="plain", charset="utf-8")
        message.add_alternative(html, subtype="html", charset="utf-8")
        return message

    def send_email(self, report: Dict[str, Any], delivery_key: str) -> str:
        """Send (SMTP) or write (``.eml``) the notice; return where it went."""
        message = self.build_email(report, delivery_key)
        if self.config.email_mode == "smtp" and not self.config.consultant_emails:
            raise NotifierConfigError("SMTP_HOST est défini mais CONSULTANT_EMAIL est vide")
        return self.deliver(message, list(self.config.consultant_emails), report["lead"]["id"], delivery_key)

    def deliver(self, message: EmailMessage, recipients: List[str], lead_id: int, delivery_key: str) -> str:
        """Send ``message`` to ``recipients`` by SMTP, or write it as a ``.eml`` file (demo
        mode: no SMTP_HOST); return where it went."""
        if self.config.email_mode == "file":
            return str(self.write_eml(message, lead_id, delivery_key))
        cfg = self.config
        context = ssl.create_default_context()
        if cfg.smtp_port == 465:
            client = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout, context=context)
        else:
            client = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout)
        with client:
            client.ehlo()
            if cfg.smtp_starttls and cfg.smtp_port != 465:
                client.starttls(context=context)
                client.ehlo()
            if cfg.smtp_user:
                client.login(cfg.smtp_user, cfg.smtp_password or "")
            refused = client.send_message(message, from_addr=None, to_addrs=recipients)
        if refused and len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        return f"smtp://{cfg.smtp_host}:{cfg.smtp_port}"

    def eml_files(self, lead_id: int) -> List[Path]:
        directory = self.config.mail_dir
        if not directory.is_dir():
            return []
        return sorted(directory.glob(f"lead-{int(lead_id)}-*.eml"))

    def write_eml(self, message: EmailMessage, lead_id: int, delivery_key: str) -> Path:
        directory = self.config.mail_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"lead-{int(lead_id)}-{delivery_key}.eml"
        temporary = path.with_suffix(".eml.tmp")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)  # a retry rewrites the same file: never two copies
        return path

    # ----------------------------------------------------------------- webhook
    def post_webhook(self, payload: Dict[str, Any], delivery_key: str) -> int:
        url = self.config.webhook_url
        if not url:
            raise NotifierConfigError("LEADS_WEBHOOK_URL n’est pas défini")
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "sip-coach/1",
            "Idempotency-Key": delivery_key,
            "X-SIP-Event": str(payload.get("event", "")),
        }
        if self.config.webhook_secret:
            timestamp = str(int(time.time()))
            headers["X-SIP-Timestamp"] = timestamp
            headers["X-SIP-Signature"] = f"sha256={webhook_signature(self.config.webhook_secret, timestamp, body)}"
        status = _post_with_deadline(url, body, headers, self.config.timeout)
        if 300 <= status < 400:
            # Never followed: urllib would resend it as a GET without the lead.
            raise RuntimeError(f"le webhook a répondu HTTP {status} (redirection : mettez l’adresse finale dans LEADS_WEBHOOK_URL)")
        if not 200 <= status < 300:
            raise RuntimeError(f"le webhook a répondu HTTP {status}")
        return status
