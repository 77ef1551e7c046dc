"""Deployment ``reconcile-shipments`` (every 10 minutes): shipments, tracking, processing, cancellations."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow
from prefect.futures import PrefectFuture, as_completed

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

MAX_BATCHES = 500
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
    """Run a claim-based batch task over the ``total`` orders waiting when it started, PARALLEL in flight:
    the next batch is submitted as soon as one finishes, so no batch waits for a slower one beside it.

    Claims keep concurrent batches apart. No batch is submitted once the batches finished and in flight
    cover ``total`` (orders arriving meanwhile wait for the next run), after a batch comes back short, or
    once PARALLEL batches in a row made no progress (deferred every order they claimed).
    """
    reports: list[RunReport] = []
    progress = Progress(total, description) if total else None
    claimed = submitted = stalled = 0
    in_flight: list[PrefectFuture[RunReport]] = []
    stop = False
    while True:
        while (
            not stop
            and len(in_flight) < PARALLEL
            and claimed + len(in_flight) * size < total
            and submitted < MAX_BATCHES
        ):
            in_flight.append(submit())
            submitted += 1
        if not in_flight:
            return RunReport.combine(reports)
        done = next(as_completed(in_flight))
        in_flight.remove(done)
        batch = done.result()
        reports.append(batch)
        claimed += batch.claimed
        if progress is not None:
            progress.advance(batch.claimed)
        stalled = stalled + 1 if batch.deferred >= batch.claimed else 0
        stop = stop or batch.claimed < size or stalled >= PARALLEL
