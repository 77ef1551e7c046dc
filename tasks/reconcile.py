"""Reconcile: 3PL events -> ledger; tracking written and read back; processing; cancellations both ways.

Order of effects for one shipment (invariant 3): the shipment is recorded in the ledger (``shipped``) ->
SetOrderShippingInfo -> the order is read back and the tracking number compared (``tracking_written``) ->
Processed is re-read -> ProcessOrdersInBatch / ProcessFulfilmentCentreOrder (``processed``). A mismatch
quarantines the order; a lost reply is resolved by re-reading, never by processing blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from prefect import task

from clients.errors import OutcomeUnknownError, RecordError, RetryableError
from clients.linnworks import OrderDetails, ProcessOrderResult, UpdateOrderShippingInfo
from clients.threepl import CancelOutcome, Event, EventKind, Shipment, WrittenTracking
from ledger import NewEvent, OrderRecord, ShipmentSeen, ShippedLine, State, StateConflictError
from lw3pl.crashpoints import crashpoint
from tasks.context import Runtime, current_runtime, leased, move_all, run_owner
from tasks.notes import add_order_note
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = [
    "carry_linnworks_cancellations",
    "process_orders",
    "pull_events",
    "shipment_seen",
    "write_tracking",
]

logger = logging.getLogger("lw3pl.reconcile")

EVENTS_CURSOR = "threepl-events"
MAX_POLLS = 20
SHIPPABLE = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.CANCEL_REQUESTED, State.ON_HOLD)
AT_THE_3PL = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.CANCEL_REQUESTED)
TOO_LATE = "cancelled in Linnworks but the 3PL had already shipped it: recover the parcel or refund"


@dataclass
class _Work:
    runtime: Runtime
    owner: str = field(default_factory=run_owner)
    report: RunReport = field(default_factory=RunReport)

    def quarantine(self, record: OrderRecord, reason: str, *, claimed: bool = True) -> None:
        self.runtime.ledger.quarantine(record.reference, reason, owner=self.owner if claimed else None)
        self.report.quarantined.append(
            ReportRow(reference=record.reference, label=record.num_order_id, detail=reason)
        )
        logger.warning("order %s quarantined", record.reference)

    def defer(self, record: OrderRecord, error: Exception) -> None:
        self.runtime.ledger.update(record.reference, owner=self.owner, last_error=str(error)[:500])
        self.report.deferred += 1


# --- events from the 3PL ------------------------------------------------------------------------------


@task(name="pull-3pl-events", **TASK_RETRY_OPTIONS)
def pull_events() -> RunReport:
    """Apply new 3PL events to the ledger (each once), then save the checkpoint and acknowledge them."""
    work = _Work(current_runtime())
    ledger, adapter = work.runtime.ledger, work.runtime.threepl
    checkpoint = ledger.get_cursor(EVENTS_CURSOR)
    for _ in range(MAX_POLLS):
        try:
            page = adapter.poll_events(checkpoint)
        except RecordError as error:
            # An unreadable feed (an HTML page, cut JSON, after the client's own re-reads) must not stop the
            # tracking and processing of orders already shipped; the checkpoint stays, so it is read again.
            # The message is not copied: its body excerpt may hold customer data.
            work.report.notes.append(
                f"3PL events unreadable this run ({type(error).__name__}); read next run"
            )
            logger.warning("3PL events unreadable: %s", type(error).__name__)
            break
        work.report.notes += [f"3PL record {record} skipped: {reason}" for record, reason in page.quarantined]
        seen = ledger.events_seen(event.event_id for event in page.events)
        fresh = sorted((e for e in page.events if e.event_id not in seen), key=lambda e: e.occurred_at)
        known = ledger.get_many({event.reference for event in fresh})  # one read per page, not per event
        for event in fresh:
            _apply(work, event, known)
        ledger.record_events([_new_event(event) for event in fresh])
        if page.checkpoint is not None:
            ledger.set_cursor(EVENTS_CURSOR, page.checkpoint)
        adapter.ack(page.events)
        if not fresh or page.checkpoint in (None, checkpoint):
            break
        checkpoint = page.checkpoint
    return work.report


def _new_event(event: Event) -> NewEvent:
    return NewEvent(
        event_id=event.event_id,
        reference=event.reference,
        kind=event.kind.value,
        occurred_at=event.occurred_at,
        payload={"remote_id": event.remote_id, "detail": event.detail[:500]},
    )


def _apply(work: _Work, event: Event, known: dict[str, OrderRecord]) -> None:
    """Apply one event; ``known`` caches the page's orders (an entry is dropped once the order may change)."""
    record = known.get(event.reference) or work.runtime.ledger.get(event.reference)
    if record is None:
        work.report.notes.append(
            f"3PL event {event.event_id} names an order lw3pl never sent: {event.reference}"
        )
        return
    if record.state is State.SUBMITTING and event.kind is not EventKind.ERROR:
        # The 3PL has the order although our create's outcome was never recorded: now we know.
        record = known[record.reference] = work.runtime.ledger.transition(
            record.reference, State.SUBMITTED, expected_from=[State.SUBMITTING], remote_id=event.remote_id,
            last_error=None, detail=f"3PL event {event.kind.value}",
        )  # fmt: skip
    handlers = {
        EventKind.SHIPMENT: _on_shipment,
        EventKind.CANCELLED: _on_cancelled,
        EventKind.ON_HOLD: _on_hold,
        EventKind.BACKORDERED: _on_hold,
        EventKind.ERROR: _on_error,
        EventKind.CANCEL_REJECTED: _on_cancel_rejected,
    }
    handler = handlers.get(event.kind)
    if handler is None:
        return
    known.pop(event.reference, None)
    try:
        try:
            handler(work, record, event)
        except StateConflictError:
            # Another run (reconcile and sync-stock both pull events) applied it a moment ago: apply it to
            # the order as it is now; every effect is idempotent (shipments by id, notes by text, CAS states).
            fresh = work.runtime.ledger.get(event.reference)
            if fresh is not None:
                handler(work, fresh, event)
    except RecordError as error:
        # One order Linnworks refuses (e.g. a locked order to cancel) must not fail the page for all others.
        reason = f"could not apply the 3PL's {event.kind.value} event: {error.message}; fix it in Linnworks"
        work.quarantine(record, reason, claimed=False)


def _on_shipment(work: _Work, record: OrderRecord, event: Event) -> None:
    shipment = event.shipment
    if shipment is None:
        work.report.notes.append(f"3PL shipment event {event.event_id} has no shipment")
        return
    seen = shipment_seen(shipment)
    ledger = work.runtime.ledger
    if record.state not in SHIPPABLE and record.state is not State.PARTIALLY_SHIPPED:
        ledger.update(record.reference, shipment=seen)  # already complete: keep the parcel, change nothing
        return
    to = State.SHIPPED if shipment.is_final else State.PARTIALLY_SHIPPED
    ledger.transition(
        record.reference, to, expected_from=SHIPPABLE, shipment=seen, carrier=seen.carrier,
        detail=f"3PL shipment {shipment.shipment_id}",
    )  # fmt: skip
    row = ReportRow(
        reference=record.reference, label=record.num_order_id, detail=", ".join(seen.tracking_numbers)
    )
    work.report.shipped.append(row)
    if not shipment.is_final:
        numbers = ", ".join(seen.tracking_numbers)
        text = f"lw3pl: partly shipped by the 3PL (tracking {numbers}); waiting for the rest"
        add_order_note(work.runtime.linnworks, UUID(record.reference), text)


def shipment_seen(shipment: Shipment) -> ShipmentSeen:
    """What the ledger keeps of a 3PL shipment: its id, every parcel's tracking number, units per SKU."""
    lines: dict[str, int] = {}
    for package in shipment.packages:
        for line in package.lines:
            lines[line.sku] = lines.get(line.sku, 0) + line.quantity
    return ShipmentSeen(
        shipment_id=shipment.shipment_id,
        tracking_numbers=tuple(package.tracking_number for package in shipment.packages),
        carrier=shipment.packages[0].carrier,
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
    )


def _on_cancelled(work: _Work, record: OrderRecord, event: Event) -> None:
    ledger = work.runtime.ledger
    if record.state is State.CANCEL_REQUESTED:
        ledger.transition(record.reference, State.CANCELLED, detail="3PL confirmed our cancel request")
        work.report.cancelled.append(ReportRow(reference=record.reference, label=record.num_order_id))
        return
    if record.state not in (State.SUBMITTED, State.EXPORTED, State.ON_HOLD, State.PARTIALLY_SHIPPED):
        work.report.notes.append(
            f"3PL cancelled order {record.reference} in state {record.state.value}: ignored"
        )
        return
    text = f"lw3pl: the 3PL cancelled this order ({event.detail or 'no reason given'})"
    order_id = UUID(record.reference)
    # A part-shipped order is never cancelled in Linnworks (units left the warehouse): it is held for a
    # person whatever the policy, instead of waiting for the rest forever.
    partly_shipped = record.state is State.PARTIALLY_SHIPPED
    if work.runtime.settings.threepl_cancel_policy == "cancel" and not partly_shipped:
        location = _location_of(work, order_id)
        work.runtime.linnworks.cancel_order(order_id, fulfilment_center=location, note=text)
        ledger.transition(record.reference, State.CANCELLED, detail="3PL cancelled; cancelled in Linnworks")
        work.report.cancelled.append(
            ReportRow(reference=record.reference, label=record.num_order_id, detail=text)
        )
        return
    add_order_note(work.runtime.linnworks, order_id, text)
    if record.state is not State.ON_HOLD:
        ledger.transition(record.reference, State.ON_HOLD, detail="3PL cancelled; held for a person")
    work.report.notes.append(f"order {record.num_order_id} held: the 3PL cancelled it")


def _location_of(work: _Work, order_id: UUID) -> UUID:
    order = work.runtime.linnworks.get_order_by_id(order_id)
    location = None if order is None else order.location_id
    if location is None:
        raise RecordError(f"Linnworks has no order {order_id} to cancel")
    return location


def _on_hold(work: _Work, record: OrderRecord, event: Event) -> None:
    reason = f"3PL reports {event.kind.value}: {event.detail or 'no detail'}"
    work.runtime.ledger.update(record.reference, last_error=reason[:500])
    work.report.notes.append(f"order {record.num_order_id}: {reason}")


def _on_error(work: _Work, record: OrderRecord, event: Event) -> None:
    if record.state in (State.PROCESSED, State.CANCELLED, State.QUARANTINED):
        return
    work.quarantine(record, f"the 3PL reported an error: {event.detail or 'no detail'}", claimed=False)


def _on_cancel_rejected(work: _Work, record: OrderRecord, event: Event) -> None:
    if record.state is not State.CANCEL_REQUESTED:
        return
    reason = (
        f"cancelled in Linnworks but the 3PL refused to cancel ({event.detail or 'no reason given'}): "
        "it may ship; recover the parcel or refund"
    )
    work.quarantine(record, reason, claimed=False)


# --- tracking ----------------------------------------------------------------------------------------


@task(name="write-tracking", **TASK_RETRY_OPTIONS)
def write_tracking(limit: int, location_id: UUID | None = None) -> RunReport:
    """For up to ``limit`` shipped orders: write the tracking number, read it back, compare.

    With ``location_id`` the orders whose read-back matched are processed in the same task: the read-back
    is the fresh read of Processed that processing needs, so no second read and no second task per batch.
    """
    work = _Work(current_runtime())
    with leased(work.runtime, [State.SHIPPED], work.owner, limit=limit) as claimed:
        work.report.claimed = len(claimed)
        written = [record for record in claimed if _write_one(work, record)]
        crashpoint("after_tracking_write")
        confirmed, orders = _read_back(work, written)
        _confirm_tracking(work, confirmed)
        if location_id is not None:
            _process_ready(work, _not_yet_processed(work, confirmed, orders), location_id)
    return work.report


def _write_one(work: _Work, record: OrderRecord) -> bool:
    if not record.tracking_numbers:
        work.quarantine(record, "the 3PL shipped the order without a tracking number; add it by hand")
        return False
    order_id = UUID(record.reference)
    linnworks = work.runtime.linnworks
    try:
        linnworks.set_order_shipping_info(
            order_id, UpdateOrderShippingInfo(tracking_number=record.tracking_numbers[0])
        )
        if len(record.tracking_numbers) > 1:
            others = ", ".join(record.tracking_numbers[1:])
            add_order_note(linnworks, order_id, f"lw3pl: further parcels' tracking numbers: {others}")
    except RetryableError as error:
        work.defer(record, error)
        return False
    except RecordError as error:
        work.quarantine(record, f"Linnworks refused the tracking number: {error.message}")
        return False
    return True


def _read_back(
    work: _Work, records: Sequence[OrderRecord]
) -> tuple[list[OrderRecord], dict[str, OrderDetails]]:
    """Orders whose tracking Linnworks shows as written (now ``tracking_written``), and what was read."""
    orders = _details(work, records)
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
        )
    confirmed = move_all(
        work.runtime, matched, State.TRACKING_WRITTEN, expected_from=[State.SHIPPED], owner=work.owner,
        detail="tracking read back equal",
    )  # fmt: skip
    return confirmed, orders


def _confirm_tracking(work: _Work, records: Sequence[OrderRecord]) -> None:
    """Tell the 3PL the tracking is in Linnworks (ShipBob: off its tracking queue). A failure loses
    nothing: the parcels stay queued and are re-read each poll as repeats (deduplicated)."""
    written = [
        WrittenTracking(reference=r.reference, remote_id=r.remote_id, tracking_numbers=r.tracking_numbers)
        for r in records
        if r.remote_id and r.tracking_numbers
    ]
    if not written:
        return
    try:
        work.runtime.threepl.confirm_tracking(written)
    except (RetryableError, RecordError) as error:
        work.report.notes.append(f"3PL tracking not confirmed ({type(error).__name__}); parcels stay queued")
        logger.warning("3PL tracking confirmation failed: %s", type(error).__name__)


def _details(work: _Work, records: Sequence[OrderRecord]) -> dict[str, OrderDetails]:
    ids = [UUID(record.reference) for record in records]
    return {str(order.order_id): order for order in work.runtime.linnworks.get_orders_by_id(ids)}


# --- processing -------------------------------------------------------------------------------------


@task(name="process-orders", **TASK_RETRY_OPTIONS)
def process_orders(limit: int, location_id: UUID) -> RunReport:
    """Process up to ``limit`` orders whose tracking was read back; Processed is re-read first."""
    work = _Work(current_runtime())
    with leased(work.runtime, [State.TRACKING_WRITTEN], work.owner, limit=limit) as claimed:
        work.report.claimed = len(claimed)
        _process_ready(work, _not_yet_processed(work, claimed), location_id)
    return work.report


def _process_ready(work: _Work, ready: Sequence[OrderRecord], location_id: UUID) -> None:
    crashpoint("before_process")
    results = _process(work, ready, location_id)
    crashpoint("after_process")
    _record_processing(work, ready, results)


def _not_yet_processed(
    work: _Work, records: Sequence[OrderRecord], orders: dict[str, OrderDetails] | None = None
) -> list[OrderRecord]:
    """Mark orders Linnworks already processed (a lost reply, an earlier crash); return the rest.

    ``orders`` are details read a moment ago in the same task (the tracking read-back); else they are read.
    """
    orders = _details(work, records) if orders is None else orders
    ready: list[OrderRecord] = []
    already: list[OrderRecord] = []
    for record in records:
        order = orders.get(record.reference)
        if order is None:
            work.quarantine(record, "Linnworks no longer has this order; check whether it was deleted")
        elif order.processed and order.general_info.hold_or_cancel:
            work.quarantine(record, TOO_LATE)
        elif order.processed:
            already.append(record)
        elif (order.shipping_info.tracking_number or "") != record.tracking_numbers[0]:
            work.quarantine(record, "the tracking number changed in Linnworks after it was written; check it")
        else:
            ready.append(record)
    _mark_processed(work, already, "Linnworks shows it processed")
    return ready


def _process(work: _Work, records: Sequence[OrderRecord], location_id: UUID) -> dict[str, ProcessOrderResult]:
    linnworks = work.runtime.linnworks
    ids = [UUID(record.reference) for record in records]
    if not ids:
        return {}
    try:
        if work.runtime.settings.process_method == "batch":
            results = linnworks.process_orders_in_batch(ids, location_id=location_id)
        else:
            results = [linnworks.process_fulfilment_centre_order(order_id) for order_id in ids]
    except (OutcomeUnknownError, RetryableError) as error:
        for record in records:
            work.defer(record, error)  # stays ``tracking_written``: the next run re-reads Processed first
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
    work: _Work, records: Sequence[OrderRecord], results: dict[str, ProcessOrderResult]
) -> None:
    refused = [r for r in records if r.reference in results and not results[r.reference].processed]
    recheck = _details(work, refused) if refused else {}
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
                record, f"Linnworks refused to process the order: {result.error or 'no reason given'}"
            )
    _mark_processed(work, done, "processed")


def _mark_processed(work: _Work, records: Sequence[OrderRecord], detail: str) -> None:
    """Record orders Linnworks processed (one ledger transaction for the batch)."""
    move_all(
        work.runtime, [record.reference for record in records], State.PROCESSED,
        expected_from=[State.TRACKING_WRITTEN], owner=work.owner, detail=detail,
    )  # fmt: skip
    work.report.processed += [
        ReportRow(reference=record.reference, label=record.num_order_id, detail=record.tracking_numbers[0])
        for record in records
    ]


# --- cancellations from Linnworks --------------------------------------------------------------------


@task(name="carry-linnworks-cancellations", **TASK_RETRY_OPTIONS)
def carry_linnworks_cancellations(location_id: UUID) -> RunReport:
    """Orders sent (or about to be) that are no longer open at the fulfilment centre: cancel at the 3PL."""
    work = _Work(current_runtime())
    ledger = work.runtime.ledger
    # SHIPPED too: a shipped order cancelled in Linnworks must be caught here, as "too late", before the
    # tracking write fails on the cancelled (processed) order with a reason nobody can act on.
    candidates = ledger.in_states([State.PENDING, *AT_THE_3PL, State.SHIPPED])
    if not candidates:
        return work.report
    open_now = {str(i) for i in work.runtime.linnworks.get_all_open_orders(fulfilment_center=location_id)}
    gone = [record for record in candidates if record.reference not in open_now]
    orders = _details(work, gone)
    for record in gone:
        _carry_one(work, record, orders.get(record.reference), location_id)
    return work.report


def _carry_one(work: _Work, record: OrderRecord, order: OrderDetails | None, location_id: UUID) -> None:
    if order is not None and not order.processed and order.location_id == location_id:
        return  # still open here (listed a moment ago under another filter): nothing to do
    if record.state is State.PENDING:
        work.runtime.ledger.transition(
            record.reference, State.CANCELLED, detail="gone from Linnworks before sending"
        )
        return
    if order is None or not order.processed or not order.general_info.hold_or_cancel:
        where = (
            "deleted" if order is None else ("processed" if order.processed else "moved to another location")
        )
        reason = (
            f"the order was {where} in Linnworks after it was sent to the 3PL; settle it with the 3PL by hand"
        )
        work.quarantine(record, reason, claimed=False)
        return
    _cancel_at_3pl(work, record)


def _cancel_at_3pl(work: _Work, record: OrderRecord) -> None:
    ledger = work.runtime.ledger
    if record.state is State.CANCEL_REQUESTED:
        return  # asked already; the 3PL's answer arrives as an event
    if record.state is State.SHIPPED:  # complete at the 3PL: nothing left there to cancel
        work.quarantine(record, TOO_LATE, claimed=False)
        return
    result = work.runtime.threepl.cancel_order(record.reference, "cancelled in Linnworks")
    if result.outcome in (CancelOutcome.CANCELLED, CancelOutcome.NOT_FOUND):
        ledger.transition(record.reference, State.CANCELLED, detail=f"3PL cancel: {result.outcome.value}")
        work.report.cancelled.append(ReportRow(reference=record.reference, label=record.num_order_id))
    elif result.outcome is CancelOutcome.REQUESTED:
        ledger.transition(record.reference, State.CANCEL_REQUESTED, detail="3PL cancel requested")
    elif result.outcome is CancelOutcome.TOO_LATE:
        work.quarantine(record, TOO_LATE, claimed=False)
    else:
        work.quarantine(
            record, "cancelled in Linnworks; this 3PL cannot cancel by API: cancel it there", claimed=False
        )
