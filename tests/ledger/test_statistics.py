"""PostgreSQL planner statistics are refreshed by the ledger while a table grows fast (ledger._statistics)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from pytest_mock import MockerFixture

import ledger
from ledger import Ledger
from ledger._statistics import MINIMUM_ROWS, Statistics
from tests.ledger.conftest import FakeClock, new_order

pytestmark = pytest.mark.postgres


def _reltuples(url: str, table: str) -> float:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)")
            return float(connection.execute(query, {"t": table}).scalar_one())
    finally:
        engine.dispose()


def _lookup_plan(url: str, account: str, references: list[str]) -> str:
    """The plan PostgreSQL picks for the ledger's lookup of a batch's orders by reference."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.text(
                "EXPLAIN SELECT * FROM ledger_orders WHERE account = :account AND threepl = 'shipbob' "
                "AND reference = ANY(CAST(:references AS varchar[])) ORDER BY reference FOR UPDATE"
            )
            rows = connection.execute(query, {"account": account, "references": references})
            return "\n".join(row[0] for row in rows)
    finally:
        engine.dispose()


def test_a_fast_growing_orders_table_is_analyzed_so_a_lookup_is_planned_for_its_rows(
    postgres_url: str, clock: FakeClock
) -> None:
    ledger.migrate(postgres_url)
    with Ledger(postgres_url, account="seller", threepl="shipbob", clock=clock) as book:
        book.register([new_order(f"small-{n}") for n in range(MINIMUM_ROWS // 5)])
        assert _reltuples(postgres_url, "ledger_orders") <= 0  # not yet: never analyzed
        for start in range(0, 3 * MINIMUM_ROWS, 100):  # an export registers a batch at a time
            book.register([new_order(f"order-{n}") for n in range(start, start + 100)])
    assert _reltuples(postgres_url, "ledger_orders") >= MINIMUM_ROWS
    # The planner expects the 100 rows asked for (on an empty table's statistics it expected 1, and read
    # every order of the account through another index to find them).
    plan = _lookup_plan(postgres_url, "seller", [f"order-{n}" for n in range(100)])
    expected_rows = int(re.search(r"rows=(\d+)", plan)[1])  # type: ignore[index]
    assert 50 <= expected_rows <= 200, plan


def test_a_refused_analyze_is_logged_and_the_rows_stay_registered(
    postgres_url: str, clock: FakeClock, mocker: MockerFixture, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.migrate(postgres_url)
    refusal = sa.exc.ProgrammingError("ANALYZE", {}, Exception("must be owner of table ledger_orders"))
    analyze = mocker.patch.object(Statistics, "_analyze", side_effect=refusal)
    with Ledger(postgres_url, account="seller", threepl="shipbob", clock=clock) as book:
        result = book.register([new_order(f"order-{n}") for n in range(MINIMUM_ROWS)])
        book.register([new_order(f"later-{n}") for n in range(10)])  # not retried before the next step
        assert len(result.new) == MINIMUM_ROWS
        assert book.get("later-9") is not None
    assert analyze.call_count == 1
    assert "could not refresh PostgreSQL's statistics of ledger_orders" in caplog.text
