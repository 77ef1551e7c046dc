"""Short shipments: an order whose lines disagree with what the 3PL shipped is never processed as it is.

Right before processing, each order's lines (as exported: service lines left out, composites as
``COMPOSITE_ITEMS`` says, summed per SKU) are compared with the units the ledger saw ship (every shipment of
the order, summed per SKU). Equal: the order is processed. Not equal (the 3PL closed it with fewer units,
the rest cancelled or out of stock; or the order was edited after it shipped), ``SHORT_SHIPMENT_POLICY``:

* ``hold`` (default): a note listing what was not shipped, the ``HOLD_MARKER``, and the order quarantined
  (``tracking_written``, tracking already in Linnworks). A person settles it (refund, reship), makes the
  lines equal what shipped and releases it; it is compared again before it is processed.
* ``adjust``: every short line is lowered to what shipped with UpdateOrderItem, a note lists what was not
  shipped, the order is read again and processed once its lines equal what shipped. What cannot be
  lowered that way is held as above: a line with nothing shipped (Linnworks refuses quantity 0), more
  shipped than ordered, a composite's component, a SKU on two lines.

An order whose shipments reported no lines at all (an adapter that does not send them) is not compared.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from clients.errors import OutcomeUnknownError, RecordError, RetryableError
from clients.linnworks import OrderDetails, OrderItem
from ledger import OrderRecord, State
from tasks.cancellations import read_orders
from tasks.holds import set_marker
from tasks.mapping import MappingError, ordered_units
from tasks.notes import add_order_note
from tasks.outcomes import Outcomes

__all__ = ["lines_as_shipped"]

logger = logging.getLogger("lw3pl.short_shipments")

WRITTEN = (State.TRACKING_WRITTEN,)
Gap = dict[str, tuple[int, int]]  # SKU -> (ordered, shipped), for the SKUs where they differ


def lines_as_shipped(
    work: Outcomes, records: Sequence[OrderRecord], orders: dict[str, OrderDetails]
) -> list[OrderRecord]:
    """The ``records`` whose Linnworks lines (in ``orders``, read a moment ago) equal what shipped; the
    others are held or, under ``adjust``, lowered, read again and returned if they now agree."""
    ready: list[OrderRecord] = []
    adjusted: list[OrderRecord] = []
    for record in records:
        order = orders[record.reference]
        gap = _gap(work, record, order)
        if not gap:
            ready.append(record)
        elif _adjust(work, record, order, gap):
            adjusted.append(record)
    if adjusted:
        fresh = read_orders(work.runtime, adjusted)
        for record in adjusted:
            now = fresh.get(record.reference)
            if now is not None and not _gap(work, record, now):
                ready.append(record)
            else:
                work.quarantine(
                    record, "short shipment: lines adjusted but still differ from what shipped",
                    expected_from=WRITTEN,
                )  # fmt: skip
    return ready


def _gap(work: Outcomes, record: OrderRecord, order: OrderDetails) -> Gap:
    shipped: dict[str, int] = {}
    for line in record.shipped_lines:
        shipped[line.sku] = shipped.get(line.sku, 0) + line.quantity
    if not shipped:
        return {}  # the 3PL reported no lines: nothing to compare with
    try:
        ordered = ordered_units(order, work.runtime.settings)
    except MappingError as error:
        return {f"(lines unreadable: {error})": (0, 0)}
    skus = sorted(set(ordered) | set(shipped))
    return {
        sku: (ordered.get(sku, 0), shipped.get(sku, 0))
        for sku in skus
        if ordered.get(sku, 0) != shipped.get(sku, 0)
    }


def _describe(gap: Gap) -> str:
    return ", ".join(f"{sku} {shipped} of {ordered} shipped" for sku, (ordered, shipped) in gap.items())


def _adjust(work: Outcomes, record: OrderRecord, order: OrderDetails, gap: Gap) -> bool:
    """Under ``adjust``, lower the short lines; True when done (else the order is held or deferred)."""
    lowerable = _lowerable(order, gap)
    if work.runtime.settings.short_shipment_policy != "adjust" or lowerable is None:
        _hold(work, record, gap)
        return False
    try:
        for item in lowerable:
            _lower(work, order, item, gap[item.sku or ""][1])
    except (OutcomeUnknownError, RetryableError) as error:
        work.defer(record, error, expected_from=WRITTEN)  # read again next run: lowered or not, it shows
        return False
    except RecordError as error:
        _hold(work, record, gap, why=f"; Linnworks refused to lower a line: {error.message}")
        return False
    note = f"lw3pl: short shipment, lines lowered to what the 3PL shipped ({_describe(gap)})"
    add_order_note(work.runtime.linnworks, UUID(record.reference), note)
    work.changed(record, f"short shipment: lines adjusted ({_describe(gap)})")
    return True


def _lowerable(order: OrderDetails, gap: Gap) -> list[OrderItem] | None:
    """The order's lines to lower, one per short SKU; None when some difference cannot be settled so."""
    plain = [item for item in order.items if not item.is_service and not item.composite_sub_items]
    lines = []
    for sku, (ordered, shipped) in gap.items():
        matching = [item for item in plain if item.sku == sku]
        if not 0 < shipped < ordered or len(matching) != 1 or matching[0].quantity != ordered:
            return None
        lines.append(matching[0])
    return lines


def _lower(work: Outcomes, order: OrderDetails, item: OrderItem, quantity: int) -> None:
    location = order.location_id
    if location is None:
        raise RecordError("the order has no fulfilment location")
    info = order.general_info
    work.runtime.linnworks.update_order_item(
        order.order_id,
        item.model_copy(update={"quantity": quantity}),
        fulfilment_center=location,
        source=info.source or "",
        sub_source=info.sub_source or "",
    )


def _hold(work: Outcomes, record: OrderRecord, gap: Gap, why: str = "") -> None:
    what = _describe(gap)
    order_id = UUID(record.reference)
    add_order_note(work.runtime.linnworks, order_id, f"lw3pl: short shipment, not processed ({what})")
    set_marker(work, order_id, frm=None, to=work.runtime.settings.hold_marker)
    reason = f"short shipment: the order's lines differ from what the 3PL shipped ({what}){why}"
    work.quarantine(record, reason, expected_from=WRITTEN)
    work.changed(record, f"short shipment: held ({what})")
    logger.info("order %s: short shipment held", record.reference)
