"""Deployment ``reconcile-shipments`` (every 10 minutes): shipments, tracking, processing, cancellations."""

from __future__ import annotations

import threading
from collections.abc import Callable

from prefect import flow
from prefect.futures import PrefectFuture, as_completed

from flows._common import BatchSize, account_for, batch_size_for, finish, thread_runner
from ledger import State
from lw3pl.core.blocks import Lw3plCredentials
from tasks.cancellations import carry_linnworks_cancellations
from tasks.context import runtime_for
from tasks.edits import carry_linnworks_edits
from tasks.events import SHIPPABLE, pull_events
from tasks.reconcile import (
    MOST_TRACKING_BATCHES,
    process_orders,
    tracking_batches,
    write_tracking_read_back_and_process,
)
from tasks.reporting import Progress, RunReport
from tasks.setup import find_fulfilment_centre

__all__ = ["reconcile_shipments"]

MAX_BATCHES = 500
FEED_WAIT = 0.05
"""Seconds between two looks for newly recorded shipments while the event pull runs and a batch slot is
free: one indexed count each. At 0.2 s the first tracking batch started up to 0.2 s after the pull had
recorded its first page (a reconcile of 5,000 orders took 8 s)."""


@flow(name="reconcile-shipments", task_runner=thread_runner(MOST_TRACKING_BATCHES + 3))
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
    waiting = runtime.ledger.counts_by_state()
    # The event pull runs beside the tracking batches, which take each shipment as soon as the pull has
    # recorded it (the pull's reading of the 3PL no longer delays the first tracking write). Linnworks'
    # cancellations and edits are carried once the pull is done: after the 3PL's news, since a picked order
    # is too late for an edit. A tracking batch that claims a shipped order cancelled in Linnworks before
    # the cancellation step does judges it the same way (tasks.reconcile).
    pull = pull_events.submit(account)
    cancellations = carry_linnworks_cancellations.submit(
        account, location, wait_for=[pull], return_state=False
    )
    edits = carry_linnworks_edits.submit(account, wait_for=[cancellations], return_state=False)
    # Orders an earlier run left ``tracking_written`` (read back, not yet processed) are processed first.
    ready = waiting[State.TRACKING_WRITTEN]
    may_ship = ready + sum(waiting[state] for state in (State.SHIPPED, *SHIPPABLE))
    size = batch_size or batch_size_for(may_ship, runtime.settings.export_batch_size)
    width = tracking_batches(runtime.ledger)
    processing = _drain(
        lambda: process_orders.submit(account, size, location),
        size,
        width,
        "orders processed",
        total=ready,
    )
    # Then the shipped ones, three steps per order: write the tracking number -> read it back -> process
    # (irreversible, only after an equal read-back). One task does the three for one batch.
    tracking = _drain(
        lambda: write_tracking_read_back_and_process.submit(account, size, location),
        size,
        width,
        "tracking written, read back, processed",
        total=may_ship - ready,  # an estimate until the pull is done: the orders it may find shipped
        feeding=(pull, lambda: runtime.ledger.counts_by_state([State.SHIPPED])[State.SHIPPED]),
    )
    report = RunReport.combine(future.result() for future in (pull, cancellations, edits))
    return finish(account, report.merge(tracking).merge(processing), "reconcile-shipments")


Feeding = tuple[PrefectFuture[RunReport], Callable[[], int]]
"""A task still adding orders for a drain (the event pull), and how many orders are waiting now."""


def _drain(
    submit: Callable[[], PrefectFuture[RunReport]],
    size: int,
    width: int,
    description: str,
    *,
    total: int = 0,
    feeding: Feeding | None = None,
) -> RunReport:
    """Run a claim-based batch task over the ``total`` orders waiting when it started, ``width`` in flight:
    the next batch is submitted as soon as one finishes, so no batch waits for a slower one beside it.

    Claims keep concurrent batches apart. No batch is submitted once the batches finished and in flight
    cover ``total`` (orders arriving meanwhile wait for the next run), after a batch comes back short, or
    once ``width`` batches in a row made no progress (deferred every order they claimed).

    With ``feeding``, orders arrive while its task runs: a batch is sent whenever more are waiting than
    the batches in flight can take (checked every FEED_WAIT seconds) and a short batch does not stop the
    drain. When the task ends, ``total`` (till then an estimate, for the progress artifact) becomes the
    orders claimed by then, those the batches in flight may take and those waiting: a batch in flight may
    have moved its orders on already or not claimed them yet, so they may be counted twice, never missed.
    """
    fed = threading.Event()
    if feeding is None:
        fed.set()
    else:
        feeding[0].add_done_callback(lambda _: fed.set())
    reports: list[RunReport] = []
    progress = Progress(total, description) if total or feeding else None
    claimed = submitted = stalled = 0
    in_flight: dict[PrefectFuture[RunReport], bool] = {}  # each batch: was it sent after the feed ended?
    stop = counted = False

    def more_waiting() -> bool:
        if not fed.is_set():
            return feeding is not None and feeding[1]() > len(in_flight) * size
        return claimed + len(in_flight) * size < total

    while True:
        if fed.is_set() and feeding is not None and not counted:
            total, counted = claimed + len(in_flight) * size + feeding[1](), True
        while not stop and len(in_flight) < width and submitted < MAX_BATCHES and more_waiting():
            in_flight[submit()] = fed.is_set()
            submitted += 1
        if not in_flight:
            if fed.is_set():
                if progress is not None:
                    progress.expect(claimed)  # the estimate was only that: done is 100 %
                return RunReport.combine(reports)
            fed.wait(FEED_WAIT)
            continue
        try:
            done = next(as_completed(list(in_flight), timeout=None if fed.is_set() else FEED_WAIT))
        except TimeoutError:
            continue  # still feeding: look again whether another batch is worth sending
        after_feed = in_flight.pop(done)
        batch = done.result()
        reports.append(batch)
        claimed += batch.claimed
        if progress is not None:
            progress.advance(batch.claimed)
        stalled = stalled + 1 if batch.deferred >= batch.claimed > 0 else 0  # an empty one is short
        stop = stop or (batch.claimed < size and after_feed) or stalled >= width
