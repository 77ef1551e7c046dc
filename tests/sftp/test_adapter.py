"""The SFTP adapter against the SFTP sandbox, over real SSH on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clients.errors import MalformedResponseError, RetryableError
from clients.sftp import SftpAdapter
from clients.threepl import (
    CancelOutcome,
    CatalogueItem,
    ChangeOutcome,
    EventKind,
    SubmitOutcome,
    ThreePLAdapter,
)
from sandbox.sftp import SftpSandbox
from sandbox.warehouse import OrderStatus, Warehouse
from tests.sftp.conftest import Clock, make_order
from tests.sftp.test_format import HOSTILE


def test_adapter_satisfies_the_protocol_and_declares_its_capabilities(adapter: SftpAdapter) -> None:
    """The adapter is a ThreePLAdapter with lookup-only idempotency and cancel by request."""
    assert isinstance(adapter, ThreePLAdapter)
    caps = adapter.capabilities()
    assert (caps.idempotency, caps.cancel, caps.partial_shipments, caps.multi_parcel) == (
        "lookup_only",
        "request",
        True,
        True,
    )


def test_submit_publishes_one_order_file_the_warehouse_turns_into_one_order(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """An accepted submit leaves ord_<reference>.csv (no temp file) in inbound; the clerk makes the order."""
    result = adapter.submit_order(make_order("A-1"))
    assert (result.outcome, result.remote_id) == (SubmitOutcome.ACCEPTED, "ord_A-1.csv")
    assert sandbox.files("inbound") == ["ord_A-1.csv"]
    sandbox.process_once()
    assert sandbox.files("inbound/processed") == ["ord_A-1.csv"]
    order = warehouse.find_by_reference("A-1")
    assert order is not None and [(x.sku, x.quantity, x.line_ref) for x in order.lines] == [
        ("SKU-0001", 2, "A-1-L1")
    ]


def test_a_repeat_submit_is_duplicate_before_and_after_pickup(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """The file name is the idempotency: a repeat submit is DUPLICATE before and after pickup."""
    assert adapter.submit_order(make_order("A-2")).outcome is SubmitOutcome.ACCEPTED
    assert adapter.submit_order(make_order("A-2")).outcome is SubmitOutcome.DUPLICATE
    sandbox.process_once()
    again = adapter.submit_order(make_order("A-2"))
    assert (again.outcome, again.remote_id) == (SubmitOutcome.DUPLICATE, "ord_A-2.csv")
    assert sandbox.files("inbound") == []
    assert len(warehouse.list_orders(references=["A-2"])) == 1


def test_find_order_reports_received_then_picked_up_and_none_for_strangers(
    adapter: SftpAdapter, sandbox: SftpSandbox
) -> None:
    """find_order sees the file in inbound, then in inbound/processed; an unknown reference is None."""
    assert adapter.find_order("A-3") is None
    adapter.submit_order(make_order("A-3"))
    found = adapter.find_order("A-3")
    assert found is not None and (found.remote_id, found.status) == ("ord_A-3.csv", "received")
    sandbox.process_once()
    found = adapter.find_order("A-3")
    assert found is not None and found.status == "picked_up"


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_reaches_the_warehouse_byte_for_byte(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse, text: str
) -> None:
    """Names with commas, quotes, line breaks, emoji and right-to-left text arrive unchanged."""
    adapter.submit_order(make_order("H-1", name=text))
    sandbox.process_once()
    order = warehouse.find_by_reference("H-1")
    assert order is not None and order.address["name"] == text


def test_a_reference_with_unsafe_characters_round_trips_through_the_file_name(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """A reference holding a slash and spaces makes a safe file name and reaches the warehouse intact."""
    assert adapter.submit_order(make_order("a/b c ✓")).outcome is SubmitOutcome.ACCEPTED
    sandbox.process_once()
    assert warehouse.find_by_reference("a/b c ✓") is not None
    assert adapter.find_order("a/b c ✓") is not None


def test_events_arrive_oldest_first_and_repeat_until_acked(
    adapter: SftpAdapter, sandbox: SftpSandbox, clock: Clock
) -> None:
    """Accepted then shipment events come back on every poll, with the same ids, until ack moves the files."""
    adapter.submit_order(make_order("E-1"))
    sandbox.process_once()
    clock.advance(minutes=31)
    sandbox.process_once()
    first = adapter.poll_events(None)
    assert [(e.kind, e.reference) for e in first.events] == [
        (EventKind.ACCEPTED, "E-1"),
        (EventKind.SHIPMENT, "E-1"),
    ]
    shipment = first.events[1].shipment
    assert shipment is not None and shipment.is_final and shipment.packages[0].tracking_number
    assert shipment.packages[0].lines[0].line_ref == "E-1-L1"
    again = adapter.poll_events(None)
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    adapter.ack(first.events)
    assert adapter.poll_events(None).events == []
    assert [n[:4] for n in sandbox.files("outbound/processed")] == ["ack_", "shp_"]


def test_a_file_moves_only_when_all_its_events_are_acked(adapter: SftpAdapter, sandbox: SftpSandbox) -> None:
    """Acking part of a file's events keeps the file; acking the rest moves it."""
    adapter.submit_order(make_order("P-1"))
    adapter.submit_order(make_order("P-2"))
    sandbox.process_once()
    page = adapter.poll_events(None)
    assert len(page.events) == 2
    adapter.ack(page.events[:1])
    assert len(adapter.poll_events(None).events) == 2
    adapter.ack(page.events[1:])
    assert adapter.poll_events(None).events == []


def test_a_fresh_adapter_can_ack_what_another_one_polled(
    make_adapter: Callable[..., SftpAdapter], sandbox: SftpSandbox
) -> None:
    """ack needs no memory of the poll: a new adapter instance (another task) re-reads and moves the files."""
    first, second = make_adapter(), make_adapter()
    first.submit_order(make_order("F-1"))
    sandbox.process_once()
    events = first.poll_events(None).events
    second.ack(events)
    assert first.poll_events(None).events == []


def test_a_malformed_row_is_quarantined_and_the_rest_of_the_file_is_delivered(
    adapter: SftpAdapter, sandbox: SftpSandbox, clock: Clock
) -> None:
    """The sandbox's malformed-row fault: that row is quarantined with a reason, the good shipment goes on."""
    adapter.submit_order(make_order("M-1"))
    sandbox.process_once()
    adapter.ack(adapter.poll_events(None).events)
    sandbox.faults.malformed_event_rows = 1
    clock.advance(minutes=31)
    sandbox.process_once()
    page = adapter.poll_events(None)
    assert [(e.kind, e.reference) for e in page.events] == [(EventKind.SHIPMENT, "M-1")]
    [(record, reason)] = page.quarantined
    assert record.startswith("shp_") and record.endswith("#3")
    assert "quantity: must be a whole number" in reason
    adapter.ack(page.events)
    assert sandbox.files("outbound") == [n for n in sandbox.files("outbound") if n.startswith("inv_")]


def test_a_file_with_no_usable_row_goes_to_rejected(adapter: SftpAdapter, sandbox: SftpSandbox) -> None:
    """An outbound event file that yields nothing is moved to outbound/rejected/ and reported once."""
    (sandbox.root / "outbound" / "ack_20261127T000000Z_x.csv").write_bytes(b"garbage")
    page = adapter.poll_events(None)
    assert page.events == [] and page.quarantined[0][0] == "ack_20261127T000000Z_x.csv"
    assert sandbox.files("outbound/rejected") == ["ack_20261127T000000Z_x.csv"]
    assert adapter.poll_events(None).quarantined == []


def test_polls_page_by_rows_and_continue_after_the_checkpoint(
    make_adapter: Callable[..., SftpAdapter], sandbox: SftpSandbox
) -> None:
    """With a small row budget a poll stops after a whole file; its checkpoint leads to the next file."""
    adapter = make_adapter(max_rows_per_poll=1)
    for ref in ("C-1", "C-2", "C-3"):
        adapter.submit_order(make_order(ref))
        sandbox.process_once()
    first = adapter.poll_events(None)
    assert [e.reference for e in first.events] == ["C-1"] and first.checkpoint is not None
    second = adapter.poll_events(first.checkpoint)
    third = adapter.poll_events(second.checkpoint)
    assert [e.reference for e in second.events + third.events] == ["C-2", "C-3"]
    assert third.checkpoint is None


def test_a_stored_checkpoint_never_hides_unacked_files(
    make_adapter: Callable[..., SftpAdapter], sandbox: SftpSandbox
) -> None:
    """A checkpoint kept from an earlier drain (or another process) skips nothing: unacked files come back."""
    adapter = make_adapter(max_rows_per_poll=1)
    for ref in ("K-1", "K-2"):
        adapter.submit_order(make_order(ref))
        sandbox.process_once()
    stored = adapter.poll_events(None).checkpoint
    assert stored is not None
    assert [e.reference for e in make_adapter().poll_events(stored).events] == ["K-1", "K-2"]
    adapter.poll_events(stored)  # the drain that checkpoint belonged to goes on once
    assert [e.reference for e in adapter.poll_events(stored).events] == ["K-1"]


def test_cancel_request_is_answered_by_the_warehouse(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """cancel_order drops can_<reference>.csv (REQUESTED); the warehouse cancels and acks 'cancelled'."""
    adapter.submit_order(make_order("X-1"))
    sandbox.process_once()
    adapter.ack(adapter.poll_events(None).events)
    result = adapter.cancel_order("X-1", "customer changed their mind")
    assert result.outcome is CancelOutcome.REQUESTED
    assert adapter.cancel_order("X-1", "again").outcome is CancelOutcome.REQUESTED
    assert sandbox.files("inbound") == ["can_X-1.csv"]
    sandbox.process_once()
    order = warehouse.find_by_reference("X-1")
    assert order is not None and order.status is OrderStatus.CANCELLED
    assert [(e.kind, e.reference) for e in adapter.poll_events(None).events] == [(EventKind.CANCELLED, "X-1")]


def test_cancel_after_shipping_is_answered_too_late(
    adapter: SftpAdapter, sandbox: SftpSandbox, clock: Clock
) -> None:
    """A cancel request for a shipped order comes back as a cancel_rejected event with the reason."""
    adapter.submit_order(make_order("X-2"))
    sandbox.process_once()
    clock.advance(hours=1)
    sandbox.process_once()
    adapter.ack(adapter.poll_events(None).events)
    assert adapter.cancel_order("X-2", "too slow").outcome is CancelOutcome.REQUESTED
    sandbox.process_once()
    [event] = adapter.poll_events(None).events
    assert (event.kind, event.detail) == (EventKind.CANCEL_REJECTED, "already shipped")


def test_cancel_of_an_unknown_reference_is_not_found(adapter: SftpAdapter, sandbox: SftpSandbox) -> None:
    """No order file, no cancel file: NOT_FOUND."""
    assert adapter.cancel_order("nobody", "x").outcome is CancelOutcome.NOT_FOUND
    assert sandbox.files("inbound") == []


def test_the_warehouse_rejection_of_an_unknown_sku_is_an_error_event(
    adapter: SftpAdapter, sandbox: SftpSandbox
) -> None:
    """The file is delivered (ACCEPTED); the warehouse's 'rejected' ack names the SKU."""
    assert adapter.submit_order(make_order("R-1", sku="NOPE")).outcome is SubmitOutcome.ACCEPTED
    sandbox.process_once()
    [event] = adapter.poll_events(None).events
    assert event.kind is EventKind.ERROR and event.detail.startswith("rejected: ") and "NOPE" in event.detail


def test_inventory_is_the_newest_snapshot_and_older_files_move_on(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse, clock: Clock
) -> None:
    """fetch_inventory reads the newest inv_ file with its as_of; superseded files go to processed."""
    sandbox.process_once()
    warehouse.set_on_hand("SKU-0002", 7)
    clock.advance(minutes=5)
    newest = sandbox.write_stock_snapshot()
    snapshot = adapter.fetch_inventory()
    assert snapshot.as_of == clock.now and snapshot.complete
    assert {level.sku: level.on_hand for level in snapshot.levels}["SKU-0002"] == 7
    assert [n for n in sandbox.files("outbound") if n.startswith("inv_")] == [newest]
    assert len(sandbox.files("outbound/processed")) == 1


def test_a_malformed_stock_file_is_rejected_whole_and_the_previous_one_stands(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse, clock: Clock
) -> None:
    """A bad stock file raises MalformedResponseError and moves to rejected; then the older one is read."""
    sandbox.process_once()
    good_as_of = clock.now
    sandbox.faults.malformed_stock_files = 1
    clock.advance(minutes=5)
    warehouse.set_on_hand("SKU-0003", 1)
    bad = sandbox.write_stock_snapshot()
    with pytest.raises(MalformedResponseError, match="on_hand: must be a whole number"):
        adapter.fetch_inventory()
    assert sandbox.files("outbound/rejected") == [bad]
    assert adapter.fetch_inventory().as_of == good_as_of


def test_no_stock_file_yet_is_retryable(adapter: SftpAdapter) -> None:
    """Before any snapshot exists, fetch_inventory raises RetryableError, never an empty picture."""
    with pytest.raises(RetryableError, match="not written a stock file"):
        adapter.fetch_inventory()


def test_items_are_upserted_by_sku_through_an_items_file(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """upsert_items sends one itm_ file; the warehouse creates new SKUs and updates existing ones."""
    results = adapter.upsert_items(
        [CatalogueItem(sku="NEW-1", title="Mug, «large» ☕"), CatalogueItem(sku="SKU-0001", title="Renamed")]
    )
    assert [(r.sku, r.ok) for r in results] == [("NEW-1", True), ("SKU-0001", True)]
    [name] = sandbox.files("inbound")
    assert name.startswith("itm_") and results[0].detail == f"sent in {name}"
    sandbox.process_once()
    new, old = warehouse.product("NEW-1"), warehouse.product("SKU-0001")
    assert new is not None and new.title == "Mug, «large» ☕"
    assert old is not None and old.title == "Renamed"
    assert adapter.upsert_items([]) == []


def test_changes_after_submit_are_unsupported_and_leave_the_order_file_alone(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """The v1 format has no change file: the adapter says so, claims no change capability, sends nothing."""
    order = make_order("ref-change-1")
    assert adapter.submit_order(order).outcome is SubmitOutcome.ACCEPTED
    edited = order.model_copy(update={"ship_to": order.ship_to.model_copy(update={"line1": "1 New Street"})})
    result = adapter.change_order(edited)
    assert result.outcome is ChangeOutcome.UNSUPPORTED and "CSV v1" in result.detail
    capabilities = adapter.capabilities()
    assert not (capabilities.change_address or capabilities.change_lines or capabilities.change_service)
    sandbox.process_once()
    [held] = warehouse.list_orders()
    assert "1 New Street" not in held.address.values()
    assert held.address  # the order file was read: the address is there, as first sent
