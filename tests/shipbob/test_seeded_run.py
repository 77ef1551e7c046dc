"""A seeded warehouse run (holds, backorders, partial and multi-parcel shipments) read through the adapter."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig
from clients.threepl import Event, EventKind
from sandbox.shipbob import ShipBobSandbox
from sandbox.warehouse import OrderStatus, Warehouse, WarehouseConfig
from tests.shipbob.helpers import make_order
from tests.threepl.harness import ManualClock


def test_every_warehouse_shipment_reaches_the_core_in_full() -> None:
    """After two simulated days every parcel's tracking number was reported and the finals match."""
    seed = 20260302
    clock = ManualClock()
    config = WarehouseConfig(hold_rate=0.1, backorder_rate=0.1, partial_rate=0.2, multi_parcel_rate=0.3)
    warehouse = Warehouse(seed=seed, clock=clock, config=config)
    warehouse.seed_catalogue(5, on_hand=(30, 60))
    warehouse.upsert_product("SKU-1", title="Widget")
    warehouse.set_on_hand("SKU-1", 150)
    with ShipBobSandbox(warehouse=warehouse, rate_limits=False) as sandbox:
        adapter = ShipBobAdapter(
            ShipBobConfig(
                sandbox.url,
                SecretStr(sandbox.token),
                sandbox.channel_id,
                pace=False,
                page_size=25,
                retry=RetryPolicy(wait=False),
            ),
            clock=clock,
        )
        seen: dict[str, Event] = {}
        checkpoint = None
        for step in range(48):
            for number in range(3):
                adapter.submit_order(make_order(f"SEED-{step}-{number}"))
            clock.advance(timedelta(hours=1))
            if step == 24:
                warehouse.set_on_hand("SKU-1", 500)  # a delivery releases the backorders
            page = adapter.poll_events(checkpoint)
            assert page.quarantined == [], f"seed {seed}"
            seen.update((event.event_id, event) for event in page.events)
            checkpoint = page.checkpoint
        adapter.close()
    reported = {
        package.tracking_number
        for event in seen.values()
        if event.kind is EventKind.SHIPMENT and event.shipment
        for package in event.shipment.packages
    }
    shipped = warehouse.list_orders(status=[OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED])
    expected = {
        package.tracking_number
        for order in shipped
        for shipment in order.shipments
        for package in shipment.packages
    }
    assert reported == expected, f"seed {seed}"
    finals = {event.reference for event in seen.values() if event.shipment and event.shipment.is_final}
    assert finals == {order.reference for order in shipped if order.status is OrderStatus.SHIPPED}, (
        f"seed {seed}"
    )
    kinds = {event.kind for event in seen.values()}
    assert {EventKind.ON_HOLD, EventKind.BACKORDERED, EventKind.SHIPMENT} <= kinds, f"seed {seed}"
