"""Plain immutable records the ledger takes and returns (never attached to a database session)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, NamedTuple, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

from ledger._states import ALLOWED, State

__all__ = [
    "Changes",
    "EventEffect",
    "EventOutcome",
    "HeldStockChange",
    "HoldStatus",
    "LedgerStats",
    "Move",
    "MoveOutcome",
    "MoveStatus",
    "NewEvent",
    "NewOrder",
    "OrderRecord",
    "OrderSummary",
    "RegisterResult",
    "ShipmentSeen",
    "ShippedLine",
    "StockState",
    "TransitionRecord",
    "merge_lines",
]

Quantity = Annotated[int, Field(ge=0)]
# Keys are indexed; PostgreSQL refuses index entries over ~2.7 kB, so a key this long is a bug upstream.
KEY_MAX_CHARS = 300


class _Record(BaseModel):
    # from_attributes: records are validated straight from ORM rows and Core result rows.
    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


class NewOrder(_Record):
    """An order to register: its fixed 3PL reference (the Linnworks OrderId) and what it looked like."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True, from_attributes=True)

    reference: str = Field(min_length=1, max_length=KEY_MAX_CHARS, description="the Linnworks OrderId")
    num_order_id: str = Field(description="the Linnworks NumOrderId people see")
    payload_hash: str = Field(description="hash of the payload built for the 3PL")


class ShippedLine(_Record):
    """Units of one SKU that left the warehouse for an order."""

    sku: str
    quantity: Quantity


class ShipmentSeen(_Record):
    """One shipment as the 3PL reported it; appending the same ``shipment_id`` twice is a no-op."""

    shipment_id: str = Field(min_length=1)
    tracking_numbers: tuple[str, ...] = ()
    carrier: str = ""
    lines: tuple[ShippedLine, ...] = ()


class OrderRecord(_Record):
    """One order row as it was when read."""

    reference: str
    account: str
    threepl: str
    num_order_id: str
    state: State
    payload_hash: str
    remote_id: str | None
    tracking_number: str | None
    tracking_numbers: tuple[str, ...]
    carrier: str | None
    shipped_lines: tuple[ShippedLine, ...]
    shipment_ids: tuple[str, ...]
    attempts: int
    last_error: str | None
    quarantine_reason: str | None
    quarantined_from: State | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrderSummary(NamedTuple):
    """What a report row shows of an order: four of its columns, read without the rest of the record."""

    num_order_id: str
    remote_id: str | None
    carrier: str | None
    tracking_numbers: tuple[str, ...]


class RegisterResult(_Record):
    """What ``Ledger.register`` did: rows it created, and rows that already existed (with their state)."""

    new: tuple[OrderRecord, ...]
    existing: tuple[OrderRecord, ...]


class TransitionRecord(_Record):
    """One line of an order's audit trail; ``from_state`` is None for the row's creation."""

    reference: str
    from_state: State | None
    to_state: State
    at: datetime
    detail: str
    owner: str | None


class NewEvent(_Record):
    """A 3PL event to deduplicate by its id (stable across polls and redeliveries)."""

    event_id: str = Field(min_length=1, max_length=KEY_MAX_CHARS)
    reference: str = Field(max_length=KEY_MAX_CHARS)
    kind: str
    occurred_at: AwareDatetime
    payload: dict[str, Any] = Field(default_factory=dict)


class StockState(_Record):
    """The last level written to Linnworks for a SKU and the 3PL snapshot time it came from."""

    sku: str
    level: int
    as_of: datetime
    written_at: datetime


class HoldStatus(StrEnum):
    """Where a held stock change stands."""

    HELD = "held"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"
    SUPERSEDED = "superseded"


class HeldStockChange(_Record):
    """A stock change too large to write without a person looking at it."""

    id: int
    sku: str
    current: int
    proposed: int
    as_of: datetime
    reason: str
    status: HoldStatus
    created_at: datetime
    resolved_at: datetime | None
    resolution_note: str


def merge_lines(*groups: Iterable[ShippedLine]) -> tuple[ShippedLine, ...]:
    """Sum quantities per SKU, keeping the order in which SKUs were first seen."""
    totals: dict[str, int] = {}
    for group in groups:
        for line in group:
            totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return tuple(ShippedLine(sku=sku, quantity=qty) for sku, qty in totals.items())


class Changes(TypedDict, total=False):
    """Fields ``transition``, ``update`` and ``quarantine`` may change in the same transaction.

    Keys left out are left alone. ``shipment`` appends one shipment (idempotent by its id: tracking numbers
    added, lines summed per SKU); ``shipped_lines`` and ``tracking_numbers`` replace the whole list;
    ``last_error=None`` clears the error; ``count_attempt=True`` adds one to ``attempts``.
    """

    remote_id: str
    carrier: str
    tracking_numbers: Sequence[str]
    shipped_lines: Sequence[ShippedLine]
    shipment: ShipmentSeen
    last_error: str | None
    count_attempt: bool
    payload_hash: str
    num_order_id: str


class Move(_Record):
    """One order's transition in a batch: the states it is expected in, where it goes, and its own changes.

    Every state in ``expected_from`` must allow ``to`` (checked here), so a batch never fails halfway on a
    transition the table forbids; quarantine needs a reason and has its own method.
    """

    reference: str = Field(min_length=1, max_length=KEY_MAX_CHARS)
    to: State
    expected_from: frozenset[State] = Field(min_length=1)
    detail: str = ""
    changes: Changes = Field(default_factory=lambda: Changes())

    @model_validator(mode="after")
    def _allowed_from_every_expected_state(self) -> Self:
        if self.to is State.QUARANTINED:
            raise ValueError("quarantine needs a reason: use Ledger.quarantine(reference, reason)")
        refused = sorted(state for state in self.expected_from if self.to not in ALLOWED[state])
        if refused:
            raise ValueError(
                f"order {self.reference}: {', '.join(refused)} -> {self.to} is not an allowed transition; "
                "drop those states from expected_from"
            )
        return self


class MoveStatus(StrEnum):
    """What happened to one move of a batch."""

    MOVED = "moved"
    STATE_CONFLICT = "state_conflict"  # another run moved the order first: skip it
    LEASE_LOST = "lease_lost"  # the caller no longer holds the order: stop working on it
    UNKNOWN_ORDER = "unknown_order"  # no such order in the ledger: a bug upstream


class MoveOutcome(_Record):
    """The result of one move: the order as it now is (None when unknown) and, unless moved, why not."""

    reference: str
    status: MoveStatus
    record: OrderRecord | None
    reason: str = ""

    @property
    def moved(self) -> bool:
        """Whether the order moved."""
        return self.status is MoveStatus.MOVED


class EventEffect(_Record):
    """A 3PL event and the order move it causes (None: the event only needs to be remembered).

    ``keep``: changes written without a state change when the move finds the order in a state it does not
    expect (e.g. the parcel of an order another run completed is still appended); None writes nothing then.
    """

    event: NewEvent
    move: Move | None = None
    keep: Changes | None = None


class EventOutcome(_Record):
    """What ``apply_events`` did with one event.

    ``recorded`` is False for an event seen before, and for one whose move lost its lease (left unrecorded
    so that the next poll delivers it again); ``move`` is None when the event was seen before or had none.
    """

    event_id: str
    recorded: bool
    move: MoveOutcome | None


class LedgerStats(_Record):
    """Statements sent and transactions committed through one ledger's engine since it was opened."""

    statements: int
    commits: int
