"""Engines for the two supported databases, a statement/commit counter, and the Alembic upgrade.

SQLite: WAL journal, a busy timeout, every write transaction opened with ``BEGIN IMMEDIATE`` so that two
writers queue on the database lock instead of failing halfway through, and ``synchronous=NORMAL``.
PostgreSQL: the psycopg 3 driver, ``pool_pre_ping`` (a restarted server costs one failed call, not every
pooled connection); row locks (``FOR UPDATE [SKIP LOCKED]``) serialise writers.

The durability trade of ``synchronous=NORMAL`` in WAL mode, stated plainly: a commit is written to the WAL
but not fsynced; the WAL is fsynced at each checkpoint. A process crash (kill -9, an exception, an OOM kill)
loses nothing, because the WAL is in the operating system's cache. A power loss or kernel crash may lose the
last commits since the last checkpoint, never tear one: the database comes back consistent, as of a slightly
earlier moment. What that means for the saga: a lost ``submitting`` commit is not harmful when the power cut
came before the create was sent; if it came after, the ledger may say ``pending`` for an order the 3PL has.
The next run sends it again with the same reference, and the 3PL's duplicate-reference check (ShipBob: 422
duplicate ``reference_id``; SFTP: same file name) turns that into "already there", so the order is recorded
as submitted, not duplicated. A lost 3PL id is recovered the same way (lookup by reference); a lost
``exported`` means the Linnworks tag is written again (idempotent). So the saga's rules still hold on SQLite
provided the 3PL refuses duplicate references, which both supported 3PLs do; a deployment that cannot accept
this uses PostgreSQL (``synchronous_commit=on`` by default), where a commit survives a power cut.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from psycopg.types.array import ListBinaryDumper
from sqlalchemy.engine import URL, Engine

from ledger._errors import LedgerUnavailableError

__all__ = [
    "BEGIN_MODE",
    "StatementCounter",
    "json_text",
    "make_engine",
    "migrate",
    "normalise_url",
    "unavailable_as_error",
]

BEGIN_MODE = "ledger_sqlite_begin"
"""Execution option read when a SQLite transaction begins: ``"IMMEDIATE"`` (default) or ``"DEFERRED"``."""

_BUSY_TIMEOUT_MS = 30_000
_MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number; it only has to be the same for every process migrating the same database.
_MIGRATION_LOCK_KEY = 0x6C77_3370


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``; a bare ``postgresql://`` or ``postgres://`` uses the psycopg 3 driver.

    Raises:
        ValueError: for in-memory SQLite (each connection would see its own empty database).
    """
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError(
            "the ledger needs a SQLite file (sqlite:///path/ledger.db), not an in-memory database"
        )
    return parsed


def _json_loads(text: str | bytes) -> Any:
    # Most JSON cells are an empty list (an order's tracking numbers, lines and shipments until it ships):
    # every order row read decoded three of them. The others are read by orjson (several times faster than
    # the json module; the engine wrote them with json.dumps, so orjson reads them to the same values), and
    # by the json module if orjson refuses one (NaN, which json.dumps writes for a float NaN).
    if text in _EMPTY_LIST:
        return []
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def json_text(value: Any) -> str:
    """A JSON cell's text, as the engine writes it (its ``json_serializer``)."""
    return "[]" if value == [] else json.dumps(value)


_EMPTY_LIST = ("[]", b"[]")  # psycopg hands over bytes
_JSON_CODEC: dict[str, Any] = {"json_deserializer": _json_loads, "json_serializer": json_text}


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; creates the SQLite file's directory when it is missing."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = sa.create_engine(parsed, pool_pre_ping=True, **_JSON_CODEC)
        sa.event.listen(engine, "connect", _send_lists_as_binary_arrays)
        return engine
    assert parsed.database is not None
    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000}, **_JSON_CODEC)
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so that "begin" below decides the mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={_BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _send_lists_as_binary_arrays(dbapi_connection: Any, _record: Any) -> None:
    # psycopg sends a list parameter (the references of ``Store.among``) as an array in text form unless
    # told otherwise: each element is quoted and escaped by a regular expression in Python (5-8 us each).
    # In binary form each element is dumped by psycopg's C dumpers and only its length is packed (0.2-0.4
    # us). A list that is empty or all None falls back to the text form on its own (no element type).
    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def _begin_sqlite_transaction(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
    connection.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


class StatementCounter:
    """Counts the statements sent (an ``executemany`` counts once) and the commits made through an engine."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self.statements = 0
        self.commits = 0
        sa.event.listen(engine, "before_cursor_execute", self._count_statement)
        sa.event.listen(engine, "commit", self._count_commit)

    def _count_statement(self, *_args: Any) -> None:
        with self._lock:
            self.statements += 1

    def _count_commit(self, _connection: sa.Connection) -> None:
        with self._lock:
            self.commits += 1


@contextmanager
def unavailable_as_error(engine: Engine) -> Iterator[None]:
    """Turn "cannot reach the database" and "connection dropped" into one ``LedgerUnavailableError``.

    The one place this translation happens (every ledger call and ``migrate`` run inside it). A dropped
    connection is invalidated by SQLAlchemy, and ``pool_pre_ping`` replaces stale pooled ones, so the next
    call reconnects on its own.
    """
    try:
        yield
    except sa.exc.DBAPIError as error:
        if not _is_unavailable(error, engine.dialect.name):
            raise
        database = engine.url.render_as_string(hide_password=True)
        raise LedgerUnavailableError(database, _first_line(error.orig)) from error


# SQLite reports a missing table as an OperationalError too: that is a schema problem, not a lost database.
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error", "database is locked")


def _is_unavailable(error: sa.exc.DBAPIError, dialect: str) -> bool:
    if error.connection_invalidated:
        return True
    if dialect != "sqlite":
        # No SQLSTATE: libpq could not connect or lost the socket; 08: connection exception; 57P0x: the
        # server is shutting down or terminated this backend. A deadlock (40P01) is not a lost database.
        sqlstate = getattr(error.orig, "sqlstate", None)
        lost = sqlstate is None or sqlstate.startswith(("08", "57P"))
        return isinstance(error, sa.exc.InterfaceError) or (
            isinstance(error, sa.exc.OperationalError) and lost
        )
    return any(text in str(error.orig).lower() for text in _SQLITE_UNAVAILABLE)


def _first_line(cause: BaseException | None) -> str:
    text = str(cause).strip() if cause is not None else ""
    return text.splitlines()[0] if text else "connection lost"


def migrate(url: str | URL) -> None:
    """Bring the ledger schema at ``url`` to the newest revision (``alembic upgrade head``); idempotent.

    Works from an installed package: the migration scripts live inside ``ledger/migrations`` and no
    ``alembic.ini`` is read. On PostgreSQL an advisory lock lets several processes call this at once.
    """
    engine = make_engine(url)
    try:
        with unavailable_as_error(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            command.upgrade(_alembic_config(connection), "head")
    finally:
        engine.dispose()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config
