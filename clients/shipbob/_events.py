"""ShipBob orders -> neutral events, each with a dedup key that stays the same on every poll.

A ShipBob shipment is one parcel. Parcels that left at the same time form one neutral ``Shipment`` with
several packages; parcels that left later (a partial order finished days after) form another. The last
group of a ``Fulfilled`` order is the final shipment. Keys:

* ``shipbob:<order id>:accepted``
* ``shipbob:<order id>:shipment:<parcel ids joined by +>``
* ``shipbob:<order id>:on_hold:<shipment id>:<last update>`` and the same for ``backordered``
* ``shipbob:<order id>:released:<shipment id>:<last update>``: the open shipment is ``Processing`` again
  and changed since it was created. ShipBob has no release topic or status; a shipment back in
  Processing after OnHold/Exception is how a release shows. Other updates of a Processing shipment (an
  address change, the rest of a partial order) give the same event, which the core ignores for an order
  it does not know as held.
* ``shipbob:<order id>:cancelled``

A record that breaks the rules we rely on (no tracking number on a completed parcel, no parcel time,
a quantity that is not a non-negative int) raises ``BadRecord``; the caller quarantines that order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from clients.threepl.models import Event, EventKind, Package, PackageLine, Shipment

from ._wire import OrderIn, ShipmentIn

__all__ = ["PARCEL_SEPARATOR", "BadRecord", "order_events", "order_last_update"]

_COMPLETED = "Completed"
PARCEL_SEPARATOR = "+"  # a shipment event's id: the ids of the parcels that left together ("9001+9002")
_OUT_OF_STOCK = {"outofstock", "out of stock", "backordered", "backorder"}


class BadRecord(ValueError):
    """This order's data cannot be turned into events; the message says why."""


def order_events(order: OrderIn) -> list[Event]:
    """Every event this order's current state implies."""
    base = f"shipbob:{order.id}"
    events: list[Event] = []
    if order.created_date is not None:
        events.append(_event(f"{base}:accepted", EventKind.ACCEPTED, order, order.created_date))
    events.extend(_shipment_events(order, base))
    events.extend(_pending_events(order, base))
    if order.status == "Cancelled":
        events.append(_event(f"{base}:cancelled", EventKind.CANCELLED, order, order_last_update(order)))
    return events


def order_last_update(order: OrderIn) -> datetime:
    """The latest time this order shows (its shipments' updates, or its creation)."""
    times = [
        t for s in order.shipments for t in (s.last_update_at, s.actual_fulfillment_date) if t is not None
    ]
    if order.created_date is not None:
        times.append(order.created_date)
    if not times:
        raise BadRecord("order has no creation or update time")
    return max(times)


def _event(event_id: str, kind: EventKind, order: OrderIn, at: datetime, **extra: object) -> Event:
    return Event.model_validate(
        {
            "event_id": event_id,
            "kind": kind,
            "reference": order.reference_id,
            "remote_id": str(order.id),
            "occurred_at": at,
            **extra,
        }
    )


def _shipment_events(order: OrderIn, base: str) -> list[Event]:
    groups: dict[datetime, list[ShipmentIn]] = defaultdict(list)
    for shipment in order.shipments:
        if shipment.status == _COMPLETED:
            if shipment.actual_fulfillment_date is None:
                raise BadRecord(f"completed shipment {shipment.id} has no fulfilment date")
            groups[shipment.actual_fulfillment_date].append(shipment)
    ordered = sorted(groups.items(), key=lambda item: (item[0], min(s.id for s in item[1])))
    fulfilled = order.status == "Fulfilled"
    events = []
    for index, (shipped_at, parcels) in enumerate(ordered):
        parcels.sort(key=lambda s: s.id)
        ids = PARCEL_SEPARATOR.join(str(s.id) for s in parcels)
        neutral = Shipment(
            shipment_id=ids,
            shipped_at=shipped_at,
            packages=[_package(order, parcel) for parcel in parcels],
            is_final=fulfilled and index == len(ordered) - 1,
        )
        events.append(
            _event(f"{base}:shipment:{ids}", EventKind.SHIPMENT, order, shipped_at, shipment=neutral)
        )
    return events


def _package(order: OrderIn, parcel: ShipmentIn) -> Package:
    tracking = parcel.tracking
    if tracking is None or not (tracking.tracking_number or "").strip():
        raise BadRecord(f"completed shipment {parcel.id} has no tracking number")
    lines = []
    for product in parcel.products:
        sku = product.reference_id or product.sku
        if not sku:
            raise BadRecord(f"shipment {parcel.id} has a product without reference_id or sku")
        lines.append(PackageLine(sku=sku, quantity=product.quantity))
    return Package(
        tracking_number=(tracking.tracking_number or "").strip(),
        carrier=tracking.carrier or "",
        service=tracking.carrier_service or "",
        tracking_url=tracking.tracking_url or "",
        lines=lines,
    )


def _pending_events(order: OrderIn, base: str) -> list[Event]:
    events = []
    for shipment in order.shipments:
        kind = _pending_kind(order, shipment)
        if kind is None:
            continue
        at = shipment.last_update_at or shipment.created_date or order.created_date
        if at is None:
            raise BadRecord(f"shipment {shipment.id} is {shipment.status} with no time")
        details = ", ".join(d.name for d in shipment.status_details if d.name)
        key = f"{base}:{kind.value}:{shipment.id}:{at.isoformat()}"
        events.append(_event(key, kind, order, at, detail=details or shipment.status))
    return events


def _pending_kind(order: OrderIn, shipment: ShipmentIn) -> EventKind | None:
    if order.status == "Cancelled":
        return None
    if shipment.status == "OnHold":
        return EventKind.ON_HOLD
    names = {(d.name or "").lower() for d in shipment.status_details}
    if shipment.status == "Exception" and (names & _OUT_OF_STOCK or order.status == "Exception"):
        return EventKind.BACKORDERED
    if shipment.status == "Processing" and _changed_since_created(order, shipment):
        return EventKind.RELEASED
    return None


def _changed_since_created(order: OrderIn, shipment: ShipmentIn) -> bool:
    created, updated = shipment.created_date or order.created_date, shipment.last_update_at
    return created is not None and updated is not None and updated > created
