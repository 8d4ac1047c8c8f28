"""Where the project's files are: every relative path of the configuration (the SQLite files
of `LEADS_DB_URL` and `TRACKER_DB_URL`, `LEADS_MAIL_DIR`, `LEADS_SPOOL_DIR`) is relative to the
project's root, never to the current directory. `sip-coach leads erase` run from /tmp must clear
the same files as the servers `make run` started from the root.

`COACH_HOME` names another root (a deployment that keeps `var/` elsewhere).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

from sqlalchemy.engine import make_url

# bot/ sits in the project root (an editable install: `pip install -e .`).
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def project_root(env: Optional[Mapping[str, str]] = None) -> Path:
    env = os.environ if env is None else env
    home = (env.get("COACH_HOME") or "").strip()
    return Path(home).expanduser().resolve() if home else PROJECT_ROOT


def project_path(value: str | os.PathLike, env: Optional[Mapping[str, str]] = None) -> Path:
    """`value` as an absolute path, a relative one taken from the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else project_root(env) / path


def absolute_sqlite_url(url: str, env: Optional[Mapping[str, str]] = None) -> str:
    """An SQLite file URL with a relative path made absolute from the project root; any other
    URL (PostgreSQL, in-memory SQLite, `file:` URIs) unchanged."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:") or Path(database).expanduser().is_absolute():
        return url
    return parsed.set(database=str(project_path(database, env))).render_as_string(hide_password=False)
