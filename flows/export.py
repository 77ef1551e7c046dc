"""Deployment ``export-orders`` (every 5 minutes): open orders of the fulfilment centre -> 3PL, once each."""

from __future__ import annotations

from prefect import flow

from flows._common import (
    BatchSize,
    account_for,
    batch_size_for,
    chunks,
    collect,
    finish,
    submitted_at_most,
    thread_runner,
)
from lw3pl.core.blocks import Lw3plCredentials
from tasks.context import batches_in_flight, runtime_for
from tasks.export import export_batch, list_exportable_orders
from tasks.reporting import Progress
from tasks.setup import find_fulfilment_centre

__all__ = ["export_orders"]

PARALLEL = 2
"""Batches in flight on PostgreSQL, each with IN_FLIGHT creates (tasks.export): the second hides one batch's
round trips to the database. On SQLite (``Ledger.one_writer``) one: its creates keep ShipBob busy, and its
ledger steps run beside no other batch's creates. Beside 8 creates the SQLite ledger's work took twice the
CPU and four times as long (each row step hands the interpreter lock to another thread and waits to get it
back: bench/contention.py). bench/cycle.py, 5,000 orders, PostgreSQL, alternating runs: lw3pl/floor 1.96x
and 2.23x with one batch (3.8-4.3 ms of client CPU per order), 2.03x and 1.35x with two (3.6-4.1 ms), 2.24x
and 1.99x with four (4.2-4.3 ms): four batches' 32 creates cost CPU in hand-offs, one leaves the database's
round trips on the critical path."""


@flow(name="export-orders", task_runner=thread_runner(PARALLEL))
def export_orders(
    batch_size: BatchSize | None = None,
    credentials: Lw3plCredentials | None = None,
    credentials_block: str | None = None,
) -> dict[str, int]:
    """Send each paid, unparked, unlocked, untagged open order of the fulfilment centre to the 3PL; tag it.

    Args:
        batch_size: orders per task, 1 to 500 (default EXPORT_BATCH_SIZE); each batch is one retryable task.
        credentials: the seller's ``lw3pl Credentials`` block (a picker in the UI); else credentials_block.
        credentials_block: the block's name (the CLI's ``--credentials-block``); neither: the environment.
    """
    account = account_for(credentials, credentials_block)
    runtime = runtime_for(account)
    settings = runtime.settings
    location = find_fulfilment_centre(account, settings.fulfilment_centre_name)
    order_ids = list_exportable_orders(account, location)
    size = batch_size or batch_size_for(len(order_ids), settings.export_batch_size)
    batches = chunks(order_ids, size)
    progress = Progress(sum(map(len, batches)), "orders exported")
    width = batches_in_flight(runtime.ledger, PARALLEL)
    futures = submitted_at_most(width, lambda batch: export_batch.submit(account, batch, location), batches)
    report = collect(futures, progress, [len(batch) for batch in batches])
    return finish(account, report, "export-orders")
