"""3PL holds -> Linnworks: a held order gets a note with the 3PL's reason and a marker, cleared on release.

A hold (address problem, backorder, exception) changes nothing the 3PL will do with the order later, so
the ledger state stays as it is (the order is still at the 3PL; edits and cancellations apply as before).
The ledger remembers the hold in the order's ``last_error``, starting ``HOLD_PREFIX``: a repeated hold
event (ShipBob reports one per update of a held shipment) finds it and writes nothing, and a release
clears only what a hold set. The marker is ``HOLD_MARKER`` (a Linnworks tag, 1..6; 0: no marker); a
marker someone changed since, or a parked order's, is left alone.

Effects of one hold, in order: note -> marker -> ledger. A run that stops between them repeats them
(the note by its text, the marker by its value), so a hold is shown once.
"""

from __future__ import annotations

import logging
from uuid import UUID

from clients.threepl import Event
from ledger import NO_LEASE, OrderRecord, State
from tasks.corrections import carry_corrected_address
from tasks.notes import add_order_note
from tasks.outcomes import Outcomes

__all__ = ["HOLD_PREFIX", "is_held", "on_hold", "on_released", "set_marker"]

logger = logging.getLogger("lw3pl.holds")

HOLD_PREFIX = "3PL hold: "
_PARKED = 7  # Linnworks' marker for a parked order: never overwritten
AT_THE_3PL = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED)


def is_held(record: OrderRecord) -> bool:
    """True while lw3pl shows this order as held by the 3PL (a note and a marker are on it)."""
    return (record.last_error or "").startswith(HOLD_PREFIX)


def on_hold(work: Outcomes, record: OrderRecord, event: Event) -> None:
    """Show the 3PL's hold on the Linnworks order, once per hold."""
    if is_held(record) or record.state not in AT_THE_3PL:
        return  # shown already; or shipped, cancelled, quarantined since: nothing to show
    reason = f"{event.kind.value.replace('_', ' ')}: {event.detail or 'no reason given'}"
    order_id = UUID(record.reference)
    add_order_note(work.runtime.linnworks, order_id, f"lw3pl: the 3PL holds this order ({reason})")
    set_marker(work, order_id, frm=None, to=work.runtime.settings.hold_marker)
    work.runtime.ledger.update(
        record.reference,
        expected_from=[record.state],
        owner=NO_LEASE,
        last_error=f"{HOLD_PREFIX}{reason}"[:500],
    )
    work.changed(record, f"held by the 3PL ({reason})")
    logger.info("order %s held by the 3PL: %s", record.reference, reason)


def on_released(work: Outcomes, record: OrderRecord, event: Event | None = None) -> None:
    """Clear what ``on_hold`` showed (the 3PL released the order, or shipped it); nothing if not held."""
    if not is_held(record):
        return
    order_id = UUID(record.reference)
    reason = (record.last_error or "").removeprefix(HOLD_PREFIX)
    set_marker(work, order_id, frm=work.runtime.settings.hold_marker, to=0)
    add_order_note(work.runtime.linnworks, order_id, f"lw3pl: the 3PL released its hold ({reason})")
    work.runtime.ledger.update(
        record.reference, expected_from=[record.state], owner=NO_LEASE, last_error=None
    )
    work.changed(record, "released by the 3PL")
    if event is not None:
        carry_corrected_address(work, record)  # an address hold is often released by fixing the address
    logger.info("order %s released by the 3PL%s", record.reference, "" if event else " (shipped)")


def set_marker(work: Outcomes, order_id: UUID, *, frm: int | None, to: int) -> None:
    """SetOrderGeneralInfo with marker ``to``, when the order's marker is ``frm`` (None: any but parked)."""
    marker = work.runtime.settings.hold_marker
    if not marker:
        return  # HOLD_MARKER=0: notes only
    linnworks = work.runtime.linnworks
    order = linnworks.get_order_by_id(order_id)
    if order is None:
        return
    info = order.general_info
    if info.is_parked or info.marker == _PARKED or info.marker == to:
        return
    if frm is not None and info.marker != frm:
        return  # someone changed the marker since: theirs now
    linnworks.set_order_general_info(order_id, info.model_copy(update={"marker": to}))
