"""Deployment ``reconcile-shipments`` (every 10 minutes): shipments, tracking, processing, cancellations."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow

from flows._common import finish
from ledger import State
from tasks.context import flow_runtime
from tasks.reconcile import carry_linnworks_cancellations, process_orders, pull_events, write_tracking
from tasks.reporting import Progress, RunReport
from tasks.setup import find_fulfilment_centre

__all__ = ["reconcile_shipments"]

MAX_BATCHES = 500


@flow(name="reconcile-shipments")
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
        counts = runtime.ledger.counts_by_state()
        tracking = _drain(lambda: write_tracking(size), size, counts[State.SHIPPED], "tracking written")
        counts = runtime.ledger.counts_by_state()
        processing = _drain(
            lambda: process_orders(size, location), size, counts[State.TRACKING_WRITTEN], "orders processed"
        )
    return finish(report.merge(tracking).merge(processing), "reconcile-shipments")


def _drain(step: Callable[[], RunReport], size: int, total: int, description: str) -> RunReport:
    """Run a claim-based batch step until a batch comes back short or makes no progress (bounded)."""
    report = RunReport()
    if total == 0:
        return report
    progress = Progress(total, description)
    for _ in range(MAX_BATCHES):
        batch = step()
        report = report.merge(batch)
        progress.advance(batch.claimed)
        if batch.claimed < size or batch.deferred >= batch.claimed:
            break
    return report
