"""``transition_many``: several orders settled by one outside call move together, or not at all."""

from __future__ import annotations

import pytest

from ledger import Ledger, State, StateConflictError

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
