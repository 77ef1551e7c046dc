"""The contract every 3PL adapter keeps, run against each adapter's sandbox (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clients.errors import OutcomeUnknownError
from clients.threepl import (
    Address,
    CancelOutcome,
    CatalogueItem,
    Event,
    EventKind,
    FulfilmentOrder,
    OrderLine,
    SubmitOutcome,
)
from sandbox.warehouse import OrderStatus
from tests.threepl.harness import AdapterHarness


def make_order(reference: str, *lines: tuple[str, int]) -> FulfilmentOrder:
    """An order for a UK address with the given (sku, quantity) lines."""
    return FulfilmentOrder(
        reference=reference,
        display_ref=f"N-{reference[-6:]}",
        ship_to=Address(
            name="Ada Lovelace", line1="1 Analytical St", city="London", postcode="N1 1AA", country_code="GB"
        ),
        service_code="Standard",
        lines=[
            OrderLine(line_ref=f"{reference}-L{index}", sku=sku, quantity=quantity, title=f"Item {sku}")
            for index, (sku, quantity) in enumerate(lines or (("SKU-0001", 1),))
        ],
    )


def submitted(harness: AdapterHarness, order: FulfilmentOrder) -> str:
    """Submit, settle, and return the remote id (the order must be accepted)."""
    result = harness.adapter.submit_order(order)
    assert result.outcome is SubmitOutcome.ACCEPTED, result.reason()
    harness.settle()
    assert result.remote_id
    return result.remote_id


def shipment_events(events: list[Event], reference: str) -> list[Event]:
    return [e for e in events if e.kind is EventKind.SHIPMENT and e.reference == reference]


def poll_all(
    harness: AdapterHarness, checkpoint: str | None = None
) -> tuple[list[Event], list[tuple[str, str]], str | None]:
    """Poll until a page brings nothing new (at most 10 pages); repeats dropped by id, as in the core."""
    events: dict[str, Event] = {}
    quarantined: list[tuple[str, str]] = []
    for _ in range(10):
        page = harness.adapter.poll_events(checkpoint)
        fresh = [event for event in page.events if event.event_id not in events]
        events.update((event.event_id, event) for event in fresh)
        quarantined.extend(q for q in page.quarantined if q not in quarantined)
        checkpoint = page.checkpoint
        if not fresh:
            break
    return list(events.values()), quarantined, checkpoint


def test_submit_is_accepted_with_a_remote_id(adapter_harness: AdapterHarness) -> None:
    """A valid order is accepted, gets a remote id, and reaches the warehouse once."""
    remote_id = submitted(adapter_harness, make_order("LW-0001", ("SKU-0001", 2), ("SKU-0002", 1)))
    order = adapter_harness.warehouse.find_by_reference("LW-0001")
    assert order is not None and remote_id
    assert [(line.sku, line.quantity) for line in order.lines] == [("SKU-0001", 2), ("SKU-0002", 1)]


def test_resubmit_is_a_duplicate_with_the_same_remote_id(adapter_harness: AdapterHarness) -> None:
    """Submitting the same reference again is reported as a duplicate of the first order."""
    remote_id = submitted(adapter_harness, make_order("LW-0002"))
    again = adapter_harness.adapter.submit_order(make_order("LW-0002"))
    adapter_harness.settle()
    assert again.outcome is SubmitOutcome.DUPLICATE
    assert again.remote_id == remote_id
    assert len(adapter_harness.warehouse.list_orders(references=["LW-0002"])) == 1


def test_find_order_by_reference(adapter_harness: AdapterHarness) -> None:
    """find_order returns the submitted order's remote id and None for a reference never sent."""
    remote_id = submitted(adapter_harness, make_order("LW-0003"))
    found = adapter_harness.adapter.find_order("LW-0003")
    assert found is not None and found.remote_id == remote_id and found.reference == "LW-0003"
    assert adapter_harness.adapter.find_order("LW-NEVER-SENT") is None


def test_unknown_sku_is_rejected_naming_the_sku(adapter_harness: AdapterHarness) -> None:
    """An order with a SKU the warehouse does not stock is rejected with that SKU in the reason.

    Synchronous APIs reject at submit; file exchanges accept the file and report the rejection as an
    ``error`` event for the reference once the warehouse has read it.
    """
    result = adapter_harness.adapter.submit_order(make_order("LW-0004", ("SKU-0001", 1), ("NO-SUCH-SKU", 1)))
    adapter_harness.settle()
    if result.outcome is SubmitOutcome.REJECTED:
        assert "NO-SUCH-SKU" in result.reason()
    else:
        assert result.outcome is SubmitOutcome.ACCEPTED
        events, _, _ = poll_all(adapter_harness)
        errors = [e for e in events if e.reference == "LW-0004" and e.kind is EventKind.ERROR]
        assert errors and "NO-SUCH-SKU" in errors[0].detail
    assert adapter_harness.warehouse.find_by_reference("LW-0004") is None


def test_cancel_before_shipping(adapter_harness: AdapterHarness) -> None:
    """Cancelling an unshipped order cancels it at the warehouse."""
    submitted(adapter_harness, make_order("LW-0005"))
    result = adapter_harness.adapter.cancel_order("LW-0005", "customer changed their mind")
    adapter_harness.settle()
    expected = (
        CancelOutcome.CANCELLED
        if adapter_harness.adapter.capabilities().cancel == "api"
        else CancelOutcome.REQUESTED
    )
    assert result.outcome is expected
    order = adapter_harness.warehouse.find_by_reference("LW-0005")
    assert order is not None and order.status is OrderStatus.CANCELLED


def test_cancel_after_shipping_is_too_late(adapter_harness: AdapterHarness) -> None:
    """Cancelling a shipped order does not undo the shipment, and says so where the API can."""
    submitted(adapter_harness, make_order("LW-0006"))
    adapter_harness.warehouse.ship("LW-0006")
    adapter_harness.settle()
    result = adapter_harness.adapter.cancel_order("LW-0006", "too slow")
    adapter_harness.settle()
    if adapter_harness.adapter.capabilities().cancel == "api":
        assert result.outcome is CancelOutcome.TOO_LATE
    else:
        assert result.outcome in (CancelOutcome.REQUESTED, CancelOutcome.TOO_LATE)
    order = adapter_harness.warehouse.find_by_reference("LW-0006")
    assert order is not None and order.status is OrderStatus.SHIPPED


def test_cancel_unknown_reference(adapter_harness: AdapterHarness) -> None:
    """Cancelling a reference the 3PL never received is not found (or a request where cancels are files)."""
    result = adapter_harness.adapter.cancel_order("LW-NOT-THERE", "n/a")
    allowed = (
        {CancelOutcome.NOT_FOUND}
        if adapter_harness.adapter.capabilities().cancel == "api"
        else {CancelOutcome.NOT_FOUND, CancelOutcome.REQUESTED}
    )
    assert result.outcome in allowed


def test_shipments_carry_every_tracking_number(adapter_harness: AdapterHarness) -> None:
    """A multi-parcel shipment is reported with each parcel's tracking number and carrier, and is final."""
    submitted(adapter_harness, make_order("LW-0007", ("SKU-0001", 2), ("SKU-0003", 2)))
    record = adapter_harness.warehouse.ship("LW-0007", packages=2)
    adapter_harness.settle()
    events, quarantined, _ = poll_all(adapter_harness)
    assert quarantined == []
    shipped = shipment_events(events, "LW-0007")
    assert shipped, "no shipment event"
    packages = [package for event in shipped for package in event.shipment.packages]  # type: ignore[union-attr]
    assert {p.tracking_number for p in packages} == {p.tracking_number for p in record.packages}
    assert all(p.carrier for p in packages)
    assert sum(line.quantity for p in packages for line in p.lines) == 4
    assert any(event.shipment.is_final for event in shipped)  # type: ignore[union-attr]
    assert all(event.occurred_at.tzinfo is not None for event in events)


def test_partial_shipment_is_not_final(adapter_harness: AdapterHarness) -> None:
    """The first part of a split order is not final; the shipment that completes it is."""
    submitted(adapter_harness, make_order("LW-0008", ("SKU-0002", 4)))
    first = adapter_harness.warehouse.ship("LW-0008", partial=True)
    adapter_harness.settle()
    events, _, checkpoint = poll_all(adapter_harness)
    early = shipment_events(events, "LW-0008")
    assert [e.shipment.is_final for e in early] == [False]  # type: ignore[union-attr]
    assert not first.is_final
    adapter_harness.clock.advance(timedelta(hours=6))  # the rest leaves later, as a separate shipment
    adapter_harness.warehouse.ship("LW-0008")
    adapter_harness.settle()
    later, _, _ = poll_all(adapter_harness, checkpoint)
    final = [e for e in shipment_events(later, "LW-0008") if e.event_id not in {x.event_id for x in early}]
    assert [e.shipment.is_final for e in final] == [True]  # type: ignore[union-attr]


def test_redelivered_events_keep_their_dedup_key(adapter_harness: AdapterHarness) -> None:
    """Polling the same shipment twice yields the same event id, so the core can drop the repeat."""
    submitted(adapter_harness, make_order("LW-0009"))
    adapter_harness.warehouse.ship("LW-0009")
    adapter_harness.settle()
    first, _, _ = poll_all(adapter_harness)
    second, _, _ = poll_all(adapter_harness)
    ids_first = [e.event_id for e in shipment_events(first, "LW-0009")]
    ids_second = [e.event_id for e in shipment_events(second, "LW-0009")]
    assert len(ids_first) == 1 and ids_first == ids_second
    assert len({e.event_id for e in first}) == len(first)


def test_ack_keeps_unacked_events(adapter_harness: AdapterHarness) -> None:
    """Acking some events (twice) is harmless, and events not acked are still delivered."""
    submitted(adapter_harness, make_order("LW-0010"))
    submitted(adapter_harness, make_order("LW-0011"))
    adapter_harness.warehouse.ship("LW-0010")
    adapter_harness.warehouse.ship("LW-0011")
    adapter_harness.settle()
    events, _, _ = poll_all(adapter_harness)
    acked = shipment_events(events, "LW-0010")
    assert acked and shipment_events(events, "LW-0011")
    adapter_harness.adapter.ack(acked)
    adapter_harness.adapter.ack(acked)
    adapter_harness.settle()
    again, _, _ = poll_all(adapter_harness)
    assert shipment_events(again, "LW-0011"), "an event that was not acked disappeared"


def test_inventory_snapshot_is_usable_on_hand(adapter_harness: AdapterHarness) -> None:
    """The snapshot reports each SKU's usable on-hand, committed units included."""
    adapter_harness.warehouse.set_on_hand("SKU-0004", 37)
    submitted(adapter_harness, make_order("LW-0012", ("SKU-0004", 5)))
    adapter_harness.warehouse.ship(
        submitted(adapter_harness, make_order("LW-0013", ("SKU-0005", 3))) and "LW-0013"
    )
    adapter_harness.settle()
    snapshot = adapter_harness.adapter.fetch_inventory()
    levels = {level.sku: level.on_hand for level in snapshot.levels}
    expected = {
        sku: level.on_hand for sku, level in adapter_harness.warehouse.inventory_snapshot().levels.items()
    }
    assert levels == expected
    assert levels["SKU-0004"] == 37 and levels["SKU-0005"] == 97
    assert snapshot.as_of.tzinfo is not None and snapshot.complete


def test_upsert_items_creates_and_updates(adapter_harness: AdapterHarness) -> None:
    """New SKUs are created and existing ones updated, one ok result per item."""
    items = [
        CatalogueItem(sku="NEW-0001", title="Brand new", barcode="0123456789012"),
        CatalogueItem(sku="SKU-0001", title="Renamed item"),
    ]
    results = adapter_harness.adapter.upsert_items(items)
    adapter_harness.settle()
    assert [(r.sku, r.ok) for r in results] == [("NEW-0001", True), ("SKU-0001", True)]
    created = adapter_harness.warehouse.product("NEW-0001")
    renamed = adapter_harness.warehouse.product("SKU-0001")
    assert created is not None and created.title == "Brand new"
    assert renamed is not None and renamed.title == "Renamed item"
    submitted(adapter_harness, make_order("LW-0014", ("NEW-0001", 0 + 1)))


def test_lost_create_reply_then_core_retry_leaves_one_order(adapter_harness: AdapterHarness) -> None:
    """A create whose reply is lost, followed by find-then-submit-if-missing, makes exactly one order."""
    order = make_order("LW-0015", ("SKU-0006", 1))
    adapter_harness.lose_next_create_reply()
    with pytest.raises(OutcomeUnknownError):
        adapter_harness.adapter.submit_order(order)
    adapter_harness.settle()
    found = adapter_harness.adapter.find_order(order.reference)
    if found is None:  # the core's procedure: submit again only when the lookup finds nothing
        assert adapter_harness.adapter.submit_order(order).outcome in (
            SubmitOutcome.ACCEPTED,
            SubmitOutcome.DUPLICATE,
        )
        adapter_harness.settle()
    assert len(adapter_harness.warehouse.list_orders(references=[order.reference])) == 1
    assert adapter_harness.adapter.find_order(order.reference) is not None


def test_malformed_record_is_quarantined_and_the_rest_go_on(adapter_harness: AdapterHarness) -> None:
    """A shipment record that cannot be read is quarantined with a reason; other shipments still arrive."""
    submitted(adapter_harness, make_order("LW-0016"))
    submitted(adapter_harness, make_order("LW-0017"))
    adapter_harness.warehouse.ship("LW-0016")
    adapter_harness.warehouse.ship("LW-0017")
    adapter_harness.corrupt_shipment("LW-0016")
    adapter_harness.settle()
    events, quarantined, _ = poll_all(adapter_harness)
    assert shipment_events(events, "LW-0017"), "the good shipment did not arrive"
    assert not shipment_events(events, "LW-0016"), "the malformed shipment was reported as good"
    assert quarantined and all(record and reason for record, reason in quarantined)
