"""What the back office reads from the environment (documented in docs/backoffice.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from bot.leads.db import leads_db_url
from bot.leads.transcript import tracker_db_url
from bot.paths import PROJECT_ROOT as ROOT, absolute_sqlite_url

DEFAULT_PORT = 8001
DEFAULT_EVENTS_DB_URL = "sqlite:///var/events.sqlite3"


class SettingsError(ValueError):
    """A setting that cannot be used, said in French."""


def _number(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} doit être un nombre entier (reçu « {raw} »)") from None
    if value < minimum:
        raise SettingsError(f"{name} doit valoir au moins {minimum} (reçu {value})")
    return value


@dataclass(frozen=True)
class BackofficeSettings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # Behind nginx under /admin/ (production profile): the prefix of every link and cookie.
    root_path: str = ""
    # "auto": Secure when the request came over HTTPS (X-Forwarded-Proto from nginx).
    secure_cookie: str = "auto"
    # X-Forwarded-For / -Proto from 127.0.0.1 believed only behind nginx (production profile):
    # otherwise any local client could pick its own address and dodge the login limit.
    trust_proxy: bool = False
    idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    leads_db_url: str = ""
    tracker_db_url: str = ""
    # The SQL event broker's database (endpoints.yml), or where the RabbitMQ consumer writes.
    events_db_url: str = ""
    markers_dir: str = str(ROOT / "markers")
    reviewed_nlu_path: str = str(ROOT / "data" / "nlu" / "reviewed.yml")

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "BackofficeSettings":
        env = os.environ if env is None else env
        secure = (env.get("BACKOFFICE_SECURE_COOKIE") or "auto").strip().lower()
        if secure not in ("auto", "true", "false"):
            raise SettingsError("BACKOFFICE_SECURE_COOKIE vaut auto, true ou false")
        root_path = (env.get("BACKOFFICE_ROOT_PATH") or "").strip().rstrip("/")
        if root_path and not root_path.startswith("/"):
            raise SettingsError("BACKOFFICE_ROOT_PATH commence par « / » (par exemple /admin)")
        trust = (env.get("BACKOFFICE_TRUST_PROXY") or "false").strip().lower()
        if trust not in ("true", "false"):
            raise SettingsError("BACKOFFICE_TRUST_PROXY vaut true ou false")
        return cls(
            trust_proxy=trust == "true",
            host=(env.get("BACKOFFICE_HOST") or "127.0.0.1").strip(),
            port=_number(env, "BACKOFFICE_PORT", DEFAULT_PORT),
            root_path=root_path,
            secure_cookie=secure,
            idle_minutes=_number(env, "BACKOFFICE_IDLE_MINUTES", 30),
            session_max_hours=_number(env, "BACKOFFICE_SESSION_MAX_HOURS", 12),
            login_max_failures=_number(env, "BACKOFFICE_LOGIN_MAX_FAILURES", 5),
            login_window_minutes=_number(env, "BACKOFFICE_LOGIN_WINDOW_MINUTES", 15),
            leads_db_url=leads_db_url(env),
            tracker_db_url=tracker_db_url(env),
            events_db_url=absolute_sqlite_url(env.get("EVENTS_DB_URL") or DEFAULT_EVENTS_DB_URL, env),
            markers_dir=env.get("MARKERS_DIR") or str(ROOT / "markers"),
            reviewed_nlu_path=env.get("REVIEWED_NLU_PATH") or str(ROOT / "data" / "nlu" / "reviewed.yml"),
        )
