"""`--experiment sqlite-wal`: SQLite connections in WAL mode with synchronous=NORMAL.

Since measured, this is part of the product for the tracker store's own connections
(`channels/server_tuning.py`, loaded by our Rasa server). The experiment, as it was measured,
puts every SQLite connection SQLAlchemy opens in the server process in WAL mode, so it applies
to any served bot, the stock one included.
"""
from typing import Any


def apply() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _wal(dbapi_connection: Any, connection_record: Any) -> None:  # noqa: ARG001
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
