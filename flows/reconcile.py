"""Deployment ``reconcile-shipments`` (every 10 minutes): shipments, tracking, processing, cancellations."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow
from prefect.futures import PrefectFuture

from flows._common import BatchSize, account_for, batch_size_for, finish, thread_runner
from ledger import State
from lw3pl.core.blocks import Lw3plCredentials
from tasks.cancellations import carry_linnworks_cancellations
from tasks.context import runtime_for
from tasks.edits import carry_linnworks_edits
from tasks.events import pull_events
from tasks.reconcile import process_orders, write_tracking_read_back_and_process
from tasks.reporting import Progress, RunReport
from tasks.setup import find_fulfilment_centre

__all__ = ["reconcile_shipments"]

MAX_ROUNDS = 250
PARALLEL = 2  # batches in flight: the Linnworks budget stays busy while the other batch reads or commits


@flow(name="reconcile-shipments", task_runner=thread_runner(PARALLEL))
def reconcile_shipments(
    batch_size: BatchSize | None = None,
    credentials: Lw3plCredentials | None = None,
    credentials_block: str | None = None,
) -> dict[str, int]:
    """Apply 3PL events, write and verify tracking, process shipped orders, and carry cancellations.

    Args:
        batch_size: orders per tracking / processing task, 1 to 500 (default EXPORT_BATCH_SIZE).
        credentials: the seller's ``lw3pl Credentials`` block (a picker in the UI); else credentials_block.
        credentials_block: the block's name (the CLI's ``--credentials-block``); neither: the environment.
    """
    account = account_for(credentials, credentials_block)
    runtime = runtime_for(account)
    location = find_fulfilment_centre(account, runtime.settings.fulfilment_centre_name)
    report = pull_events(account).merge(carry_linnworks_cancellations(account, location))
    report = report.merge(carry_linnworks_edits(account))  # after the 3PL's news: a picked order is too late
    # Orders an earlier run left ``tracking_written`` (read back, not yet processed) are processed first.
    waiting = runtime.ledger.counts_by_state()
    ready = waiting[State.TRACKING_WRITTEN]
    total = ready + waiting[State.SHIPPED]
    size = batch_size or batch_size_for(total, runtime.settings.export_batch_size, fixed_tasks=3)
    processing = _drain(
        lambda: process_orders.submit(account, size, location), size, ready, "orders processed"
    )
    # Then the shipped ones, three steps per order: write the tracking number -> read it back -> process
    # (irreversible, only after an equal read-back). One task does the three for one batch.
    shipped = runtime.ledger.counts_by_state()[State.SHIPPED]
    tracking = _drain(
        lambda: write_tracking_read_back_and_process.submit(account, size, location),
        size,
        shipped,
        "tracking written, read back, processed",
    )
    return finish(account, report.merge(tracking).merge(processing), "reconcile-shipments")


def _drain(
    submit: Callable[[], PrefectFuture[RunReport]], size: int, total: int, description: str
) -> RunReport:
    """Run a claim-based batch task, PARALLEL at a time, over the ``total`` orders waiting when it started.

    Claims keep concurrent batches apart. It stops once that many orders were claimed (orders arriving
    meanwhile wait for the next run), when a batch comes back short, or when a round makes no progress.
    """
    reports: list[RunReport] = []
    progress = Progress(total, description) if total else None
    claimed = 0
    for _ in range(MAX_ROUNDS):
        if claimed >= total:
            break
        in_flight = min(PARALLEL, -(-(total - claimed) // size))
        batches = [future.result() for future in [submit() for _ in range(in_flight)]]
        for batch in batches:
            reports.append(batch)
            claimed += batch.claimed
            if progress is not None:
                progress.advance(batch.claimed)
        if any(b.claimed < size for b in batches) or all(b.deferred >= b.claimed for b in batches):
            break
    return RunReport.combine(reports)
