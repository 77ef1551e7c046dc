"""Deployment ``sync-stock`` (every 15 minutes): Linnworks stock at the fulfilment centre = the warehouse."""

from __future__ import annotations

from prefect import flow

from flows._common import account_for, chunks, collect, finish, thread_runner
from lw3pl.core.blocks import Lw3plCredentials
from tasks.context import runtime_for
from tasks.events import pull_events
from tasks.reporting import Progress, RunReport
from tasks.setup import find_fulfilment_centre
from tasks.stock import (
    STOCK_TASK_BATCH,
    read_inventory,
    record_holds_and_plan_stock_writes,
    write_stock_levels,
)

__all__ = ["sync_stock"]


@flow(name="sync-stock", task_runner=thread_runner(2))
def sync_stock(
    credentials: Lw3plCredentials | None = None, credentials_block: str | None = None
) -> dict[str, int]:
    """Write 3PL usable on-hand + shipped-but-unprocessed units to Linnworks, for changed SKUs only.

    The snapshot is read first and the 3PL's events are pulled right after it, so the ledger knows every
    shipment the snapshot already reflects: a shipment the snapshot has deducted but the ledger has not seen
    would be written as a lower level, and Linnworks would deduct it a second time when the order is
    processed. (Shipments between the two reads are counted early, which errs on the high side for one
    run and is corrected by the next.) Changes above STOCK_REVIEW_THRESHOLD are held for review.

    Args:
        credentials: the seller's ``lw3pl Credentials`` block (a picker in the UI); else credentials_block.
        credentials_block: the block's name (the CLI's ``--credentials-block``); neither: the environment.
    """
    account = account_for(credentials, credentials_block)
    location = find_fulfilment_centre(account, runtime_for(account).settings.fulfilment_centre_name)
    snapshot = read_inventory(account)
    events = pull_events(account)
    plan = record_holds_and_plan_stock_writes(account, snapshot, location)
    batches = chunks(plan.writes, STOCK_TASK_BATCH)
    written = RunReport()
    if batches:
        progress = Progress(len(plan.writes), "stock levels written")
        futures = [write_stock_levels.submit(account, batch, location) for batch in batches]
        written = collect(futures, progress, [len(batch) for batch in batches])
    return finish(account, events.merge(plan.report).merge(written), "sync-stock")
