"""Errors the ledger raises, shaped by what the caller should do.

::

    LedgerError
    ├── UnknownOrderError       no row for this reference (for this account and 3PL): a bug upstream
    ├── IllegalTransitionError  the transition table forbids it: a bug in the caller
    ├── StateConflictError      the row is not in the state the caller expected: someone else moved it; skip
    ├── LeaseLostError          the caller no longer holds the row's lease: stop working on that order
    ├── LedgerUnavailableError  the database cannot be reached or dropped the connection: stop the run
    └── EmptyReasonError        (also a ValueError) a quarantine needs a reason a person can act on
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from ledger._states import ALLOWED, State

__all__ = [
    "EmptyReasonError",
    "IllegalTransitionError",
    "LeaseLostError",
    "LedgerError",
    "LedgerUnavailableError",
    "StateConflictError",
    "UnknownOrderError",
]


class LedgerError(Exception):
    """Base of every error the ledger raises."""


class UnknownOrderError(LedgerError):
    """No order row with this reference exists for this account and 3PL."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"order {reference}: not in the ledger")
        self.reference = reference


class IllegalTransitionError(LedgerError):
    """The transition table does not allow this move."""

    def __init__(self, reference: str, from_state: State, to_state: State) -> None:
        allowed = ", ".join(sorted(ALLOWED[from_state])) or "none (terminal state)"
        super().__init__(
            f"order {reference}: transition {from_state} -> {to_state} is not allowed "
            f"(allowed from {from_state}: {allowed})"
        )
        self.reference = reference
        self.from_state = from_state
        self.to_state = to_state


class StateConflictError(LedgerError):
    """The order is not in any of the states the caller expected (another run moved it first)."""

    def __init__(self, reference: str, actual: State, expected: Collection[State]) -> None:
        wanted = ", ".join(sorted(expected))
        super().__init__(f"order {reference}: expected state in ({wanted}) but it is {actual}")
        self.reference = reference
        self.actual = actual
        self.expected = frozenset(expected)


class LeaseLostError(LedgerError):
    """The caller's lease on the order is gone (expired, released, or taken by another worker)."""

    def __init__(
        self, reference: str, owner: str, holder: str | None, expires_at: datetime | None, now: datetime
    ) -> None:
        if holder is None:
            why = "no one holds it"
        elif holder != owner:
            why = f"it is held by {holder!r}"
        else:
            why = f"it expired at {expires_at.isoformat() if expires_at else '?'} (now {now.isoformat()})"
        super().__init__(f"order {reference}: lease of {owner!r} lost; {why}")
        self.reference = reference
        self.owner = owner
        self.holder = holder


class EmptyReasonError(LedgerError, ValueError):
    """A quarantine or hold was asked for without a reason a person could act on."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"{reference}: a quarantine needs a non-empty reason a person can act on")
        self.reference = reference


class LedgerUnavailableError(LedgerError):
    """The ledger database cannot be reached, or the connection dropped mid-transaction: stop the run.

    Nothing half-done is left behind: the transaction in flight was rolled back by the database, so every
    order is in the state last committed, which the next run resolves (a ``submitting`` order is looked up
    at the 3PL, never sent again blindly). The next call on the same ``Ledger`` reconnects.
    """

    def __init__(self, database: str, cause: str) -> None:
        super().__init__(
            f"the ledger database {database} is unavailable ({cause}); check LEDGER_URL and that the "
            "database server is running (or, for SQLite, that the file is reachable and writable)"
        )
        self.database = database
