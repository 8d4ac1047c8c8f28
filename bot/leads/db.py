"""Engine and session factory of the leads database, and its migrations.

``LEADS_DB_URL`` is an SQLAlchemy URL; the default ``sqlite:///var/leads.sqlite3`` is
relative to the project root (bot/paths.py), whatever the current directory, and its
directory is created when missing. PostgreSQL: ``postgresql+psycopg2://user@host/db``.

Usage is one :class:`~sqlalchemy.orm.Session` per unit of work::

    factory = session_factory(make_engine(url))
    with session_scope(factory) as session:   # commits, or rolls back on error
        ...

The schema is created and upgraded by Alembic only: :func:`upgrade_database`
(also ``sip-coach db upgrade``, called by ``make run``).
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

DEFAULT_LEADS_DB_URL = "sqlite:///var/leads.sqlite3"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "leads_alembic_version"


def leads_db_url(env: Optional[Mapping[str, str]] = None) -> str:
    from bot.paths import absolute_sqlite_url

    env = os.environ if env is None else env
    return absolute_sqlite_url(env.get("LEADS_DB_URL") or DEFAULT_LEADS_DB_URL, env)


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def ensure_sqlite_dir(url: str) -> None:
    """Create the directory of an SQLite file database when it does not exist yet."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        if not u.database.startswith("file:"):
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def sqlite_file_missing(url: str) -> bool:
    """True when ``url`` names an SQLite file that does not exist (nothing to read)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return False
    if u.database.startswith("file:"):
        return False
    return not Path(u.database).expanduser().exists()


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: Optional[str] = None, *, create_dir: bool = True, **kwargs) -> Engine:
    """A 2.0-style engine for ``url`` (default: :func:`leads_db_url`).

    SQLite: foreign keys on (erasure cascades), a 30 s busy timeout, and usable from the
    worker threads the Rasa actions run in. PostgreSQL: ``pool_pre_ping``.
    """
    url = url or leads_db_url()
    backend = make_url(url).get_backend_name()
    options = dict(future=True)
    if backend == "sqlite":
        if create_dir:
            ensure_sqlite_dir(url)
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        options["pool_pre_ping"] = True
    options.update(kwargs)
    engine = sa.create_engine(url, **options)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close."""
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    """An Alembic ``Config`` pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal '%' in a URL (encoded password) must be doubled.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def include_name(name, type_, parent_names) -> bool:  # noqa: ANN001
    """Alembic filter: only this package's tables (the database may also hold Rasa's
    ``events`` table, and SQLite has ``sqlite_sequence``)."""
    if type_ == "table":
        from bot.leads.models import Base

        return name in Base.metadata.tables
    return True


def upgrade_database(url: Optional[str] = None, revision: str = "head") -> str:
    """Apply the Alembic migrations to ``url`` (default ``LEADS_DB_URL``); return the revision."""
    from alembic import command

    url = url or leads_db_url()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
        current = current_revision(engine)
    finally:
        engine.dispose()
    log.info("leads database upgraded to %s", current)
    return current or ""


def current_revision(engine: Engine) -> Optional[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        )
        return context.get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
