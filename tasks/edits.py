"""Linnworks -> 3PL: an order edited in Linnworks after it was sent (address, quantities, service).

The ledger keeps the hash of the payload sent; an order at the 3PL and not yet shipped whose current
mapping hashes differently has changed. Its current payload goes to the adapter, which sends what differs
where it can (``Capabilities.change_*``). Outcomes, each a row of the run's ``changes`` artifact:

* sent: the new hash is recorded and the order gets the note "<what> change sent to the warehouse";
* too late (the warehouse has picked it) and unsupported (this 3PL or this kind of change): the order is
  quarantined with the reason, and the same reason is noted on the order, where whoever edited it looks.

A change is sent once: after it, the hash matches; a quarantined order is no longer looked at.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from prefect import task

from clients.errors import RecordError
from clients.linnworks import OrderDetails
from clients.threepl import ChangeOutcome, ChangeResult
from ledger import OrderRecord, State
from tasks.cancellations import read_orders
from tasks.context import Account, leased, runtime_for
from tasks.mapping import MappingError, payload_hash, to_fulfilment_order
from tasks.notes import add_order_note
from tasks.outcomes import Outcomes
from tasks.reporting import RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = ["CHANGEABLE", "carry_linnworks_edits"]

logger = logging.getLogger("lw3pl.edits")

# At the 3PL, nothing shipped yet (a held order too: fixing its address is often what releases it).
CHANGEABLE = (State.SUBMITTED, State.EXPORTED, State.ON_HOLD)
_REFUSED = {
    ChangeOutcome.TOO_LATE: "too late",
    ChangeOutcome.UNSUPPORTED: "unsupported",
    ChangeOutcome.NOT_FOUND: "not at the 3PL",
}


@task(name="carry-linnworks-edits", **TASK_RETRY_OPTIONS)
def carry_linnworks_edits(account: Account) -> RunReport:
    """Send edits made in Linnworks since export to the 3PL (once), or say per order why not."""
    work = Outcomes(runtime_for(account))
    sent = [r for r in work.runtime.ledger.in_states(CHANGEABLE) if r.payload_hash]
    if not sent:
        return work.report
    orders = read_orders(work.runtime, sent)  # one batched read for every order at the 3PL
    # Deleted, cancelled or processed orders are carry_linnworks_cancellations' to settle.
    open_here = [ref for ref, order in orders.items() if not order.processed]
    if not open_here:
        return work.report
    # Acted on only under a lease, in the state the claim read: an overlapping run skips what this one holds.
    with leased(work.runtime, CHANGEABLE, work.owner, limit=len(open_here), references=open_here) as claimed:
        for record in claimed:
            _carry_claimed(work, record, orders[record.reference])
    return work.report


def _carry_claimed(work: Outcomes, record: OrderRecord, order: OrderDetails) -> None:
    if not record.payload_hash:
        return
    try:
        _carry_one(work, record, order)
    except RecordError as error:
        work.note(f"order {record.num_order_id}: change not carried this run ({error.message})")


def _carry_one(work: Outcomes, record: OrderRecord, order: OrderDetails) -> None:
    try:
        payload = to_fulfilment_order(order, work.runtime.settings)
    except MappingError as error:
        _refuse(work, record, "unsupported", f"it can no longer be sent as it is: {error}")
        return
    fingerprint = payload_hash(payload)
    if fingerprint == record.payload_hash:
        return
    result = work.runtime.threepl.change_order(payload)
    if result.outcome in (ChangeOutcome.APPLIED, ChangeOutcome.UNCHANGED):
        _record_sent(work, record, fingerprint, result)
        return
    _refuse(work, record, _REFUSED[result.outcome], result.detail or result.outcome.value)


def _record_sent(work: Outcomes, record: OrderRecord, fingerprint: str, result: ChangeResult) -> None:
    """The 3PL holds the order as it is now: remember that (a rerun sends nothing) and tell the user."""
    work.runtime.ledger.update(
        record.reference, expected_from=[record.state], owner=work.owner, payload_hash=fingerprint
    )
    if result.outcome is ChangeOutcome.UNCHANGED:
        return  # nothing the 3PL needs (e.g. an edited customer note, or sent by a run that then crashed)
    what = " and ".join(result.changed)
    # The audit row: which change reached the 3PL, when (the ledger's events, next to the 3PL's own).
    work.runtime.ledger.record_event(
        f"lw3pl:change:{record.reference}:{fingerprint}", record.reference, "change_sent",
        datetime.now(UTC), {"changed": list(result.changed), "payload_hash": fingerprint},
    )  # fmt: skip
    add_order_note(
        work.runtime.linnworks, UUID(record.reference), f"lw3pl: {what} change sent to the warehouse"
    )
    work.changed(record, f"{what}: sent")
    logger.info("order %s: %s change sent to the 3PL", record.reference, what)


def _refuse(work: Outcomes, record: OrderRecord, verdict: str, why: str) -> None:
    """Quarantine with the reason, and note it on the order so whoever edited it sees it was not applied."""
    reason = f"changed in Linnworks after it was sent, change not applied ({verdict}): {why}"
    add_order_note(work.runtime.linnworks, UUID(record.reference), f"lw3pl: {reason}")
    work.quarantine(record, f"{reason}; make the change at the 3PL, then release the order", claimed=False)
    work.changed(record, verdict)
