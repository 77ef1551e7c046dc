"""Cancellations from Linnworks: orders sent (or about to be) that are no longer open -> cancel at the 3PL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from prefect import task

from clients.linnworks import OrderDetails
from clients.threepl import CancelOutcome
from ledger import OrderRecord, State
from tasks.context import Account, Runtime, runtime_for
from tasks.outcomes import Outcomes
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = ["TOO_LATE", "carry_linnworks_cancellations", "read_orders"]

AT_THE_3PL = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.CANCEL_REQUESTED)
TOO_LATE = "cancelled in Linnworks but the 3PL had already shipped it: recover the parcel or refund"


def read_orders(runtime: Runtime, records: Sequence[OrderRecord]) -> dict[str, OrderDetails]:
    """Linnworks' details of the ledger's ``records`` (one GetOrdersById call), by reference."""
    ids = [UUID(record.reference) for record in records]
    return {str(order.order_id): order for order in runtime.linnworks.get_orders_by_id(ids)}


@task(name="carry-linnworks-cancellations", **TASK_RETRY_OPTIONS)
def carry_linnworks_cancellations(account: Account, location_id: UUID) -> RunReport:
    """Orders sent (or about to be) that are no longer open at the fulfilment centre: cancel at the 3PL."""
    work = Outcomes(runtime_for(account))
    ledger = work.runtime.ledger
    # SHIPPED too: a shipped order cancelled in Linnworks must be caught here, as "too late", before the
    # tracking write fails on the cancelled (processed) order with a reason nobody can act on.
    candidates = ledger.in_states([State.PENDING, *AT_THE_3PL, State.SHIPPED])
    if not candidates:
        return work.report
    open_now = {str(i) for i in work.runtime.linnworks.get_all_open_orders(fulfilment_center=location_id)}
    gone = [record for record in candidates if record.reference not in open_now]
    orders = read_orders(work.runtime, gone)
    for record in gone:
        _carry_one(work, record, orders.get(record.reference), location_id)
    return work.report


def _carry_one(work: Outcomes, record: OrderRecord, order: OrderDetails | None, location_id: UUID) -> None:
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


def _cancel_at_3pl(work: Outcomes, record: OrderRecord) -> None:
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
