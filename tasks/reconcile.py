"""Shipped orders -> Linnworks: write the tracking number, read it back, then process (irreversible).

Order of effects for one shipment (invariant 3): the shipment is recorded in the ledger (``shipped``, see
tasks.events) -> SetOrderShippingInfo -> the order is read back and the tracking number compared
(``tracking_written``) -> Processed is re-read and the lines compared with what shipped
(tasks.short_shipments) -> ProcessOrdersInBatch / ProcessFulfilmentCentreOrder
(``processed``). A mismatch quarantines the order; a lost reply is resolved by re-reading, never by
processing blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from prefect import task

from clients.errors import OutcomeUnknownError, RecordError, RetryableError
from clients.linnworks import OrderDetails, ProcessOrderResult, UpdateOrderShippingInfo
from clients.threepl import WrittenTracking
from ledger import Ledger, OrderRecord, State
from lw3pl.core.crashpoints import crashpoint
from tasks.cancellations import TOO_LATE, gone_after_shipping, read_orders, settle_by_hand
from tasks.context import Account, batches_in_flight, in_parts, move_all, runtime_for
from tasks.notes import add_order_note
from tasks.outcomes import Outcomes
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS
from tasks.short_shipments import lines_as_shipped

logger = logging.getLogger("lw3pl.reconcile")

IN_FLIGHT = 8
"""Per-order Linnworks calls in flight for the account, shared by the tracking batches in flight
(``tracking_batches``); the client's pacer keeps the account's budget. Eight keep the 250/minute budget busy
at any realistic latency, while each thread more costs CPU (httpcore checks every pooled connection on each
request; GIL hand-offs) in a client that is CPU bound: on PostgreSQL, 8 per batch beside the second batch
cost ~8 % more CPU per call and were no faster (this stop: 1.84x and 1.92x of the floor against 1.97x)."""


MOST_TRACKING_BATCHES = 2


def tracking_batches(ledger: Ledger) -> int:
    """Tracking batches the reconcile flow keeps in flight (``batches_in_flight``): on PostgreSQL one batch's
    tracking writes go on while the other reads back, processes or commits; on SQLite the event pull is a
    writer too. bench/cycle.py, 5,000 orders, SQLite, alternating runs: lw3pl/floor 1.63x and 1.60x with one
    batch of 8 writes (12.4 and 13.5 s of client CPU), 2.02x and 1.96x with two of 4 (15.8 and 14.3 s)."""
    return batches_in_flight(ledger, MOST_TRACKING_BATCHES)


SHIPPED = (State.SHIPPED,)
WRITTEN = (State.TRACKING_WRITTEN,)

__all__ = [
    "MOST_TRACKING_BATCHES",
    "process_orders",
    "tracking_batches",
    "write_and_read_back_tracking",
    "write_tracking_read_back_and_process",
]


@task(name="write-tracking-read-back-and-process", **TASK_RETRY_OPTIONS)
def write_tracking_read_back_and_process(account: Account, limit: int, location_id: UUID) -> RunReport:
    """Up to ``limit`` shipped orders, three steps: write the tracking number, read it back, process.

    Processing (the irreversible step) happens only for orders whose read-back matched; the read-back is the
    fresh read of Processed that processing needs, so one task does all three for one batch.
    """
    work = Outcomes(runtime_for(account))

    def write_read_back_and_process(claimed: list[OrderRecord]) -> None:
        confirmed, orders = _write_and_read_back(work, claimed)
        _process_ready(work, _not_yet_processed(work, location_id, confirmed, orders), location_id)

    work.report.claimed = in_parts(work.runtime, work.owner, SHIPPED, limit, write_read_back_and_process)
    return work.report


@task(name="write-tracking-read-back", **TASK_RETRY_OPTIONS)
def write_and_read_back_tracking(account: Account, limit: int) -> RunReport:
    """Up to ``limit`` shipped orders: write the tracking number and read it back; nothing is processed."""
    work = Outcomes(runtime_for(account))
    work.report.claimed = in_parts(
        work.runtime, work.owner, SHIPPED, limit, lambda claimed: _write_and_read_back(work, claimed)
    )
    return work.report


def _write_and_read_back(
    work: Outcomes, claimed: Sequence[OrderRecord]
) -> tuple[list[OrderRecord], dict[str, OrderDetails]]:
    written = _write_all(work, claimed)
    crashpoint("after_tracking_write")
    confirmed, orders = _read_back(work, written)
    _confirm_tracking(work, confirmed)
    return confirmed, orders


def _write_all(work: Outcomes, claimed: Sequence[OrderRecord]) -> list[OrderRecord]:
    """Write each order's tracking number, this batch's share of IN_FLIGHT calls at a time (paced by the
    client's pacer); the ledger hears the outcomes afterwards, in this thread. Returns the orders written."""
    untracked = [record for record in claimed if not record.tracking_numbers]
    for record in untracked:
        reason = "the 3PL shipped the order without a tracking number; add it by hand"
        work.quarantine(record, reason, expected_from=SHIPPED)
    tracked = [record for record in claimed if record.tracking_numbers]
    writers = IN_FLIGHT // tracking_batches(work.runtime.ledger)
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="lw3pl-tracking") as pool:
        errors = list(pool.map(lambda record: _write_one(work, record), tracked))
    written: list[OrderRecord] = []
    refused: list[tuple[OrderRecord, RecordError]] = []
    for record, error in zip(tracked, errors, strict=True):
        if error is None:
            written.append(record)
        elif isinstance(error, RecordError):
            refused.append((record, error))
        else:
            work.defer(record, error, expected_from=SHIPPED)
    _quarantine_refused(work, refused)
    return written


def _quarantine_refused(work: Outcomes, refused: Sequence[tuple[OrderRecord, RecordError]]) -> None:
    """Quarantine orders whose tracking Linnworks refused, with the reason read from the order: one
    cancelled, processed or deleted since it was sent gets the cancellation step's reason (this batch may
    have claimed it before that step did: the two run side by side), any other Linnworks' message."""
    if not refused:
        return
    orders = read_orders(work.runtime, [record for record, _ in refused])
    for record, error in refused:
        gone = gone_after_shipping(orders.get(record.reference))
        reason = gone or f"Linnworks refused the tracking number: {error.message}"
        work.quarantine(record, reason, expected_from=SHIPPED)


def _write_one(work: Outcomes, record: OrderRecord) -> RetryableError | RecordError | None:
    """SetOrderShippingInfo with the first parcel's number (a note names the others); the refusal, if any."""
    order_id = UUID(record.reference)
    linnworks = work.runtime.linnworks
    try:
        linnworks.set_order_shipping_info(
            order_id, UpdateOrderShippingInfo(tracking_number=record.tracking_numbers[0])
        )
        if len(record.tracking_numbers) > 1:
            others = ", ".join(record.tracking_numbers[1:])
            add_order_note(linnworks, order_id, f"lw3pl: further parcels' tracking numbers: {others}")
    except (RetryableError, RecordError) as error:
        return error
    return None


def _read_back(
    work: Outcomes, records: Sequence[OrderRecord]
) -> tuple[list[OrderRecord], dict[str, OrderDetails]]:
    """Orders whose tracking Linnworks shows as written (now ``tracking_written``), and what was read."""
    orders = read_orders(work.runtime, records)
    matched: list[str] = []
    for record in records:
        order = orders.get(record.reference)
        wanted = record.tracking_numbers[0]
        actual = (order.shipping_info.tracking_number or "") if order else "(order not found)"
        if order is not None and actual == wanted:
            matched.append(record.reference)
            continue
        work.quarantine(
            record,
            f"tracking read-back differs: wrote {wanted!r}, Linnworks shows {actual!r}; check the order "
            "in Linnworks, then release it from quarantine",
            expected_from=SHIPPED,
        )
    confirmed = move_all(
        work.runtime, matched, State.TRACKING_WRITTEN, expected_from=[State.SHIPPED], owner=work.owner,
        detail="tracking read back equal",
    )  # fmt: skip
    return confirmed, orders


def _confirm_tracking(work: Outcomes, records: Sequence[OrderRecord]) -> None:
    """Tell the 3PL the tracking is in Linnworks (ShipBob: off its tracking queue). A failure loses
    nothing: the parcels stay queued and are re-read each poll as repeats (deduplicated)."""
    written = [
        WrittenTracking(
            reference=r.reference,
            remote_id=r.remote_id,
            tracking_numbers=r.tracking_numbers,
            shipment_ids=r.shipment_ids,
        )
        for r in records
        if r.remote_id and r.tracking_numbers and r.shipment_ids
    ]
    if not written:
        return
    try:
        work.runtime.threepl.confirm_tracking(written)
    except (RetryableError, RecordError) as error:
        work.note(f"3PL tracking not confirmed ({type(error).__name__}); parcels stay queued")
        logger.warning("3PL tracking confirmation failed: %s", type(error).__name__)


# --- processing -------------------------------------------------------------------------------------


@task(name="process-orders", **TASK_RETRY_OPTIONS)
def process_orders(account: Account, limit: int, location_id: UUID) -> RunReport:
    """Process up to ``limit`` orders whose tracking was read back; Processed is re-read first."""
    work = Outcomes(runtime_for(account))

    def process(claimed: list[OrderRecord]) -> None:
        _process_ready(work, _not_yet_processed(work, location_id, claimed), location_id)

    work.report.claimed = in_parts(work.runtime, work.owner, WRITTEN, limit, process)
    return work.report


def _process_ready(work: Outcomes, ready: Sequence[OrderRecord], location_id: UUID) -> None:
    if not ready:  # the crash points name a process call: none is made for an empty batch
        return
    crashpoint("before_process")
    results = _process(work, ready, location_id)
    crashpoint("after_process")
    _record_processing(work, ready, results)


def _not_yet_processed(
    work: Outcomes,
    location_id: UUID,
    records: Sequence[OrderRecord],
    orders: dict[str, OrderDetails] | None = None,
) -> list[OrderRecord]:
    """Mark orders Linnworks already processed (a lost reply, an earlier crash); return the rest.

    ``orders`` are details read a moment ago in the same task (the tracking read-back); else they are read.
    """
    orders = read_orders(work.runtime, records) if orders is None else orders
    ready: list[OrderRecord] = []
    already: list[OrderRecord] = []
    for record in records:
        order = orders.get(record.reference)
        if order is None:
            work.quarantine(
                record,
                "Linnworks no longer has this order; check whether it was deleted",
                expected_from=WRITTEN,
            )
        elif order.processed and order.general_info.hold_or_cancel:
            work.quarantine(record, TOO_LATE, expected_from=WRITTEN)
        elif order.processed:
            already.append(record)
        elif order.location_id != location_id:  # moved since it was sent: not ours to process
            work.quarantine(record, settle_by_hand(order), expected_from=WRITTEN)
        elif (order.shipping_info.tracking_number or "") != record.tracking_numbers[0]:
            work.quarantine(
                record,
                "the tracking number changed in Linnworks after it was written; check it",
                expected_from=WRITTEN,
            )
        else:
            ready.append(record)
    _mark_processed(work, already, "Linnworks shows it processed")
    return lines_as_shipped(work, ready, orders)  # never process lines that differ from what shipped


def _process(
    work: Outcomes, records: Sequence[OrderRecord], location_id: UUID
) -> dict[str, ProcessOrderResult]:
    linnworks = work.runtime.linnworks
    ids = [UUID(record.reference) for record in records]
    try:
        if work.runtime.settings.process_method == "batch":
            results = linnworks.process_orders_in_batch(ids, location_id=location_id)
        else:
            results = [linnworks.process_fulfilment_centre_order(order_id) for order_id in ids]
    except (OutcomeUnknownError, RetryableError) as error:
        for record in records:
            work.defer(
                record, error, expected_from=WRITTEN
            )  # stays ``tracking_written``: the next run re-reads Processed first
        return {}
    except RecordError as error:
        # Linnworks may refuse a whole call for one order it will not process (a 400): go one by one, so
        # only that order is quarantined instead of the batch failing on every run.
        if len(records) > 1:
            return {
                ref: result
                for record in records
                for ref, result in _process(work, [record], location_id).items()
            }
        results = [
            ProcessOrderResult.model_validate({"OrderId": ids[0], "Processed": False, "Error": error.message})
        ]
    return {str(result.order_id): result for result in results if result.order_id is not None}


def _record_processing(
    work: Outcomes, records: Sequence[OrderRecord], results: dict[str, ProcessOrderResult]
) -> None:
    refused = [r for r in records if r.reference in results and not results[r.reference].processed]
    recheck = read_orders(work.runtime, refused) if refused else {}
    done: list[OrderRecord] = []
    for record in records:
        result = results.get(record.reference)
        if result is None:
            continue
        order = recheck.get(record.reference)
        if result.processed or (order is not None and order.processed):
            done.append(record)
        else:
            work.quarantine(
                record,
                f"Linnworks refused to process the order: {result.error or 'no reason given'}",
                expected_from=WRITTEN,
            )
    _mark_processed(work, done, "processed")


def _mark_processed(work: Outcomes, records: Sequence[OrderRecord], detail: str) -> None:
    """Record orders Linnworks processed (one ledger transaction for the batch)."""
    moved = move_all(
        work.runtime, [record.reference for record in records], State.PROCESSED,
        expected_from=[State.TRACKING_WRITTEN], owner=work.owner, detail=detail,
    )  # fmt: skip
    work.report.processed += [
        ReportRow(reference=record.reference, label=record.num_order_id, detail=record.tracking_numbers[0])
        for record in moved
    ]
