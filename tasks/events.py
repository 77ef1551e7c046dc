"""3PL events -> ledger: shipments, cancellations, holds and errors the 3PL reports, each applied once.

A shipment is recorded in the ledger (``shipped`` or ``partially_shipped``) before anything is written to
Linnworks; tasks.reconcile then writes its tracking, reads it back and processes the order.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from prefect import task

from clients.errors import RecordError
from clients.linnworks import OrderDetails
from clients.threepl import Event, EventKind, Shipment
from ledger import (
    NO_LEASE,
    EventEffect,
    Move,
    NewEvent,
    OrderRecord,
    ShipmentSeen,
    ShippedLine,
    State,
    StateConflictError,
)
from tasks.context import Account, runtime_for
from tasks.holds import is_held, on_hold, on_released
from tasks.notes import add_order_note
from tasks.outcomes import Outcomes
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = ["EVENTS_CURSOR", "pull_events", "shipment_seen"]

logger = logging.getLogger("lw3pl.events")

EVENTS_CURSOR = "threepl-events"
MAX_POLLS = 400  # per run; ShipBob: a page of 250 orders per poll, so up to 100,000 orders a run
SHIPPABLE = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.CANCEL_REQUESTED, State.ON_HOLD)
# Past shipping: a parcel event for such an order is only kept. Any of these states will do for that, so
# another run moving the order on meanwhile (shipped -> tracking_written -> processed) is no conflict.
PAST_SHIPPING = tuple(state for state in State if state not in SHIPPABLE)


@task(name="pull-3pl-events", **TASK_RETRY_OPTIONS)
def pull_events(account: Account) -> RunReport:
    """Apply new 3PL events to the ledger (each once), then save the checkpoint and acknowledge them."""
    work = Outcomes(runtime_for(account))
    ledger, adapter = work.runtime.ledger, work.runtime.threepl
    checkpoint = ledger.get_cursor(EVENTS_CURSOR)
    foreign: set[str] = set()
    for _ in range(MAX_POLLS):
        try:
            page = adapter.poll_events(checkpoint)
        except RecordError as error:
            # An unreadable feed (an HTML page, cut JSON, after the client's own re-reads) must not stop the
            # tracking and processing of orders already shipped; the checkpoint stays, so it is read again.
            # The message is not copied: its body excerpt may hold customer data.
            work.note(f"3PL events unreadable this run ({type(error).__name__}); read next run")
            logger.warning("3PL events unreadable: %s", type(error).__name__)
            break
        work.report.notes += [f"3PL record {record} skipped: {reason}" for record, reason in page.quarantined]
        seen = ledger.events_seen(event.event_id for event in page.events)
        fresh = sorted((e for e in page.events if e.event_id not in seen), key=lambda e: e.occurred_at)
        foreign |= _apply_page(work, fresh)
        if page.checkpoint is not None and page.checkpoint != checkpoint:  # unchanged: nothing to save
            ledger.set_cursor(EVENTS_CURSOR, page.checkpoint)
        adapter.ack(page.events)
        # A page with nothing new does not end the pull: a pass of ShipBob's update stream starts a little
        # before the newest update seen, so a busy account's pass opens with pages of events recorded
        # already, and the new ones are behind them. The pass's end or a checkpoint that stops moving does.
        if page.caught_up or page.checkpoint in (None, checkpoint):
            break
        checkpoint = page.checkpoint
    if foreign:
        work.note(_never_sent(foreign))
    return work.report


def _never_sent(references: set[str]) -> str:
    orders = sorted(references)
    shown = ", ".join(orders[:3]) + (f" and {len(orders) - 3} more" if len(orders) > 3 else "")
    return (
        f"3PL events named {len(orders)} orders this ledger never sent ({shown}): sent by another tool or "
        "from another ledger; left as they are"
    )


def _apply_page(work: Outcomes, fresh: list[Event]) -> set[str]:
    """Apply a page's new events (oldest first), the common ones in one ledger transaction; returns the
    references the ledger does not hold (their events recorded as seen, nothing else).

    A complete shipment of an order in a shippable state is a plain move: those are gathered and written
    with their event records by one ``apply_events``. Every other event runs its handler on its own, as
    before, and is recorded after its effects (with the next batch). An order already in the batch sends
    the batch first, so each event sees the order as the events before it left it.
    """
    references = {event.reference for event in fresh}
    known = work.runtime.ledger.get_many(references)  # one read per page
    # The 3PL lists an order only once it was created, and this ledger registers an order before it sends
    # one: an order absent now was not sent from here (another tool, a replaced ledger). A migration leaves
    # thousands in the first pass, so they are not read again one by one.
    unknown = references - known.keys()
    batch: dict[str, tuple[EventEffect, ShipmentSeen, datetime | None]] = {}
    handled: list[EventEffect] = []
    for event in fresh:
        if event.reference in unknown:
            handled.append(EventEffect(event=_new_event(event)))
            continue
        if event.reference in batch:
            _apply_batch(work, batch, handled, known)
        effect = _batched_effect(event, known.get(event.reference))
        if effect is not None:
            batch[event.reference] = effect
            continue
        _apply(work, event, known)
        handled.append(EventEffect(event=_new_event(event)))
    _apply_batch(work, batch, handled, known)
    return unknown


def _apply_batch(
    work: Outcomes,
    batch: dict[str, tuple[EventEffect, ShipmentSeen, datetime | None]],
    handled: list[EventEffect],
    known: dict[str, OrderRecord],
) -> None:
    """Write the batched moves and the handled events' records in one transaction, then report them."""
    if not batch and not handled:
        return
    effects = [effect for effect, _, _ in batch.values()]
    outcomes = work.runtime.ledger.apply_events([*effects, *handled], owner=NO_LEASE)
    for (_, seen, shipped_at), outcome in zip(batch.values(), outcomes[: len(batch)], strict=True):
        record = outcome.move.record if outcome.move is not None else None
        if record is not None:
            known[record.reference] = record
        if outcome.move is not None and outcome.move.moved and record is not None:
            _shipped(work, record, seen, shipped_at)
    batch.clear()
    handled.clear()


def _batched_effect(
    event: Event, record: OrderRecord | None
) -> tuple[EventEffect, ShipmentSeen, datetime | None] | None:
    """The ledger-only effect of a complete shipment of an order in a shippable state, else None.

    Kept in step with ``_on_shipment``: the same move, and (when another run moved the order meanwhile) the
    same parcel kept without a state change. A partial shipment also writes a Linnworks note after its move,
    so it takes the handler's path (its event is recorded only once the note is written), and so does a
    held order's shipment (its hold marker is cleared after the move).
    """
    shipment = event.shipment
    if record is None or record.state not in SHIPPABLE or is_held(record):
        return None
    if event.kind is not EventKind.SHIPMENT or shipment is None or not shipment.is_final:
        return None
    seen = shipment_seen(shipment, counted=record.tracking_numbers)
    move = Move(
        reference=event.reference, to=State.SHIPPED, expected_from=frozenset(SHIPPABLE),
        detail=f"3PL shipment {shipment.shipment_id}", changes={"shipment": seen, "carrier": seen.carrier},
    )  # fmt: skip
    return EventEffect(event=_new_event(event), move=move, keep={"shipment": seen}), seen, shipment.shipped_at


def _new_event(event: Event) -> NewEvent:
    return NewEvent(
        event_id=event.event_id,
        reference=event.reference,
        kind=event.kind.value,
        occurred_at=event.occurred_at,
        payload={"remote_id": event.remote_id, "detail": event.detail[:500]},
    )


def _apply(work: Outcomes, event: Event, known: dict[str, OrderRecord]) -> None:
    """Apply one event; ``known`` caches the page's orders (an entry is dropped once the order may change)."""
    record = known.get(event.reference) or work.runtime.ledger.get(event.reference)
    if record is None:  # not expected: _apply_page sends only orders the ledger held when the page was read
        work.note(f"3PL event {event.event_id} names an order lw3pl never sent: {event.reference}")
        return
    if record.state is State.SUBMITTING and event.kind is not EventKind.ERROR:
        # The 3PL has the order although our create's outcome was never recorded: now we know.
        record = known[record.reference] = work.runtime.ledger.transition(
            record.reference, State.SUBMITTED, expected_from=[State.SUBMITTING], owner=NO_LEASE,
            remote_id=event.remote_id,
            last_error=None, detail=f"3PL event {event.kind.value}",
        )  # fmt: skip
    handlers = {
        EventKind.SHIPMENT: _on_shipment,
        EventKind.CANCELLED: _on_cancelled,
        EventKind.ON_HOLD: on_hold,
        EventKind.BACKORDERED: on_hold,
        EventKind.RELEASED: on_released,
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


def _on_shipment(work: Outcomes, record: OrderRecord, event: Event) -> None:
    shipment = event.shipment
    if shipment is None:
        work.note(f"3PL shipment event {event.event_id} has no shipment")
        return
    seen = shipment_seen(shipment, counted=record.tracking_numbers)
    ledger = work.runtime.ledger
    if record.state in PAST_SHIPPING:
        # already complete: keep the parcel, change nothing
        ledger.update(record.reference, expected_from=PAST_SHIPPING, owner=NO_LEASE, shipment=seen)
        return
    to = State.SHIPPED if shipment.is_final else State.PARTIALLY_SHIPPED
    moved = ledger.transition(
        record.reference, to, expected_from=SHIPPABLE, owner=NO_LEASE, shipment=seen, carrier=seen.carrier,
        detail=f"3PL shipment {shipment.shipment_id}",
    )  # fmt: skip
    on_released(work, moved)  # a held order that ships was released: its marker goes (after the ledger)
    _shipped(work, record, seen, shipment.shipped_at)
    if not shipment.is_final:
        numbers = ", ".join(seen.tracking_numbers)
        text = f"lw3pl: partly shipped by the 3PL (tracking {numbers}); waiting for the rest"
        add_order_note(work.runtime.linnworks, UUID(record.reference), text)


def _shipped(work: Outcomes, record: OrderRecord, seen: ShipmentSeen, shipped_at: datetime | None) -> None:
    """Report a shipment the ledger has recorded."""
    row = ReportRow(
        reference=record.reference,
        label=record.num_order_id,
        detail=", ".join(seen.tracking_numbers),
        shipped_at=shipped_at,
    )
    work.report.shipped.append(row)


def shipment_seen(shipment: Shipment, counted: Collection[str] = ()) -> ShipmentSeen:
    """What the ledger keeps of a 3PL shipment: its id, every parcel's tracking number, units per SKU.

    A parcel whose tracking number is in ``counted`` (the ledger has it from an earlier shipment) adds no
    units: a 3PL that groups parcels by time (ShipBob) may report an earlier parcel again, in a bigger group.
    """
    lines: dict[str, int] = {}
    for package in shipment.packages:
        if package.tracking_number in counted:
            continue
        for line in package.lines:
            lines[line.sku] = lines.get(line.sku, 0) + line.quantity
    return ShipmentSeen(
        shipment_id=shipment.shipment_id,
        tracking_numbers=tuple(package.tracking_number for package in shipment.packages),
        carrier=shipment.packages[0].carrier,
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
    )


def _on_cancelled(work: Outcomes, record: OrderRecord, event: Event) -> None:
    if record.state is State.CANCEL_REQUESTED:
        _settle_cancelled(work, record, "3PL confirmed our cancel request")
        return
    if record.state not in (State.SUBMITTED, State.EXPORTED, State.ON_HOLD, State.PARTIALLY_SHIPPED):
        work.note(f"3PL cancelled order {record.reference} in state {record.state.value}: ignored")
        return
    text = f"lw3pl: the 3PL cancelled this order ({event.detail or 'no reason given'})"
    order_id = UUID(record.reference)
    order = work.runtime.linnworks.get_order_by_id(order_id)
    if order is not None and order.is_cancelled:
        # Cancelled in Linnworks too: the 3PL's cancel is the one another run is carrying from Linnworks
        # (its ledger write not made yet when this event was read). Nothing to hold for a person.
        _settle_cancelled(work, record, "3PL cancelled; already cancelled in Linnworks")
        return
    # A part-shipped order is never cancelled in Linnworks (units left the warehouse): it is held for a
    # person whatever the policy, instead of waiting for the rest forever.
    partly_shipped = record.state is State.PARTIALLY_SHIPPED
    if work.runtime.settings.threepl_cancel_policy == "cancel" and not partly_shipped:
        location = _location_of(order_id, order)
        work.runtime.linnworks.cancel_order(order_id, fulfilment_center=location, note=text)
        _settle_cancelled(work, record, "3PL cancelled; cancelled in Linnworks", note=text)
        return
    add_order_note(work.runtime.linnworks, order_id, text)
    if record.state is not State.ON_HOLD:
        work.runtime.ledger.transition(
            record.reference, State.ON_HOLD, expected_from=[record.state], owner=NO_LEASE,
            detail="3PL cancelled; held for a person",
        )  # fmt: skip
    work.note(f"order {record.num_order_id} held: the 3PL cancelled it")


def _settle_cancelled(work: Outcomes, record: OrderRecord, detail: str, note: str = "") -> None:
    """``record`` cancelled in the ledger (from the state it was read in) and reported as such."""
    work.runtime.ledger.transition(
        record.reference, State.CANCELLED, expected_from=[record.state], owner=NO_LEASE, detail=detail
    )
    work.report.cancelled.append(
        ReportRow(reference=record.reference, label=record.num_order_id, detail=note)
    )


def _location_of(order_id: UUID, order: OrderDetails | None) -> UUID:
    location = None if order is None else order.location_id
    if location is None:
        raise RecordError(f"Linnworks has no order {order_id} to cancel")
    return location


def _on_error(work: Outcomes, record: OrderRecord, event: Event) -> None:
    if record.state in (State.PROCESSED, State.CANCELLED, State.QUARANTINED):
        return
    work.quarantine(record, f"the 3PL reported an error: {event.detail or 'no detail'}", claimed=False)


def _on_cancel_rejected(work: Outcomes, record: OrderRecord, event: Event) -> None:
    if record.state is not State.CANCEL_REQUESTED:
        return
    reason = (
        f"cancelled in Linnworks but the 3PL refused to cancel ({event.detail or 'no reason given'}): "
        "it may ship; recover the parcel or refund"
    )
    work.quarantine(record, reason, claimed=False)
