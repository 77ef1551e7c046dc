"""Stock snapshots (an older one never wins), held changes, shipped-but-unprocessed units, catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger import (
    OPEN_STATES,
    SHIPPED_UNPROCESSED_STATES,
    EmptyReasonError,
    HoldStatus,
    Ledger,
    LedgerError,
    ShipmentSeen,
    ShippedLine,
    State,
)

from .conftest import drive_to

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=15)
T2 = T0 + timedelta(minutes=30)


def test_older_snapshot_never_overwrites_a_newer_one(book: Ledger) -> None:
    """Recording a level from an older snapshot is refused and leaves the newer level in place."""
    assert book.record_stock_written("SKU-1", 10, T1) is True
    assert book.record_stock_written("SKU-1", 99, T0) is False
    state = book.stock_state(["SKU-1", "SKU-unknown"])
    assert list(state) == ["SKU-1"]
    assert (state["SKU-1"].level, state["SKU-1"].as_of) == (10, T1)


def test_replays_out_of_order_end_at_the_newest(book: Ledger) -> None:
    """Snapshots replayed twice and out of order: the level ends at the newest snapshot's value."""
    writes = [("S", 3, T2), ("S", 1, T0), ("S", 2, T1), ("S", 3, T2), ("S", 1, T0)]
    results = [book.record_stock_written(*w) for w in writes]
    assert results == [True, False, False, True, False]
    assert book.stock_state()["S"].level == 3


def test_batch_write_is_per_item_and_the_newest_in_a_batch_wins(book: Ledger) -> None:
    """In one batch, each write answers for itself and the newest snapshot per SKU is what remains."""
    results = book.record_stock_written_many([("A", 5, T2), ("A", 4, T1), ("B", 7, T0)])
    assert results == [True, False, True]
    assert {sku: s.level for sku, s in book.stock_state(["A", "B"]).items()} == {"A": 5, "B": 7}


def test_equal_snapshot_time_is_accepted(book: Ledger) -> None:
    """The same snapshot written again (e.g. after a shipped-units adjustment) is recorded."""
    book.record_stock_written("S", 5, T1)
    assert book.record_stock_written("S", 6, T1) is True
    assert book.stock_state(["S"])["S"].level == 6


def test_held_change_lifecycle(book: Ledger) -> None:
    """A large change is held once per SKU, a newer proposal replaces it, approval is applied by the write."""
    held = book.hold_stock_change("S", 10, 900, T1, "jump of 890 units > threshold 500")
    again = book.hold_stock_change("S", 10, 950, T2, "jump of 940 units > threshold 500")
    stale = book.hold_stock_change("S", 10, 100, T0, "older snapshot")
    assert held.id == again.id == stale.id
    assert (stale.proposed, stale.as_of) == (950, T2)
    [open_hold] = book.held_stock_changes()
    approved = book.resolve_held(open_hold.id, approve=True, note="stock count confirmed by Sam")
    assert approved.status is HoldStatus.APPROVED and approved.resolved_at is not None
    assert book.held_stock_changes() == []
    with pytest.raises(LedgerError, match="approved"):
        book.resolve_held(open_hold.id, approve=False)
    book.record_stock_written("S", 950, T2)
    [applied] = book.held_stock_changes(HoldStatus.APPLIED)
    assert applied.resolution_note == "stock count confirmed by Sam"


def test_a_write_supersedes_an_open_hold_and_rejection_is_kept(book: Ledger) -> None:
    """A later write closes an older unreviewed hold as superseded; a rejected hold stays rejected."""
    first = book.hold_stock_change("A", 1, 800, T0, "big")
    book.record_stock_written("A", 2, T1)
    second = book.hold_stock_change("B", 1, 800, T0, "big")
    book.resolve_held(second.id, approve=False, note="miscount at the 3PL")
    book.record_stock_written("B", 1, T1)
    statuses = {h.id: h.status for h in book.held_stock_changes(None)}
    assert statuses == {first.id: HoldStatus.SUPERSEDED, second.id: HoldStatus.REJECTED}
    with pytest.raises(EmptyReasonError):
        book.hold_stock_change("C", 1, 800, T0, "  ")
    with pytest.raises(LedgerError, match="missing"):
        book.resolve_held(9999, approve=True)


def ship(book: Ledger, reference: str, target: State, lines: dict[str, int]) -> None:
    """Drive an order to ``target`` with a shipment of ``lines`` recorded on the way."""
    drive_to(book, reference, State.EXPORTED)
    shipment = ShipmentSeen(
        shipment_id=f"{reference}-s1",
        tracking_numbers=(f"T-{reference}",),
        lines=tuple(ShippedLine(sku=s, quantity=q) for s, q in lines.items()),
    )
    book.transition(
        reference, State.PARTIALLY_SHIPPED, expected_from=[State.EXPORTED], owner=None, shipment=shipment
    )
    for state in {
        State.PARTIALLY_SHIPPED: [],
        State.SHIPPED: [State.SHIPPED],
        State.TRACKING_WRITTEN: [State.SHIPPED, State.TRACKING_WRITTEN],
        State.PROCESSED: [State.SHIPPED, State.TRACKING_WRITTEN, State.PROCESSED],
        State.ON_HOLD: [State.ON_HOLD],
        State.CANCEL_REQUESTED: [State.CANCEL_REQUESTED],
        State.CANCELLED: [State.CANCEL_REQUESTED, State.CANCELLED],
    }[target]:
        book.transition(reference, state, expected_from=OPEN_STATES, owner=None)


def test_shipped_unprocessed_units_counts_only_open_shipped_orders(book: Ledger) -> None:
    """Units count while shipped and not processed (incl. quarantined from there); never once processed."""
    assert {
        State.PARTIALLY_SHIPPED,
        State.SHIPPED,
        State.TRACKING_WRITTEN,
        State.ON_HOLD,
    } == SHIPPED_UNPROCESSED_STATES
    ship(book, "partial", State.PARTIALLY_SHIPPED, {"A": 1})
    ship(book, "shipped", State.SHIPPED, {"A": 2, "B": 1})
    ship(book, "written", State.TRACKING_WRITTEN, {"B": 4})
    ship(book, "held", State.ON_HOLD, {"C": 8})
    ship(book, "quarantined", State.SHIPPED, {"A": 16})
    book.quarantine(
        "quarantined", "tracking read back differs: wrote T-1, read T-2", expected_from=[State.SHIPPED],
        owner=None,
    )  # fmt: skip
    ship(book, "processed", State.PROCESSED, {"A": 100})
    ship(book, "cancelled", State.CANCELLED, {"A": 200})
    ship(book, "cancel-requested", State.CANCEL_REQUESTED, {"A": 400})
    drive_to(book, "not-shipped", State.EXPORTED)
    drive_to(book, "quarantined-early", State.SUBMITTED)
    book.quarantine(
        "quarantined-early", "3PL rejected the address", expected_from=[State.SUBMITTED], owner=None
    )
    assert book.shipped_unprocessed_units() == {"A": 19, "B": 5, "C": 8}


def test_shipments_accumulate_once_per_shipment_id(book: Ledger) -> None:
    """Each shipment adds its lines and tracking once; the same shipment again changes nothing."""
    drive_to(book, "r", State.EXPORTED)
    first = ShipmentSeen(
        shipment_id="s1", tracking_numbers=("T1",), carrier="DPD", lines=(ShippedLine(sku="A", quantity=2),)
    )
    second = ShipmentSeen(
        shipment_id="s2",
        tracking_numbers=("T2", "T1"),
        carrier="UPS",
        lines=(ShippedLine(sku="A", quantity=1),),
    )
    shipping = [State.EXPORTED, State.PARTIALLY_SHIPPED]
    book.transition("r", State.PARTIALLY_SHIPPED, expected_from=shipping, owner=None, shipment=first)
    book.transition("r", State.PARTIALLY_SHIPPED, expected_from=shipping, owner=None, shipment=first)
    record = book.transition("r", State.SHIPPED, expected_from=shipping, owner=None, shipment=second)
    assert record.tracking_numbers == ("T1", "T2") and record.tracking_number == "T1"
    assert record.carrier == "DPD"
    assert record.shipped_lines == (ShippedLine(sku="A", quantity=3),)
    assert record.shipment_ids == ("s1", "s2")


def test_catalogue_hashes_round_trip(book: Ledger) -> None:
    """Hashes are stored per SKU, replaced on change, and unknown SKUs are absent."""
    book.record_catalogue_hashes({"A": "h1", "B": "h2"})
    book.record_catalogue_hash("A", "h3")
    assert book.catalogue_hashes(["A", "B", "C"]) == {"A": "h3", "B": "h2"}


def test_many_skus_are_read_in_chunks(book: Ledger) -> None:
    """Lookups of more SKUs than one IN list holds still return every row."""
    hashes = {f"SKU-{i:05d}": f"h{i}" for i in range(1_203)}
    book.record_catalogue_hashes(hashes)
    assert book.catalogue_hashes(hashes) == hashes
