"""PostgreSQL for the tests that need it (leads, tracker store), registered in tests/conftest.py.

``LEADS_TEST_PG_URL`` (default ``postgresql+psycopg2://postgres@localhost:5432/test``) is the
maintenance database; the session creates a throw-away database from it (dropped at the end) and
each test starts with its schema emptied. If the server cannot be reached the PostgreSQL tests
are skipped, except under ``CI=true`` where they fail.
"""
from __future__ import annotations

import os
import uuid
from typing import Optional

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "LEADS_TEST_PG_URL", "postgresql+psycopg2://postgres@localhost:5432/test"
)


def _postgres_reachable() -> Optional[str]:
    engine = sa.create_engine(PG_ADMIN_URL, future=True)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    problem = _postgres_reachable()
    if problem is None:
        return True
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL} under CI=true: {problem}")
    pytest.skip(f"PostgreSQL unreachable ({problem})")


@pytest.fixture(scope="session")
def postgres_database(postgres_available) -> str:
    """One throw-away PostgreSQL database for the whole test session."""
    name = f"sipcoach_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_database) -> str:
    """That database, emptied for one test (schema ``public`` dropped and re-created)."""
    name = make_url(postgres_database).database
    engine = sa.create_engine(postgres_database, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_database
