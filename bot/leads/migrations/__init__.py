"""Alembic migrations of the leads database (applied by ``bot.leads.db.upgrade_database``)."""
