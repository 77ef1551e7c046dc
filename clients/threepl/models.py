"""Neutral shapes every 3PL adapter speaks. Adapters translate their wire format to and from these.

All times are timezone-aware UTC. Quantities are non-negative ints. Outbound models forbid unknown
fields (a typo is a bug); inbound ones are built by adapters from validated wire models.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "Address",
    "CancelOutcome",
    "CancelResult",
    "Capabilities",
    "CatalogueItem",
    "ChangeOutcome",
    "ChangeResult",
    "Event",
    "EventKind",
    "EventPage",
    "FulfilmentOrder",
    "InventoryLevel",
    "InventorySnapshot",
    "ItemResult",
    "OrderLine",
    "Package",
    "PackageLine",
    "RateLimit",
    "RemoteOrder",
    "Shipment",
    "SubmitOutcome",
    "SubmitResult",
    "UtcDatetime",
    "ValidationIssue",
    "WrittenTracking",
]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (UTC); convert partner-local times in the adapter")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
Quantity = Annotated[int, Field(ge=0)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- outbound: what we send -----------------------------------------------------------------------


class Address(_Out):
    name: str
    company: str = ""
    line1: str
    line2: str = ""
    line3: str = ""
    city: str
    region: str = ""
    postcode: str = ""
    country_code: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    email: str = ""
    phone: str = ""


class OrderLine(_Out):
    line_ref: str = Field(description="Linnworks order item row id, echoed back in shipments")
    sku: str = Field(min_length=1)
    quantity: Annotated[int, Field(gt=0)]
    title: str = ""
    unit_price: Decimal = Decimal("0")


class FulfilmentOrder(_Out):
    reference: str = Field(min_length=1, description="our stable key: the Linnworks OrderId (pkOrderID)")
    display_ref: str = Field(description="what people see: the Linnworks NumOrderId")
    ship_to: Address
    service_code: str = Field(description="the 3PL's shipping service, already mapped from Linnworks")
    lines: list[OrderLine] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)
    currency: str = "GBP"
    received_at: UtcDatetime | None = None
    goods_total: Decimal | None = Field(
        default=None,
        description="line prices after discounts, with taxes, in ``currency``; None when not known",
    )


class CatalogueItem(_Out):
    sku: str = Field(min_length=1)
    title: str
    barcode: str = ""
    weight_kg: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None


# --- results and inbound shapes -------------------------------------------------------------------


class SubmitOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    RETRYABLE = "retryable"


class ValidationIssue(BaseModel):
    field: str = ""
    message: str


class SubmitResult(BaseModel):
    outcome: SubmitOutcome
    remote_id: str | None = None
    issues: list[ValidationIssue] = Field(default_factory=list)
    retry_after: float | None = None

    def reason(self) -> str:
        """The issues as one line a person can act on."""
        return "; ".join(f"{i.field}: {i.message}" if i.field else i.message for i in self.issues)


class RemoteOrder(BaseModel):
    reference: str
    remote_id: str
    status: str = ""


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    REQUESTED = "requested"
    TOO_LATE = "too_late"
    UNSUPPORTED = "unsupported"
    NOT_FOUND = "not_found"


class CancelResult(BaseModel):
    outcome: CancelOutcome
    detail: str = ""


class PackageLine(BaseModel):
    line_ref: str = ""
    sku: str
    quantity: Quantity


class Package(BaseModel):
    tracking_number: str = Field(min_length=1)
    carrier: str = ""
    service: str = ""
    tracking_url: str = ""
    lines: list[PackageLine] = Field(default_factory=list)


class Shipment(BaseModel):
    shipment_id: str
    shipped_at: UtcDatetime
    packages: list[Package] = Field(min_length=1)
    is_final: bool = Field(description="True when this shipment completes the order")


class EventKind(StrEnum):
    ACCEPTED = "accepted"
    SHIPMENT = "shipment"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"
    ERROR = "error"
    CANCEL_REJECTED = "cancel_rejected"  # a cancel request the 3PL refused (already shipped); detail says why
    RELEASED = "released"  # a hold or backorder is over: the order is back in the warehouse's queue


class Event(BaseModel):
    event_id: str = Field(description="dedup key, stable across polls and redeliveries")
    kind: EventKind
    reference: str = Field(description="our reference (the Linnworks OrderId)")
    remote_id: str = ""
    occurred_at: UtcDatetime
    shipment: Shipment | None = None
    detail: str = ""


class WrittenTracking(BaseModel):
    """An order whose tracking numbers Linnworks now shows (written, then read back equal)."""

    reference: str
    remote_id: str = Field(description="the 3PL's order id (the ledger's remote_id)")
    tracking_numbers: tuple[str, ...] = Field(min_length=1)
    shipment_ids: tuple[str, ...] = Field(
        min_length=1, description="the 3PL's ids of the shipments these numbers came from (the ledger's)"
    )


class EventPage(BaseModel):
    events: list[Event]
    checkpoint: str | None = Field(description="pass back to poll_events to continue after these events")
    quarantined: list[tuple[str, str]] = Field(
        default_factory=list, description="(record id, reason) for partner records that could not be read"
    )
    caught_up: bool = Field(
        default=False,
        description="the feed holds nothing more now: polling again would only re-read (next run, then)",
    )


class InventoryLevel(BaseModel):
    sku: str
    on_hand: Quantity = Field(description="usable units: can ship, including those committed to open orders")


class InventorySnapshot(BaseModel):
    as_of: UtcDatetime = Field(description="when the 3PL computed it")
    levels: list[InventoryLevel]
    complete: bool = True


class ItemResult(BaseModel):
    sku: str
    ok: bool
    detail: str = ""


class RateLimit(BaseModel):
    requests: int
    per_seconds: float


class Capabilities(BaseModel):
    idempotency: Literal["reject_duplicate", "upsert", "lookup_only", "none"]
    cancel: Literal["api", "request", "none"]
    partial_shipments: bool
    multi_parcel: bool
    rate_limits: list[RateLimit] = Field(default_factory=list)
    change_address: bool = Field(default=False, description="an open order's address can be changed")
    change_lines: bool = Field(
        default=False, description="an open order's quantities of SKUs it already has can be changed"
    )
    change_service: bool = Field(default=False, description="an open order's shipping service can be changed")


class ChangeOutcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the 3PL already holds the order as it is now (a change sent by an earlier run)
    TOO_LATE = "too_late"  # the warehouse has picked (or shipped, or cancelled) the order
    UNSUPPORTED = "unsupported"  # this 3PL (or this kind of change) cannot be sent
    NOT_FOUND = "not_found"


class ChangeResult(BaseModel):
    """What became of one order's change; ``changed`` names the parts sent (address, lines, service)."""

    outcome: ChangeOutcome
    changed: tuple[str, ...] = ()
    detail: str = ""
