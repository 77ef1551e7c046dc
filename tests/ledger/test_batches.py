"""Group commit: ``register``, ``transition_each`` and ``apply_events`` write a batch in one transaction,
report per order and keep the audit trail; ``orders.transition`` cannot be called without state and lease."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from ledger import (
    EventEffect,
    Ledger,
    Move,
    MoveStatus,
    NewEvent,
    ShipmentSeen,
    ShippedLine,
    State,
)

from .conftest import FakeClock, drive_to, new_order

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
OWNER = "worker-1"


def claimed(book: Ledger, state: State, references: list[str]) -> None:
    """Drive each order to ``state`` and lease them all to ``OWNER``."""
    for reference in references:
        drive_to(book, reference, state)
    got = book.claim([state], OWNER, limit=len(references), lease_seconds=600, references=references)
    assert sorted(o.reference for o in got) == sorted(references)


def to_submitted(reference: str, remote_id: str) -> Move:
    return Move(
        reference=reference,
        to=State.SUBMITTED,
        expected_from={State.SUBMITTING},
        detail="3PL accepted",
        changes={"remote_id": remote_id, "last_error": None},
    )


def test_each_order_moves_with_its_own_changes_in_one_commit(book: Ledger) -> None:
    """Three orders move with their own remote ids in one commit, each with its own audit line."""
    references = ["order-c", "order-a", "order-b"]
    claimed(book, State.SUBMITTING, references)
    before = book.stats()
    outcomes = book.transition_each([to_submitted(r, f"R-{r}") for r in references], owner=OWNER)
    assert book.stats().commits - before.commits == 1
    assert [(o.reference, o.status) for o in outcomes] == [(r, MoveStatus.MOVED) for r in references]
    stored = book.get_many(references)
    assert {r: (stored[r].state, stored[r].remote_id) for r in references} == {
        r: (State.SUBMITTED, f"R-{r}") for r in references
    }
    last = book.history("order-a")[-1]
    assert (last.from_state, last.to_state, last.detail, last.owner) == (
        State.SUBMITTING,
        State.SUBMITTED,
        "3PL accepted",
        OWNER,
    )


def test_an_order_moved_elsewhere_or_lost_does_not_undo_the_batch(book: Ledger, clock: FakeClock) -> None:
    """A state conflict, a lost lease and an unknown order are reported; the rest of the batch moves."""
    claimed(book, State.SUBMITTING, ["ok", "moved-elsewhere", "lease-gone"])
    # another run proved it absent at the 3PL
    book.transition("moved-elsewhere", State.PENDING, expected_from=[State.SUBMITTING], owner=None)
    book.release(["lease-gone"], OWNER)
    book.claim([State.SUBMITTING], "worker-2", limit=1, lease_seconds=600, references=["lease-gone"])
    moves = [to_submitted(r, "R") for r in ("ok", "moved-elsewhere", "lease-gone", "never-registered")]
    outcomes = book.transition_each(moves, owner=OWNER)
    assert [o.status for o in outcomes] == [
        MoveStatus.MOVED,
        MoveStatus.STATE_CONFLICT,
        MoveStatus.LEASE_LOST,
        MoveStatus.UNKNOWN_ORDER,
    ]
    assert outcomes[1].record is not None and outcomes[1].record.state is State.PENDING
    assert "another run" in outcomes[1].reason and outcomes[3].record is None
    states = {r: o.state for r, o in book.get_many(["ok", "moved-elsewhere", "lease-gone"]).items()}
    assert states == {"ok": State.SUBMITTED, "moved-elsewhere": State.PENDING, "lease-gone": State.SUBMITTING}


def test_two_moves_of_one_order_in_a_batch_apply_in_turn(book: Ledger) -> None:
    """The second move of the same order sees the first: submitting -> submitted -> exported."""
    claimed(book, State.SUBMITTING, ["order-1"])
    export = Move(reference="order-1", to=State.EXPORTED, expected_from={State.SUBMITTED})
    outcomes = book.transition_each([to_submitted("order-1", "R1"), export], owner=OWNER)
    assert [o.status for o in outcomes] == [MoveStatus.MOVED, MoveStatus.MOVED]
    assert [t.to_state for t in book.history("order-1")][-2:] == [State.SUBMITTED, State.EXPORTED]


def test_a_move_the_table_forbids_cannot_be_built() -> None:
    """Every expected state must allow the target, and quarantine (which needs a reason) is refused."""
    with pytest.raises(pydantic.ValidationError, match="pending -> exported is not an allowed"):
        Move(reference="r", to=State.EXPORTED, expected_from={State.SUBMITTED, State.PENDING})
    with pytest.raises(pydantic.ValidationError, match="quarantine needs a reason"):
        Move(reference="r", to=State.QUARANTINED, expected_from={State.PENDING})
    with pytest.raises(pydantic.ValidationError, match="expected_from"):
        Move(reference="r", to=State.SUBMITTING, expected_from=set())


def test_order_transition_requires_expected_states_and_lease(book: Ledger) -> None:
    """``ledger.orders.transition`` without ``expected_from`` and ``owner`` is refused before any write."""
    claimed(book, State.PENDING, ["order-1"])
    with pytest.raises(TypeError, match="expected_from"):
        book.orders.transition("order-1", State.SUBMITTING, owner=OWNER)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="owner"):
        book.orders.transition("order-1", State.SUBMITTING, expected_from=[State.PENDING])  # type: ignore[call-arg]
    record = book.orders.transition("order-1", State.SUBMITTING, expected_from=[State.PENDING], owner=OWNER)
    assert record.state is State.SUBMITTING


def test_register_writes_a_batch_with_a_few_statements(book: Ledger) -> None:
    """Registering 200 orders (100 of them known) is one commit and a handful of statements, not 200."""
    book.register([new_order(f"order-{i:03d}") for i in range(100)])
    before = book.stats()
    result = book.register([new_order(f"order-{i:03d}") for i in range(50, 250)])
    spent = book.stats()
    assert (len(result.new), len(result.existing)) == (150, 50)
    assert spent.commits - before.commits == 1
    assert (
        spent.statements - before.statements <= 6
    )  # begin, insert, audit insert, select (+ begin on SQLite)
    assert [t.to_state for t in book.history("order-249")] == [State.PENDING]


def shipment_event(event_id: str, reference: str) -> NewEvent:
    return NewEvent(event_id=event_id, reference=reference, kind="shipped", occurred_at=AT)


def ship(event_id: str, reference: str) -> EventEffect:
    seen = ShipmentSeen(
        shipment_id=f"S-{event_id}",
        tracking_numbers=(f"T-{event_id}",),
        lines=(ShippedLine(sku="A", quantity=1),),
    )
    move = Move(
        reference=reference,
        to=State.SHIPPED,
        expected_from={State.EXPORTED, State.PARTIALLY_SHIPPED},
        changes={"shipment": seen},
    )
    return EventEffect(event=shipment_event(event_id, reference), move=move)


def test_a_page_of_events_is_recorded_and_applied_in_one_commit(book: Ledger) -> None:
    """New events move their orders and are recorded, in one commit; a seen event is skipped entirely."""
    claimed(book, State.EXPORTED, ["order-1", "order-2"])
    book.record_events([shipment_event("old", "order-2")])
    page = [
        ship("e1", "order-1"),
        ship("old", "order-2"),
        EventEffect(event=shipment_event("note", "order-2")),
    ]
    before = book.stats()
    outcomes = book.apply_events(page, owner=OWNER)
    assert book.stats().commits - before.commits == 1
    assert [(o.event_id, o.recorded) for o in outcomes] == [("e1", True), ("old", False), ("note", True)]
    assert outcomes[0].move is not None and outcomes[0].move.status is MoveStatus.MOVED
    assert outcomes[1].move is None and outcomes[2].move is None
    stored = book.get_many(["order-1", "order-2"])
    assert (stored["order-1"].state, stored["order-1"].tracking_numbers) == (State.SHIPPED, ("T-e1",))
    assert stored["order-2"].state is State.EXPORTED
    assert book.events_seen(["e1", "old", "note"]) == {"e1", "old", "note"}


def test_an_event_whose_move_lost_its_lease_stays_unrecorded(book: Ledger, clock: FakeClock) -> None:
    """The next poll must deliver it again, so it is not recorded; a conflicting one is (nothing to redo)."""
    claimed(book, State.EXPORTED, ["order-1", "order-2"])
    book.release(["order-1"], OWNER)
    book.transition("order-2", State.CANCEL_REQUESTED, expected_from=[State.EXPORTED], owner=OWNER)
    conflicting = ship("e2", "order-2").model_copy(
        update={"move": Move(reference="order-2", to=State.CANCELLED, expected_from={State.EXPORTED})}
    )
    outcomes = book.apply_events([ship("e1", "order-1"), conflicting, ship("e1", "order-1")], owner=OWNER)
    assert [(o.recorded, o.move.status if o.move else None) for o in outcomes] == [
        (False, MoveStatus.LEASE_LOST),
        (True, MoveStatus.STATE_CONFLICT),
        (False, None),
    ]
    assert book.events_seen(["e1", "e2"]) == {"e2"}
    record = book.get("order-1")
    assert record is not None and record.state is State.EXPORTED and record.shipment_ids == ()


def test_events_without_a_lease_move_by_state_and_keep_their_parcel_on_a_conflict(book: Ledger) -> None:
    """``owner=None``: 3PL events move orders whoever holds them; a move that meets another state writes
    its ``keep`` changes (the parcel) without a state change, and the event is recorded, in one commit."""
    claimed(book, State.EXPORTED, ["order-1"])  # leased by another worker: events still apply
    drive_to(book, "order-2", State.PROCESSED)
    late = ship("e2", "order-2")
    assert late.move is not None
    kept = late.model_copy(update={"keep": {"shipment": late.move.changes["shipment"]}})
    before = book.stats()
    outcomes = book.apply_events([ship("e1", "order-1"), kept], owner=None)
    assert book.stats().commits - before.commits == 1
    assert [(o.recorded, o.move.status if o.move else None) for o in outcomes] == [
        (True, MoveStatus.MOVED),
        (True, MoveStatus.STATE_CONFLICT),
    ]
    conflict = outcomes[1].move
    assert conflict is not None and conflict.record is not None
    assert conflict.record.shipment_ids == ("S-e2",)
    stored = book.get_many(["order-1", "order-2"])
    assert (stored["order-1"].state, stored["order-1"].shipment_ids) == (State.SHIPPED, ("S-e1",))
    assert (stored["order-2"].state, stored["order-2"].tracking_numbers) == (State.PROCESSED, ("T-e2",))
