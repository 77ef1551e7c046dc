"""Cancellations from Linnworks: orders sent (or about to be) that are no longer open -> cancel at the 3PL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from prefect import task

from clients.linnworks import OrderDetails
from clients.threepl import CancelOutcome
from ledger import LeaseLostError, OrderRecord, State, StateConflictError
from tasks.context import Account, Runtime, leased, runtime_for
from tasks.outcomes import Outcomes
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = [
    "TOO_LATE",
    "carry_linnworks_cancellations",
    "gone_after_shipping",
    "read_orders",
    "settle_by_hand",
]

AT_THE_3PL = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.CANCEL_REQUESTED)
# SHIPPED too: a shipped order cancelled in Linnworks is "too late". The tracking batches, which run beside
# the event pull (flows.reconcile), judge such an order the same way when Linnworks refuses its tracking
# (``gone_after_shipping``), whichever of the two steps claims it first.
CARRIED = (State.PENDING, *AT_THE_3PL, State.SHIPPED)
TOO_LATE = "cancelled in Linnworks but the 3PL had already shipped it: recover the parcel or refund"


def read_orders(runtime: Runtime, records: Sequence[OrderRecord]) -> dict[str, OrderDetails]:
    """Linnworks' details of the ledger's ``records`` (one GetOrdersById call), by reference."""
    ids = [UUID(record.reference) for record in records]
    return {str(order.order_id): order for order in runtime.linnworks.get_orders_by_id(ids)}


@task(name="carry-linnworks-cancellations", **TASK_RETRY_OPTIONS)
def carry_linnworks_cancellations(account: Account, location_id: UUID) -> RunReport:
    """Orders sent (or about to be) that are no longer open at the fulfilment centre: cancel at the 3PL."""
    work = Outcomes(runtime_for(account))
    candidates = work.runtime.ledger.references_in(CARRIED)
    if not candidates:
        return work.report
    open_now = {str(i) for i in work.runtime.linnworks.get_all_open_orders(fulfilment_center=location_id)}
    gone = [reference for reference in candidates if reference not in open_now]
    if not gone:
        return work.report
    # The snapshot above was read without a lease: another run may be processing or cancelling these orders
    # right now. Claiming them (in the same states) skips those another run holds or has settled meanwhile,
    # and Linnworks is read only after the claim, so it shows what that run did.
    with leased(work.runtime, CARRIED, work.owner, limit=len(gone), references=gone) as claimed:
        orders = read_orders(work.runtime, claimed)
        for record in claimed:
            try:
                _carry_one(work, record, orders.get(record.reference), location_id)
            except (StateConflictError, LeaseLostError):
                # A 3PL event (applied without a lease) moved it meanwhile: that run's effect stands.
                work.note(f"order {record.num_order_id} was settled by another run meanwhile; left as it is")
    return work.report


def _carry_one(work: Outcomes, record: OrderRecord, order: OrderDetails | None, location_id: UUID) -> None:
    if order is not None and not order.processed and order.location_id == location_id:
        return  # still open here (listed a moment ago under another filter): nothing to do
    if record.state is State.PENDING:
        work.runtime.ledger.transition(
            record.reference, State.CANCELLED, expected_from=[State.PENDING], owner=work.owner,
            detail="gone from Linnworks before sending",
        )  # fmt: skip
        return
    if order is None or not order.processed or not order.general_info.hold_or_cancel:
        work.quarantine(record, settle_by_hand(order))
        return
    _cancel_at_3pl(work, record)


def settle_by_hand(order: OrderDetails | None) -> str:
    """The quarantine reason for a sent order that left the fulfilment centre's open orders other than by
    a cancellation: deleted, processed by someone else, or moved to another location."""
    where = "deleted" if order is None else ("processed" if order.processed else "moved to another location")
    return f"the order was {where} in Linnworks after it was sent to the 3PL; settle it with the 3PL by hand"


def gone_after_shipping(order: OrderDetails | None) -> str | None:
    """Why an order the 3PL shipped can take no tracking (its quarantine reason, as this step gives it):
    cancelled, processed or deleted in Linnworks; None while it is open."""
    if order is not None and not order.processed:
        return None
    if order is not None and order.processed and order.general_info.hold_or_cancel:
        return TOO_LATE
    return settle_by_hand(order)


def _cancel_at_3pl(work: Outcomes, record: OrderRecord) -> None:
    ledger = work.runtime.ledger
    if record.state is State.CANCEL_REQUESTED:
        return  # asked already; the 3PL's answer arrives as an event
    if record.state is State.SHIPPED:  # complete at the 3PL: nothing left there to cancel
        work.quarantine(record, TOO_LATE)
        return
    result = work.runtime.threepl.cancel_order(record.reference, "cancelled in Linnworks")
    if result.outcome in (CancelOutcome.CANCELLED, CancelOutcome.NOT_FOUND):
        ledger.transition(
            record.reference, State.CANCELLED, expected_from=[record.state], owner=work.owner,
            detail=f"3PL cancel: {result.outcome.value}",
        )  # fmt: skip
        work.report.cancelled.append(ReportRow(reference=record.reference, label=record.num_order_id))
    elif result.outcome is CancelOutcome.REQUESTED:
        ledger.transition(
            record.reference, State.CANCEL_REQUESTED, expected_from=[record.state], owner=work.owner,
            detail="3PL cancel requested",
        )  # fmt: skip
    elif result.outcome is CancelOutcome.TOO_LATE:
        work.quarantine(record, TOO_LATE)
    else:
        work.quarantine(record, "cancelled in Linnworks; this 3PL cannot cancel by API: cancel it there")
