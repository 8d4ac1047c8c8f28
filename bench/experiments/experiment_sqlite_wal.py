"""`--experiment sqlite-wal`: SQLite connections in WAL mode with synchronous=NORMAL.

Rasa's SQL tracker store commits once per message, synchronously, on the event loop: in
SQLite's default mode (rollback journal, synchronous=FULL) each commit waits for several
fsyncs, and every other conversation waits with it. WAL + synchronous=NORMAL needs no fsync
per commit (durable at checkpoints; a power cut may lose the last commits, never corrupts).
"""


def apply() -> None:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return

    @event.listens_for(Engine, "connect")
    def _wal(dbapi_connection, connection_record):  # noqa: ARG001
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
