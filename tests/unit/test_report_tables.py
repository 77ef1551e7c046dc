"""Artifact tables: named columns per outcome, order links, a next step per quarantine reason; the schema."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import cast
from uuid import uuid4

import pytest
from pydantic import ValidationError

from flows.export import export_orders
from ledger import OrderSummary
from lw3pl.core.blocks import Lw3plCredentials, block_overrides
from tasks.report_tables import TABLES, Links, ReportRow, what_to_do
from tasks.reporting import FLOW_OUTCOMES, RunReport


def test_shipped_rows_read_as_named_columns_with_links_to_both_web_apps() -> None:
    order_id = str(uuid4())
    row = ReportRow(reference=order_id, label="100042", threepl_order_id="9001", carrier="UPS",
                    tracking="1Z1, 1Z2", parcels=2,
                    shipped_at=datetime(2026, 12, 1, 4, 0, tzinfo=timezone(timedelta(hours=1))))  # fmt: skip
    links = Links("https://lw.example/orders/{id}", "https://3pl.example/app/orders")
    [cells] = TABLES["shipped"].render([row], links)
    assert cells == {
        "Linnworks order number": "100042",
        "Linnworks order id": f"[{order_id}](https://lw.example/orders/{order_id})",
        "3PL order id": "[9001](https://3pl.example/app/orders/9001)",
        "carrier": "UPS",
        "tracking": "1Z1, 1Z2",
        "parcels": "2",
        "shipped at (UTC)": "2026-12-01 03:00",
    }
    assert TABLES["processed"].render([row], links) == [cells]  # processed orders show how they shipped


def test_quarantine_rows_say_what_to_do_and_how_to_release_an_order() -> None:
    order_id = str(uuid4())
    step = what_to_do("shipping service 'Express' is not mapped to a 3PL service", order_id)
    assert "SHIPPING_SERVICE_MAP" in step and f"lw3pl ledger release {order_id}" in step
    assert "release" not in what_to_do("stock change held", "SKU-1")  # a SKU is not a releasable order


def test_a_summary_lists_only_the_outcomes_its_flow_can_have() -> None:
    text = RunReport().summary_markdown("export-orders (acme)", "export-orders")
    assert "| exported | 0 |" in text and "| quarantined | 0 |" in text
    assert "processed" not in text and "stock" not in text
    assert set(FLOW_OUTCOMES["reconcile-shipments"]) >= {"shipped", "processed", "cancelled"}


def test_batch_size_is_bounded_in_the_flow_parameter_schema() -> None:
    """The schema the UI's form validates against carries the bounds; a block picker for credentials."""
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(export_orders.fn).model_dump()
    [bounded, _null] = schema["properties"]["batch_size"]["anyOf"]
    assert (bounded["minimum"], bounded["maximum"]) == (1, 500)
    assert schema["definitions"]["Lw3plCredentials"]["block_type_slug"] == "lw3pl-credentials"


def test_a_block_needs_an_account_and_overrides_only_what_it_sets() -> None:
    with pytest.raises(ValidationError):
        Lw3plCredentials()
    block = Lw3plCredentials(lw3pl_account="acme", threepl_adapter="sftp", shipping_service_map={"*": "Std"})
    assert block_overrides(block) == {
        "lw3pl_account": "acme",
        "threepl_adapter": "sftp",
        "shipping_service_map": {"*": "Std"},
    }


def test_batch_reports_combine_into_one_with_every_row_in_order_and_the_counts_summed() -> None:
    """A run's batch reports are joined once (RunReport.combine), the same as merging them one by one."""
    parts = [
        RunReport(
            exported=[ReportRow(reference=f"{batch}-{i}") for i in range(3)],
            quarantined=[ReportRow(reference=f"q{batch}", detail="refused")],
            deferred=batch,
            notes=[f"note {batch}"],
            claimed=4,
        )
        for batch in range(3)
    ]
    combined = RunReport.combine(parts)
    assert [row.reference for row in combined.exported] == [f"{b}-{i}" for b in range(3) for i in range(3)]
    assert [row.reference for row in combined.quarantined] == ["q0", "q1", "q2"]
    assert (combined.deferred, combined.claimed, combined.notes) == (3, 12, ["note 0", "note 1", "note 2"])
    assert combined == parts[0].merge(parts[1]).merge(parts[2])
    assert RunReport.combine([]) == RunReport()


class _CountingLedger:
    """A ledger that knows every order (remote id ``R-<reference>``) and counts what it is asked for."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def summaries(self, references: set[str]) -> dict[str, OrderSummary]:
        self.asked.append(len(references))
        return {
            reference: OrderSummary(reference.removeprefix("order-"), f"R-{reference}", None, ())
            for reference in references
        }

    def latest_event_at(self, references: set[str], kind: str) -> dict[str, datetime]:
        return {}


def test_a_large_run_s_table_is_filled_from_the_ledger_a_chunk_of_orders_at_a_time() -> None:
    """A run's artifact tables ask the ledger for at most FILL_CHUNK orders at once (not for every order
    of the run: at 10,000 orders those records were most of the export's peak memory), and keep every row."""
    from ledger import Ledger
    from tasks.reporting import FILL_CHUNK, _LedgerFacts, _table

    ledger = _CountingLedger()
    rows = [ReportRow(reference=f"order-{i}") for i in range(2 * FILL_CHUNK + 1)]
    table = _table("exported", rows, _LedgerFacts(cast(Ledger, ledger)), Links())
    assert [cells["Linnworks order number"] for cells in table] == [str(i) for i in range(len(rows))]
    assert [cells["3PL order id"] for cells in table] == [f"R-order-{i}" for i in range(len(rows))]
    assert ledger.asked == [FILL_CHUNK, FILL_CHUNK, 1]


def test_orders_named_by_two_sections_of_a_run_are_read_from_the_ledger_once() -> None:
    """A reconcile's shipped and processed tables name the same orders: the second table is filled from
    what the first read, and both show the ledger's facts."""
    from ledger import Ledger
    from tasks.reporting import _LedgerFacts, _table

    ledger = _CountingLedger()
    facts = _LedgerFacts(cast(Ledger, ledger))
    rows = [ReportRow(reference=f"order-{i}") for i in range(3)]
    shipped = _table("shipped", rows, facts, Links())
    processed = _table("processed", [*rows, ReportRow(reference="order-9")], facts, Links())
    assert ledger.asked == [3, 1]
    assert [cells["3PL order id"] for cells in shipped] == ["R-order-0", "R-order-1", "R-order-2"]
    assert [cells["3PL order id"] for cells in processed][-1] == "R-order-9"
