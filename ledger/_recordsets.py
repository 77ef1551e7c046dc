"""PostgreSQL: many rows in one statement, sent as one JSON parameter and read by ``json_to_recordset``.

A multi-row VALUES text grows with the batch, so psycopg parses it again for every batch; an executemany
sends one Bind/Execute per row through psycopg's pipeline, whose per-row work in Python cost more than the
server's; one array parameter per column (``unnest``) is one statement text, but psycopg writes each array
element by element in Python. The rows as one JSON document, written by orjson in one call, are one
parameter and one statement text for any number of rows; the server reads each row's values as the
columns' types (a key a row lacks reads as NULL). The export saga of bench/ledger.py went from 705-750 to
570-650 us of CPU per order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias

__all__ = ["columns_of", "insert_from_recordset", "recordset", "rows_param"]

_ROWS = "rows"
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS  # like json.dumps, the JSON cells' writer: int keys become text


def columns_of(table: sa.Table, names: Sequence[str]) -> dict[str, sa.Column[Any]]:
    return {name: table.c[name] for name in names}


def recordset(columns: Mapping[str, sa.Column[Any]]) -> TableValuedAlias:
    """``json_to_recordset(:rows) AS anon(a type, b type, ..)``: the rows given by ``rows_param``, each
    name read as its column's type."""
    document = sa.cast(sa.bindparam(_ROWS, type_=sa.Text), postgresql.JSON)
    named = [sa.column(name, column.type) for name, column in columns.items()]
    return sa.func.json_to_recordset(document).table_valued(*named).render_derived(with_types=True)


def insert_from_recordset(table: sa.Table, names: Sequence[str]) -> postgresql.Insert:
    """``INSERT INTO table (names) SELECT .. FROM json_to_recordset(..)``: its parameter is ``rows_param``."""
    given = recordset(columns_of(table, names))
    return postgresql.insert(table).from_select(list(names), sa.select(*(given.c[name] for name in names)))


def rows_param(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The parameter of ``recordset``: the rows as one JSON document. Datetimes must be timezone-aware
    (the ledger's own clock and records are): a naive one would be read in the server's time zone."""
    return {_ROWS: orjson.dumps(rows, option=_JSON_OPTIONS).decode()}
