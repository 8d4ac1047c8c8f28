"""Fixes for costs and failures of Rasa 3.6, applied in the Rasa server process.

Loaded with the REST channel (credentials.yml names `channels.rest`), so they apply exactly
where the server runs; measured in bench/ (bench/results.md, "experiments").

1. Rasa checks each action-server reply with `jsonschema.validate(reply, schema)`, which
   re-validates the schema against its meta-schema and builds a new validator on every call
   (~15 ms of CPU per call here). We build one validator per schema and reuse it: same checks,
   same exception (jsonschema's best-matching error).
2. The default SQLite tracker store commits once per message with SQLite's default rollback
   journal and synchronous=FULL: several fsyncs while every other conversation waits. WAL with
   synchronous=NORMAL needs none per commit (durable at checkpoints; a power cut may lose the
   last commits, never corrupts the file). Only the tracker store's own connections are
   touched: any other SQLite file this process or a test opens (the leads database) keeps its
   journal mode, since WAL is written into the file and stays for every program that opens it
   afterwards. SQLAlchemy 1.4
   (Rasa's pin) gives SQLite files a NullPool: a new connection, its set-up and its closing for
   every read and every write of a tracker; the tracker store gets a pool of kept connections
   instead, as SQLAlchemy 2.0 does by default (bench/results.md: 19 % of the server's samples
   were the tracker store, a fifth of them opening and closing connections).
3. Rasa finds an event's class from its name (`Event.resolve_by_type`) by walking the whole
   tree of `Event` subclasses, with an `inspect.isabstract` call per class, for every event it
   reads: every stored event of a conversation on each message (the tracker store replays them)
   and every event an action returns. That walk was 60 % of reading a 100-event conversation
   (bench/micro.py). The name-to-class table is built once, and again if a name is missing (an
   event class imported later); unknown names still go to Rasa's own code (its `topic`
   compatibility, default and error).
4. The PostgreSQL tracker store (production profile) keeps a pool of connections. After a
   PostgreSQL restart or failover every pooled connection is dead, and Rasa's fail-safe store
   would answer the next messages from an empty in-memory tracker: the visitor's conversation
   seems forgotten. `pool_pre_ping` checks a connection before lending it (one `SELECT 1`)
   and replaces it if it is dead.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

_applied = False


def _cache_jsonschema_validators() -> None:
    import jsonschema
    from jsonschema import exceptions, validators

    original = jsonschema.validate
    cache: dict[str, Any] = {}

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True, default=repr)
        validator = cache.get(key)
        if validator is None:
            validator_cls = validators.validator_for(schema)
            validator_cls.check_schema(schema)
            validator = cache[key] = validator_cls(schema)
        error = exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate


class _WalConnection(sqlite3.Connection):
    """A tracker-store connection: WAL journal, synchronous=NORMAL (2. above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=NORMAL")


def _cache_event_classes() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    by_name: dict[str, type] = {}

    def index() -> None:
        by_name.clear()
        for cls in all_subclasses(Event):  # Rasa's order: the first class with a name wins
            by_name.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = by_name.get(type_name)
        if cls is None:
            index()
            cls = by_name.get(type_name)
        return cls if cls is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _is_sqlite_file(url: Any) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def _tracker_store_engine_options() -> None:
    from rasa.core import tracker_store
    from sqlalchemy.pool import QueuePool

    original = tracker_store.create_engine_kwargs

    def create_engine_kwargs(url: Any) -> dict:
        kwargs = original(url)
        if tracker_store.is_postgresql_url(url):
            kwargs["pool_pre_ping"] = True
        elif _is_sqlite_file(url):
            # SQLAlchemy 2.0's default for SQLite files (Rasa pins 1.4, whose NullPool opens,
            # sets up and closes a connection for every read and every write).
            kwargs["poolclass"] = QueuePool
            kwargs.setdefault("connect_args", {}).update(
                check_same_thread=False, factory=_WalConnection
            )
        return kwargs

    tracker_store.create_engine_kwargs = create_engine_kwargs


def apply() -> None:
    """Idempotent: the channel module may be imported more than once."""
    global _applied
    if not _applied:
        _cache_jsonschema_validators()
        _tracker_store_engine_options()
        _cache_event_classes()
        _applied = True
