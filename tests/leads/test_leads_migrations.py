"""Migrations: up from empty, idempotent, down and up again, and in step with the models."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.leads.db import (
    VERSION_TABLE, current_revision, include_name, head_revision, make_engine, upgrade_database,
)
from bot.leads.models import Base

TABLES = {"leads", "lead_senders", "lead_consents", "lead_diagnostics", "lead_notes", "lead_outbox"}


def test_upgrade_from_empty_creates_every_table(empty_db_url):
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        assert upgrade_database(empty_db_url) == head_revision()
        names = set(sa.inspect(engine).get_table_names())
        assert TABLES | {VERSION_TABLE} <= names
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(db_url):
    assert upgrade_database(db_url) == head_revision()


def test_models_and_migrations_agree(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "version_table": VERSION_TABLE,
                      "include_name": include_name},
            )
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_downgrade_to_base_then_up_again(db_url):
    from alembic import command
    from bot.leads.db import alembic_config

    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "base")
        assert not TABLES & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert upgrade_database(db_url) == head_revision()


def test_default_sqlite_url_creates_var(tmp_path, monkeypatch):
    # the current directory is tmp_path (conftest): the default URL is var/leads.sqlite3
    assert upgrade_database() == head_revision()
    assert (tmp_path / "var" / "leads.sqlite3").is_file()
