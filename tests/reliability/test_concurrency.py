"""RELIABILITY.md scenario 6: workers on the same orders at once, with SQLite and PostgreSQL ledgers."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from flows.export import export_orders
from ledger import State
from sandbox.shipbob import ORDERS_PATH
from tasks.events import pull_events
from tasks.export import export_batch
from tasks.reconcile import process_orders, write_and_read_back_tracking
from tasks.reporting import RunReport
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.conftest import finish_driver

LEDGERS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("ledger_url", LEDGERS, indirect=True)
def test_concurrent_workers_on_overlapping_batches_create_each_order_once(rel_env: FlowEnv) -> None:
    """Four workers start together on overlapping batches: each order is claimed by one and created once."""
    references = rel_env.create_orders(12)
    batches = [references[:8], references[4:], references[2:10], references]
    start = threading.Barrier(len(batches))

    def worker(batch: list[str]) -> RunReport:
        start.wait()
        report: RunReport = export_batch.fn(rel_env.account, batch, rel_env.location_uuid)
        return report

    with ThreadPoolExecutor(len(batches)) as pool:
        reports = list(pool.map(worker, batches))
    exported = [row.reference for report in reports for row in report.exported]
    assert len(exported) == len(set(exported))
    export_orders()  # whatever a worker left (all claimed elsewhere at that moment) goes in the next run
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert all(records[ref].attempts == 1 for ref in references)
    assert rel_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) == 12
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip


@pytest.mark.parametrize("ledger_url", LEDGERS, indirect=True)
def test_concurrent_reconcile_workers_write_tracking_and_process_each_order_once(rel_env: FlowEnv) -> None:
    """Three workers pull events, write tracking and process at once: one write and one process per order."""
    references = rel_env.create_orders(12)
    export_orders()
    rel_env.advance(hours=2)
    start = threading.Barrier(3)

    def worker() -> None:
        start.wait()
        pull_events.fn(rel_env.account)
        for _ in range(6):
            written = write_and_read_back_tracking.fn(rel_env.account, 4)
            processed = process_orders.fn(rel_env.account, 4, rel_env.location_uuid)
            if written.claimed == 0 and processed.claimed == 0:
                break

    with ThreadPoolExecutor(3) as pool:
        for future in [pool.submit(worker) for _ in range(3)]:
            future.result()
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.PROCESSED}
    for reference in references:
        for method in ("Orders/SetOrderShippingInfo", "Orders/ProcessOrdersInBatch"):
            calls = rel_env.linnworks.requests(method)
            assert sum(reference in json.dumps(call["params"]) for call in calls) == 1, (reference, method)
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip


@pytest.mark.postgres
@pytest.mark.parametrize("ledger_url", ["postgres"], indirect=True)
def test_two_export_processes_at_once_create_each_order_once(rel_env: FlowEnv, run_driver: Any) -> None:
    """Two worker processes run the export flow on the same 20 orders at once: 20 creates, no duplicate."""
    references = rel_env.create_orders(20)
    settings = rel_env.settings.model_copy(update={"export_batch_size": 5})
    rel_env.shipbob.inject("slow", method="POST", path=ORDERS_PATH, times=20, delay_seconds=0.25)  # overlap
    workers = [run_driver.start(settings, "export") for _ in range(2)]
    runs = [finish_driver(worker) for worker in workers]
    assert [run.returncode for run in runs] == [0, 0], [run.output[-2000:] for run in runs]
    exported = sum(result["counts"]["exported"] for run in runs for result in run.results)
    export_orders()  # orders both workers found leased at that moment go now
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert exported <= 20  # a second create of any order would also show as a 422 below
    assert rel_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) == 20
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip
