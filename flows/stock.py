"""Deployment ``sync-stock`` (every 15 minutes): Linnworks stock at the fulfilment centre = the warehouse."""

from __future__ import annotations

from prefect import flow

from flows._common import collect, finish, thread_runner
from tasks.context import flow_runtime
from tasks.reconcile import pull_events
from tasks.reporting import Progress, RunReport
from tasks.setup import find_fulfilment_centre
from tasks.stock import STOCK_TASK_BATCH, plan_stock, read_inventory, write_stock_levels

__all__ = ["sync_stock"]


@flow(name="sync-stock", task_runner=thread_runner(2))
def sync_stock(credentials_block: str | None = None) -> dict[str, int]:
    """Write 3PL usable on-hand + shipped-but-unprocessed units to Linnworks, for changed SKUs only.

    The snapshot is read first and the 3PL's events are pulled right after it, so the ledger knows every
    shipment the snapshot already reflects: a shipment the snapshot has deducted but the ledger has not seen
    would be written as a lower level, and Linnworks would deduct it a second time when the order is
    processed. (Shipments between the two reads are counted early, which errs on the high side for one
    run and is corrected by the next.) Changes above STOCK_REVIEW_THRESHOLD are held for review.

    Args:
        credentials_block: name of an ``lw3pl Credentials`` block; default: credentials from the environment.
    """
    with flow_runtime(credentials_block) as runtime:
        location = find_fulfilment_centre(runtime.settings.fulfilment_centre_name, runtime.account_key)
        snapshot = read_inventory()
        events = pull_events()
        plan = plan_stock(snapshot, location)
        batches = [
            plan.writes[start : start + STOCK_TASK_BATCH]
            for start in range(0, len(plan.writes), STOCK_TASK_BATCH)
        ]
        written = RunReport()
        if batches:
            progress = Progress(len(plan.writes), "stock levels written")
            futures = [write_stock_levels.submit(batch, location) for batch in batches]
            written = collect(futures, progress, [len(batch) for batch in batches])
    return finish(events.merge(plan.report).merge(written), "sync-stock")
