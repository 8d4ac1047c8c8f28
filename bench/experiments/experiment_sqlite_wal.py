"""`--experiment sqlite-wal`: SQLite connections in WAL mode with synchronous=NORMAL.

Since measured, this is part of the product (`channels/server_tuning.py`, loaded by our Rasa
server); the experiment applies the same code to any served bot, the stock one included.
"""
from channels.server_tuning import _sqlite_wal


def apply() -> None:
    _sqlite_wal()
