"""Plain immutable records the ledger takes and returns (never attached to a database session)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ledger._states import State

__all__ = [
    "HeldStockChange",
    "HoldStatus",
    "NewEvent",
    "NewOrder",
    "OrderRecord",
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
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewOrder(_Record):
    """An order to register: its fixed 3PL reference (the Linnworks OrderId) and what it looked like."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

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
    occurred_at: datetime
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
