"""``transition_many``: several orders settled by one outside call move together, or not at all."""

from __future__ import annotations

import pytest

from ledger import Ledger, Move, ShipmentSeen, State, StateConflictError

from .conftest import drive_to


def test_all_orders_move_in_one_step(book: Ledger) -> None:
    """Every order moves, the results come back in the order asked, and each keeps an audit line."""
    references = ["order-b", "order-a", "order-c"]
    for reference in references:
        drive_to(book, reference, State.SUBMITTED)
    moved = book.transition_many(
        references, State.EXPORTED, expected_from=[State.SUBMITTED], owner=None, detail="tagged"
    )
    assert [record.reference for record in moved] == references
    assert {record.state for record in moved} == {State.EXPORTED}
    assert book.history("order-a")[-1].detail == "tagged"


def test_one_order_in_the_wrong_state_moves_none(book: Ledger) -> None:
    """If one order fails its check, nothing is written and the error names it."""
    drive_to(book, "order-1", State.SUBMITTED)
    drive_to(book, "order-2", State.PENDING)
    with pytest.raises(StateConflictError, match="order-2"):
        book.transition_many(
            ["order-1", "order-2"], State.EXPORTED, expected_from=[State.SUBMITTED], owner=None
        )
    record = book.get("order-1")
    assert record is not None and record.state is State.SUBMITTED


def test_quarantine_is_refused(book: Ledger) -> None:
    """Quarantine needs a reason, so it cannot be a batch move."""
    with pytest.raises(ValueError, match="quarantine"):
        book.transition_many(["order-1"], State.QUARANTINED, expected_from=[State.PENDING], owner=None)


def test_a_batch_of_moves_writes_what_each_one_changed(book: Ledger) -> None:
    """Moves with different changes in one ``transition_each`` each write their own columns, lists included,
    and leave the others as they were."""
    drive_to(book, "order-1", State.SUBMITTED)
    drive_to(book, "order-2", State.SUBMITTED)
    book.transition("order-2", State.EXPORTED, expected_from=[State.SUBMITTED], owner=None, carrier="DHL")
    moves = [
        Move(
            reference="order-1",
            to=State.EXPORTED,
            expected_from={State.SUBMITTED},
            changes={"remote_id": "R1"},
        ),
        Move(
            reference="order-2",
            to=State.SHIPPED,
            expected_from={State.EXPORTED},
            changes={"shipment": ShipmentSeen(shipment_id="S1", tracking_numbers=("T1",))},
        ),
    ]
    book.claim([State.SUBMITTED, State.EXPORTED], "me", limit=2, lease_seconds=60)
    assert all(outcome.moved for outcome in book.transition_each(moves, owner="me"))
    first, second = book.get("order-1"), book.get("order-2")
    assert first is not None and (first.state, first.remote_id, first.tracking_numbers) == (
        State.EXPORTED,
        "R1",
        (),
    )
    assert second is not None and (second.state, second.shipment_ids, second.tracking_numbers) == (
        State.SHIPPED,
        ("S1",),
        ("T1",),
    )
    assert second.carrier == "DHL" and second.tracking_number == "T1"
