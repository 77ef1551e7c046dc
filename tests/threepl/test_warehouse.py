"""The shared warehouse simulation behind the ShipBob and SFTP sandboxes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.warehouse import (
    CancelOutcome,
    DuplicateReference,
    OrderStatus,
    UnknownSku,
    Warehouse,
    WarehouseConfig,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _warehouse(config: WarehouseConfig | None = None, seed: int = 0) -> tuple[Warehouse, FakeClock]:
    clock = FakeClock()
    wh = Warehouse(seed=seed, clock=clock, config=config or WarehouseConfig.deterministic())
    wh.seed_catalogue(5, on_hand=(50, 50))
    return wh, clock


def test_create_commits_stock_and_rejects_duplicates() -> None:
    """A new order commits its units, and a second order with the same reference is refused."""
    wh, _ = _warehouse()
    order = wh.create_order("R1", [("SKU-0001", 3, "L1")])
    assert wh.stock("SKU-0001").committed == 3
    assert wh.stock("SKU-0001").fulfillable == 47
    with pytest.raises(DuplicateReference) as caught:
        wh.create_order("R1", [("SKU-0002", 1, "L1")])
    assert caught.value.existing.order_id == order.order_id


def test_unknown_sku_is_named() -> None:
    """An order naming a SKU not in the catalogue is refused with that SKU."""
    wh, _ = _warehouse()
    with pytest.raises(UnknownSku) as caught:
        wh.create_order("R1", [("SKU-0001", 1, "L1"), ("NOPE", 1, "L2")])
    assert caught.value.sku == "NOPE"
    assert wh.find_by_reference("R1") is None


def test_orders_ship_after_the_delay_and_decrement_stock() -> None:
    """An accepted order ships once the delay passed, with a tracking number, and leaves stock."""
    wh, clock = _warehouse()
    wh.create_order("R1", [("SKU-0001", 2, "L1")])
    assert wh.advance() == []
    clock.now = T0 + timedelta(minutes=31)
    events = wh.advance()
    assert [e.kind for e in events] == ["shipped"]
    shipment = events[0].shipment
    assert shipment is not None and shipment.is_final and shipment.packages[0].tracking_number
    assert wh.stock("SKU-0001") == wh.stock("SKU-0001").__class__("SKU-0001", 48, 0)


def test_cancel_before_and_after_shipping() -> None:
    """Cancel works before shipping, is too late after, and unknown references are not found."""
    wh, _ = _warehouse()
    wh.create_order("R1", [("SKU-0001", 1, "L1")])
    wh.create_order("R2", [("SKU-0001", 1, "L1")])
    wh.ship("R2")
    assert wh.cancel("R1") is CancelOutcome.CANCELLED
    assert wh.stock("SKU-0001").committed == 0
    assert wh.cancel("R2") is CancelOutcome.TOO_LATE
    assert wh.cancel("R3") is CancelOutcome.NOT_FOUND


def test_partial_shipment_then_the_rest() -> None:
    """A partial shipment is not final, and the rest ships after the configured gap."""
    config = WarehouseConfig(partial_rate=1, hold_rate=0, backorder_rate=0, multi_parcel_rate=0)
    wh, clock = _warehouse(config)
    wh.create_order("R1", [("SKU-0001", 4, "L1")])
    clock.now = T0 + timedelta(hours=1)
    first = wh.advance()
    assert [e.shipment.is_final for e in first if e.shipment] == [False]
    assert wh.find_by_reference("R1").status is OrderStatus.PARTIALLY_SHIPPED  # type: ignore[union-attr]
    clock.now = T0 + timedelta(hours=8)
    second = wh.advance()
    assert [e.shipment.is_final for e in second if e.shipment] == [True]
    assert wh.stock("SKU-0001").on_hand == 46


def test_shipped_packages_names_the_parcels_of_every_shipment_that_left() -> None:
    """Of the ids asked about, exactly the parcels of both shipments of a partly shipped order count as
    shipped; an id of nothing that left does not."""
    config = WarehouseConfig(partial_rate=1, hold_rate=0, backorder_rate=0, multi_parcel_rate=0)
    wh, clock = _warehouse(config)
    wh.create_order("R1", [("SKU-0001", 4, "L1")])
    wh.create_order("R2", [("SKU-0002", 1, "L1")])
    assert wh.shipped_packages([1, 900001]) == set()
    for hours in (1, 8):
        clock.now = T0 + timedelta(hours=hours)
        wh.advance()
    orders = [wh.find_by_reference(reference) for reference in ("R1", "R2")]
    parcels = {p.package_id for order in orders if order for s in order.shipments for p in s.packages}
    assert len(parcels) == 3  # R1 in two shipments, R2 in one
    assert wh.shipped_packages([*parcels, 1, 5]) == parcels


def test_out_of_stock_backorders_until_stock_arrives() -> None:
    """An order larger than fulfillable stock is backordered and ships after a receipt."""
    wh, clock = _warehouse()
    wh.create_order("R1", [("SKU-0002", 80, "L1")])
    assert wh.find_by_reference("R1").status is OrderStatus.BACKORDERED  # type: ignore[union-attr]
    wh.set_on_hand("SKU-0002", 100)
    clock.now = T0 + timedelta(minutes=1)
    assert [e.kind for e in wh.advance()] == ["released"]
    clock.now = T0 + timedelta(hours=1)
    assert [e.kind for e in wh.advance()] == ["shipped"]


def test_same_seed_same_history() -> None:
    """Two warehouses with the same seed and inputs produce the same events and tracking numbers."""

    def run() -> list[tuple[str, str, tuple[str, ...]]]:
        wh, clock = _warehouse(WarehouseConfig(), seed=7)
        for n in range(40):
            wh.create_order(f"R{n}", [("SKU-0001", 1 + n % 3, "L1"), ("SKU-0003", 1, "L2")])
        clock.now = T0 + timedelta(days=2)
        wh.advance()
        events, _ = wh.events_since(0)
        return [
            (e.kind, e.reference, tuple(p.tracking_number for p in e.shipment.packages) if e.shipment else ())
            for e in events
        ]

    history = run()
    assert history == run()
    kinds = {kind for kind, _, _ in history}
    assert {"accepted", "shipped"} <= kinds


def test_multi_parcel_splits_units_across_packages() -> None:
    """With multi-parcel on, an order ships in several packages that together hold every unit."""
    config = WarehouseConfig(multi_parcel_rate=1, partial_rate=0, hold_rate=0, backorder_rate=0)
    wh, _ = _warehouse(config)
    wh.create_order("R1", [("SKU-0001", 3, "L1"), ("SKU-0002", 2, "L2")])
    shipment = wh.ship("R1", packages=3)
    assert len(shipment.packages) == 3
    assert sum(qty for p in shipment.packages for _, qty, _ in p.lines) == 5
    assert len({p.tracking_number for p in shipment.packages}) == 3


def test_events_since_position() -> None:
    """Reading the log from a position returns only newer events, each with a unique id."""
    wh, _ = _warehouse()
    wh.create_order("R1", [("SKU-0001", 1, "L1")])
    _, position = wh.events_since(0)
    wh.ship("R1")
    newer, next_position = wh.events_since(position)
    assert [e.kind for e in newer] == ["shipped"] and next_position == position + 1
    everything, _ = wh.events_since(0)
    assert len({e.event_id for e in everything}) == len(everything)


def test_hold_release_and_short_shipment_on_demand() -> None:
    """A held order keeps no stock and does not ship until released; a short shipment ships what it is told,
    is final, and frees the units it cancelled."""
    wh, clock = _warehouse()
    wh.create_order("R1", [("SKU-0001", 3, "L1")])
    wh.hold("R1", "AddressValidationFailed")
    assert wh.stock("SKU-0001").committed == 0
    clock.now = T0 + timedelta(hours=5)
    assert wh.advance() == []
    wh.release("R1")
    assert wh.stock("SKU-0001").committed == 3
    wh.create_order("R2", [("SKU-0002", 2, "L1"), ("SKU-0003", 2, "L2")])
    shipment = wh.short_ship("R2", {"SKU-0002": 1})
    assert shipment.is_final
    assert [(sku, qty) for p in shipment.packages for sku, qty, _ in p.lines] == [("SKU-0002", 1)]
    assert (wh.stock("SKU-0002").committed, wh.stock("SKU-0003").committed) == (0, 0)
    assert wh.find_by_reference("R2").status is OrderStatus.SHIPPED  # type: ignore[union-attr]
    assert [e.kind for e in wh.events_since(0)[0]] == [
        "accepted",
        "on_hold",
        "released",
        "accepted",
        "shipped",
    ]
