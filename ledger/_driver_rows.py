"""SQLite: batch writes whose rows skip SQLAlchemy's per-row parameter processing.

For an executemany SQLAlchemy builds every row's parameters through the statement's bind processors (a
dict per row and a Python call per datetime and JSON value); on the ledger's batch writes that took more CPU
than SQLite spent writing the rows (bench/ledger.py). A ``DriverRows`` statement is compiled once; each row
becomes a tuple in the statement's parameter order, its values converted as the column types convert them
(aware datetimes as SQLAlchemy's SQLite text in UTC, JSON as the engine's text), and the rows go to the
driver's executemany in one call. Only for statements without RETURNING (sqlite3's executemany returns no
rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from ledger._engine import json_text
from ledger._schema import UtcDateTime

__all__ = ["DriverRows", "sqlite_datetime"]

_DIALECT = sqlite.dialect()


def sqlite_datetime(value: datetime | None) -> str | None:
    """An aware datetime as the ledger stores it in SQLite: UTC, naive, ``YYYY-MM-DD HH:MM:SS.ffffff``
    (the text SQLAlchemy's SQLite DateTime writes, so comparisons and sorting in SQL agree)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the ledger stores timezone-aware datetimes only")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _converter(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    if isinstance(column.type, UtcDateTime):
        return sqlite_datetime
    if isinstance(column.type, sa.JSON):
        return json_text
    return None


class DriverRows:
    """One INSERT or UPDATE (no RETURNING), run for many rows with the driver's executemany."""

    def __init__(self, statement: sa.Insert | sa.Update, columns: Mapping[str, sa.Column[Any]]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert compiled.positiontup is not None  # SQLite's paramstyle is positional (qmark)
        self._sql = compiled.string
        self._params = [(name, _converter(columns[name])) for name in compiled.positiontup]

    def execute(self, connection: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Write ``rows`` (each a mapping by parameter name; a missing name is NULL)."""
        params = [
            tuple(
                row.get(name) if convert is None else convert(row.get(name)) for name, convert in self._params
            )
            for row in rows
        ]
        connection.exec_driver_sql(self._sql, params)
