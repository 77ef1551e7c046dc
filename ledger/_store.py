"""What the ledger's parts share: one engine, the (account, 3PL) scope, the clock, and the one place where a
lost database becomes ``LedgerUnavailableError``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

from ledger._engine import BEGIN_MODE, StatementCounter, make_engine, unavailable_as_error
from ledger._records import LedgerStats
from ledger._schema import CatalogueRow, CursorRow, EventRow, OrderRow, StockHoldRow, StockRow
from ledger._statistics import Statistics

__all__ = ["CHUNK", "Store", "chunks", "utc_now"]

CHUNK = 500
"""Rows per statement in batches: far below SQLite's bound-parameter limit and PostgreSQL's."""

_T = TypeVar("_T")
_Insert = postgresql.Insert | sqlite.Insert
_Column = sa.ColumnElement[Any] | QueryableAttribute[Any]
_ScopedRow = type[OrderRow | EventRow | CursorRow | StockRow | CatalogueRow | StockHoldRow]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``items`` in slices of at most ``CHUNK``."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class Store:
    """One engine and one (account, 3PL) scope; ``write()`` is one transaction, committed when it ends."""

    def __init__(self, url: str | URL, *, account: str, threepl: str, clock: Callable[[], datetime]) -> None:
        self.account = account
        self.threepl = threepl
        self._clock = clock
        self.engine = make_engine(url)
        self._counter = StatementCounter(self.engine)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self.one_writer = self.engine.dialect.name == "sqlite"
        """Whether the database takes one write transaction at a time (SQLite)."""
        # A SQLite writer that finds the database locked polls for it with sleeps of up to 100 ms (the busy
        # handler), so threads of one process queue here instead and each starts the moment the one before
        # commits. Other processes still meet the busy timeout.
        self._write_turn: AbstractContextManager[object] = (
            threading.RLock() if self.one_writer else nullcontext()
        )
        self._reader = sessionmaker(self.engine.execution_options(**{BEGIN_MODE: "DEFERRED"}))
        # SQLite's planner picks the reference index without statistics; PostgreSQL's needs them (see there).
        self._statistics = None if self.one_writer else Statistics(self.engine)

    @property
    def database(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def stats(self) -> LedgerStats:
        """Statements and commits through this engine so far."""
        return LedgerStats(statements=self._counter.statements, commits=self._counter.commits)

    def close(self) -> None:
        """Close the connection pool."""
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        with self._write_turn, unavailable_as_error(self.engine), self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (a deferred transaction on SQLite: it takes no write lock)."""
        with unavailable_as_error(self.engine), self._reader() as session:
            yield session

    def grew(self, table: type[OrderRow | EventRow], rows: int) -> None:
        """``rows`` new rows of ``table`` were committed (PostgreSQL analyzes a table that grew fast)."""
        if self._statistics is not None:
            self._statistics.added(table.__tablename__, rows)

    def now(self) -> datetime:
        """The clock's time in UTC; refuses a naive clock."""
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the ledger clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def scope(self, table: _ScopedRow) -> list[sa.ColumnElement[bool]]:
        """The WHERE terms that keep a query to this account and 3PL."""
        return [table.account == self.account, table.threepl == self.threepl]

    def keys(self) -> dict[str, str]:
        """The scope's column values, for inserts."""
        return {"account": self.account, "threepl": self.threepl}

    def among(self, column: _Column, values: Iterable[Any]) -> sa.ColumnElement[bool]:
        """``column IN values``, sent as ONE parameter on PostgreSQL (``column = ANY(array)``).

        psycopg converts a statement with more than 50 parameters from scratch, in Python, on every call
        (9 % of a PostgreSQL export's CPU went to that for IN lists of a batch's references); an array
        keeps the statement short and cached. SQLite has no arrays and its driver has no such cost.
        """
        return self._among(column, None, list(values))

    def among_param(self, column: _Column, name: str) -> sa.ColumnElement[bool]:
        """``among`` with a named parameter, given the list when executed: for statements built once."""
        return self._among(column, name, None)

    def _among(self, column: _Column, key: str | None, values: list[Any] | None) -> sa.ColumnElement[bool]:
        element = column.expression
        if self.engine.dialect.name == "postgresql":
            array = postgresql.ARRAY(element.type)
            return element == sa.any_(sa.bindparam(key, values, type_=array))
        return element.in_(sa.bindparam(key, values, expanding=True))

    def insert(self, table: type[Any] | sa.Table) -> _Insert:
        """The dialect's INSERT (it has ``on_conflict_do_nothing``/``_do_update``)."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
