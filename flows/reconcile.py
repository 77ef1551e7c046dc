"""Deployment ``reconcile-shipments`` (every 10 minutes): shipments, tracking, processing, cancellations."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow
from prefect.futures import PrefectFuture

from flows._common import finish, thread_runner
from ledger import State
from tasks.context import flow_runtime
from tasks.reconcile import carry_linnworks_cancellations, process_orders, pull_events, write_tracking
from tasks.reporting import Progress, RunReport
from tasks.setup import find_fulfilment_centre

__all__ = ["reconcile_shipments"]

MAX_ROUNDS = 250
PARALLEL = 2  # batches in flight: the Linnworks budget stays busy while the other batch reads or commits


@flow(name="reconcile-shipments", task_runner=thread_runner(PARALLEL))
def reconcile_shipments(
    batch_size: int | None = None, credentials_block: str | None = None
) -> dict[str, int]:
    """Apply 3PL events, write and verify tracking, process shipped orders, and carry cancellations.

    Args:
        batch_size: orders per tracking / processing task (default EXPORT_BATCH_SIZE).
        credentials_block: name of an ``lw3pl Credentials`` block; default: credentials from the environment.
    """
    with flow_runtime(credentials_block) as runtime:
        settings = runtime.settings
        size = batch_size or settings.export_batch_size
        location = find_fulfilment_centre(settings.fulfilment_centre_name, runtime.account_key)
        report = pull_events().merge(carry_linnworks_cancellations(location))
        # Orders left ``tracking_written`` by an earlier run first, then the shipped ones: write, read back
        # and process in one task per batch.
        ready = runtime.ledger.counts_by_state()[State.TRACKING_WRITTEN]
        processing = _drain(lambda: process_orders.submit(size, location), size, ready, "orders processed")
        shipped = runtime.ledger.counts_by_state()[State.SHIPPED]
        tracking = _drain(
            lambda: write_tracking.submit(size, location), size, shipped, "tracking written, processed"
        )
    return finish(report.merge(tracking).merge(processing), "reconcile-shipments")


def _drain(
    submit: Callable[[], PrefectFuture[RunReport]], size: int, total: int, description: str
) -> RunReport:
    """Run a claim-based batch task, PARALLEL at a time, over the ``total`` orders waiting when it started.

    Claims keep concurrent batches apart. It stops once that many orders were claimed (orders arriving
    meanwhile wait for the next run), when a batch comes back short, or when a round makes no progress.
    """
    report = RunReport()
    progress = Progress(total, description) if total else None
    claimed = 0
    for _ in range(MAX_ROUNDS):
        if claimed >= total:
            break
        in_flight = min(PARALLEL, -(-(total - claimed) // size))
        batches = [future.result() for future in [submit() for _ in range(in_flight)]]
        for batch in batches:
            report = report.merge(batch)
            claimed += batch.claimed
            if progress is not None:
                progress.advance(batch.claimed)
        if any(b.claimed < size for b in batches) or all(b.deferred >= b.claimed for b in batches):
            break
    return report
