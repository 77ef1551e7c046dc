"""The per-order states and the one table of allowed transitions."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = ["ALLOWED", "OPEN_STATES", "TERMINAL_STATES", "State", "is_allowed"]


class State(StrEnum):
    """Where one Linnworks order stands with one 3PL. Stored as its value; never rename a value."""

    PENDING = "pending"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    EXPORTED = "exported"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    TRACKING_WRITTEN = "tracking_written"
    PROCESSED = "processed"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"
    QUARANTINED = "quarantined"


S = State

TERMINAL_STATES: frozenset[State] = frozenset({S.PROCESSED, S.CANCELLED})
OPEN_STATES: frozenset[State] = frozenset(State) - TERMINAL_STATES

# After the pivot (SUBMITTING) an order can only move forward, be cancelled or wait for a person; it never
# goes back to PENDING except from SUBMITTING when a lookup proved the 3PL has no such order.
_FORWARD: dict[State, frozenset[State]] = {
    S.PENDING: frozenset({S.SUBMITTING, S.CANCELLED}),
    S.SUBMITTING: frozenset({S.SUBMITTED, S.PENDING, S.CANCEL_REQUESTED}),
    S.SUBMITTED: frozenset(
        {S.EXPORTED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCEL_REQUESTED, S.CANCELLED, S.ON_HOLD}
    ),
    S.EXPORTED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCEL_REQUESTED, S.CANCELLED, S.ON_HOLD}),
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCEL_REQUESTED, S.ON_HOLD}),
    S.SHIPPED: frozenset({S.TRACKING_WRITTEN}),
    S.TRACKING_WRITTEN: frozenset({S.PROCESSED}),
    S.CANCEL_REQUESTED: frozenset({S.CANCELLED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD}),
    S.ON_HOLD: frozenset(
        {S.SUBMITTED, S.EXPORTED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCEL_REQUESTED, S.CANCELLED}
    ),
    S.PROCESSED: frozenset(),
    S.CANCELLED: frozenset(),
}


def _with_quarantine(forward: Mapping[State, frozenset[State]]) -> dict[State, frozenset[State]]:
    """Every open state may be quarantined; a person may release a quarantined order to any other state."""
    table = {
        state: targets | ({S.QUARANTINED} if state in OPEN_STATES else set())
        for state, targets in forward.items()
    }
    table[S.QUARANTINED] = frozenset(State) - {S.QUARANTINED}
    return table


ALLOWED: Mapping[State, frozenset[State]] = _with_quarantine(_FORWARD)
"""``ALLOWED[from_state]`` is the set of states an order may move to from ``from_state``."""


def is_allowed(from_state: State, to_state: State) -> bool:
    """Whether the table allows ``from_state -> to_state``."""
    return to_state in ALLOWED[from_state]
