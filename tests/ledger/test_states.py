"""The transition table, and every allowed and disallowed transition against a real database."""

from __future__ import annotations

import pytest

import ledger
from ledger import (
    ALLOWED,
    OPEN_STATES,
    TERMINAL_STATES,
    IllegalTransitionError,
    Ledger,
    State,
    StateConflictError,
    UnknownOrderError,
)

from .conftest import drive_to, path_to

PAIRS = [(src, dst) for src in State for dst in State]


def test_terminal_states_have_no_way_out() -> None:
    """Processed and cancelled orders can never change state again."""
    assert {State.PROCESSED, State.CANCELLED} == TERMINAL_STATES
    assert all(not ALLOWED[state] for state in TERMINAL_STATES)


def test_every_state_is_reachable_and_can_finish() -> None:
    """Every state is reachable from pending, and every open state has a path to a terminal state."""
    for state in State:
        assert path_to(state) or state is State.PENDING
    for state in OPEN_STATES - {State.QUARANTINED}:
        assert any(path_to_terminal(state, end) for end in TERMINAL_STATES), state


def path_to_terminal(start: State, end: State) -> bool:
    seen, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        if state is end:
            return True
        for nxt in ALLOWED[state] - seen:
            seen.add(nxt)
            frontier.append(nxt)
    return False


def test_nothing_goes_back_before_the_pivot_except_a_proven_absent_create() -> None:
    """Only submitting may return to pending (a lookup proved the 3PL has no order); later states never do."""
    assert {state for state in State if State.PENDING in ALLOWED[state]} == {
        State.SUBMITTING,
        State.QUARANTINED,
    }
    assert {state for state in State if State.SUBMITTING in ALLOWED[state]} == {
        State.PENDING,
        State.QUARANTINED,
    }


def test_processing_only_follows_tracking_written() -> None:
    """The only way into processed is from tracking_written (tracking written and read back first)."""
    assert {state for state in State if State.PROCESSED in ALLOWED[state]} == {
        State.TRACKING_WRITTEN,
        State.QUARANTINED,
    }


def test_every_transition_is_allowed_or_refused_as_the_table_says(book: Ledger) -> None:
    """For all 144 (from, to) pairs, an allowed move succeeds and records history; any other raises."""
    for index, (src, dst) in enumerate(PAIRS):
        reference = f"order-{index}-{src}-{dst}"
        drive_to(book, reference, src)
        if dst in ALLOWED[src]:
            if dst is State.QUARANTINED:
                record = book.quarantine(reference, "reason", expected_from=[src], owner=None)
            else:
                record = book.transition(reference, dst, expected_from=[src], owner=None, detail="table test")
            assert record.state is dst, (src, dst)
            last = book.history(reference)[-1]
            assert (last.from_state, last.to_state) == (src, dst)
        else:
            with pytest.raises(IllegalTransitionError) as caught:
                if dst is State.QUARANTINED:
                    book.quarantine(reference, "reason", expected_from=[src], owner=None)
                else:
                    book.transition(reference, dst, expected_from=[src], owner=None)
            assert (caught.value.from_state, caught.value.to_state) == (src, dst)
            assert reference in str(caught.value) and f"{src} -> {dst}" in str(caught.value)
            current = book.get(reference)
            assert current is not None and current.state is src


def test_transition_to_quarantined_needs_quarantine(book: Ledger) -> None:
    """``transition`` refuses QUARANTINED so that no order is parked without a reason."""
    drive_to(book, "r", State.PENDING)
    with pytest.raises(ValueError, match="quarantine"):
        book.transition("r", State.QUARANTINED, expected_from=[State.PENDING], owner=None)


def test_unexpected_state_raises_conflict_and_changes_nothing(book: Ledger) -> None:
    """A compare-and-set on the state fails with StateConflictError when another run moved the order."""
    drive_to(book, "r", State.SUBMITTED)
    with pytest.raises(StateConflictError) as caught:
        book.transition("r", State.SUBMITTING, expected_from=[State.PENDING], owner=None, count_attempt=True)
    assert caught.value.actual is State.SUBMITTED
    record = book.get("r")
    assert record is not None and record.state is State.SUBMITTED and record.attempts == 0


def test_unknown_reference_raises(book: Ledger) -> None:
    """Moving an order the ledger does not know raises UnknownOrderError naming it."""
    with pytest.raises(UnknownOrderError, match="nope"):
        book.transition("nope", State.SUBMITTING, expected_from=[State.PENDING], owner=None)


def test_history_records_every_change_with_owner_and_detail(book: Ledger) -> None:
    """The audit trail lists creation and each transition, in order, with detail and owner."""
    drive_to(book, "r", State.PENDING)
    book.claim([State.PENDING], "w1", limit=1, lease_seconds=60)
    book.transition("r", State.SUBMITTING, expected_from=[State.PENDING], owner="w1", detail="attempt 1")
    history = book.history("r")
    assert [(h.from_state, h.to_state) for h in history] == [
        (None, State.PENDING),
        (State.PENDING, State.SUBMITTING),
    ]
    assert (history[1].detail, history[1].owner) == ("attempt 1", "w1")
    assert all(h.at.tzinfo is not None for h in history)


def documented_transitions() -> dict[State, set[State]]:
    """Parse the transition list in the package docstring ("from -> a, b," lines and their continuations)."""
    doc = ledger.__doc__ or ""
    block = doc[doc.index("Every allowed transition") :].split("::\n\n", 1)[1].split("\n\n", 1)[0]
    table: dict[State, set[State]] = {}
    current = State.PENDING
    for line in block.splitlines():
        if "->" in line:
            name, line = (part.strip() for part in line.split("->", 1))
            current = State(name)
            table[current] = set()
        if "any other state" in line:
            table[current] = set(State) - {current}
        elif "(terminal)" not in line:
            table[current] |= {State(word.strip()) for word in line.split(",") if word.strip()}
    return table


def test_package_docstring_lists_exactly_the_allowed_transitions() -> None:
    """The transition list a reader sees in ``ledger``'s docstring is the table the code enforces."""
    assert documented_transitions() == {state: set(targets) for state, targets in ALLOWED.items()}
