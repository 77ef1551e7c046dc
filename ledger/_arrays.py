"""PostgreSQL: many rows in one statement, each column's values as one array parameter (``unnest``).

A multi-row VALUES text grows with the batch, so psycopg parses it again for every batch; an executemany
sends one Bind/Execute per row through psycopg's pipeline, whose per-row work in Python cost more than the
server's. ``unnest`` of one array per column is one statement text for any number of rows: psycopg caches
its parse and the server its plan. JSON values travel as text and are cast back per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias

from ledger._engine import json_text

__all__ = ["array_values", "column_value", "columns_of", "insert_from_arrays", "unnest"]


def columns_of(table: sa.Table, names: Sequence[str]) -> dict[str, sa.Column[Any]]:
    return {name: table.c[name] for name in names}


def insert_from_arrays(table: sa.Table, names: Sequence[str]) -> postgresql.Insert:
    """``INSERT INTO table (names) SELECT .. FROM unnest(..)``: its parameters are ``array_values``."""
    columns = columns_of(table, names)
    given = unnest(columns)
    rows = sa.select(*(column_value(given, name, column) for name, column in columns.items()))
    return postgresql.insert(table).from_select(list(names), rows)


def _is_json(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.JSON)


def unnest(columns: Mapping[str, sa.Column[Any]]) -> TableValuedAlias:
    """``unnest(:a::type[], :b::type[], ..) AS anon(a, b, ..)``: one array parameter per name, named so."""
    arrays = [
        sa.bindparam(name, type_=postgresql.ARRAY(sa.Text if _is_json(column) else column.type))
        for name, column in columns.items()
    ]
    return sa.func.unnest(*arrays).table_valued(*columns).render_derived()


def column_value(given: TableValuedAlias, name: str, column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """The value of ``name`` in a row of ``given``, as ``column``'s type (JSON text cast back to JSON)."""
    value: sa.ColumnElement[Any] = given.c[name]
    return sa.cast(value, column.type) if _is_json(column) else value


def array_values(
    rows: Sequence[Mapping[str, Any]], columns: Mapping[str, sa.Column[Any]]
) -> dict[str, list[Any]]:
    """The parameters of ``unnest(columns)``: each name's values in row order (a missing value is None)."""
    return {
        name: [json_text(row.get(name)) for row in rows]
        if _is_json(column)
        else [row.get(name) for row in rows]
        for name, column in columns.items()
    }
