"""ShipBob 1.0 wire shapes, with the spec's field names.

Outbound models forbid unknown fields (a typo is a bug, and ShipBob rejects unknown members); inbound
ones ignore fields we do not use and are strict on those we do: quantities are non-negative ints (a
``"5"`` is refused, not coerced), times are read as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "AddressOut",
    "CancelReply",
    "CreateOrderOut",
    "CreateProductOut",
    "FinancialsOut",
    "OrderIn",
    "OrderLineOut",
    "OrderSummaryIn",
    "ProductIn",
    "RecipientOut",
    "ShipmentIn",
    "UpdateProductOut",
]


def _as_utc(value: datetime) -> datetime:
    """ShipBob sends UTC; a time without an offset is read as UTC, others are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(_as_utc)]
Count = Annotated[int, Field(strict=True, ge=0)]
Id = Annotated[int, Field(strict=True)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON body: unset optional fields are left out rather than sent as null."""
        return self.model_dump(mode="json", exclude_none=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- outbound ---------------------------------------------------------------------------------------


class AddressOut(_Out):
    address1: str
    address2: str | None = None
    company_name: str | None = None
    city: str
    state: str | None = None
    zip_code: str | None = None
    country: str


class RecipientOut(_Out):
    name: str
    address: AddressOut
    email: str | None = None
    phone_number: str | None = Field(default=None, max_length=50)


class OrderLineOut(_Out):
    reference_id: str
    quantity: int
    name: str | None = None
    sku: str | None = None
    unit_price: float | None = None


class FinancialsOut(_Out):
    total_price: float | None = None


class CreateOrderOut(_Out):
    reference_id: str = Field(max_length=300)
    order_number: str | None = Field(default=None, max_length=400)
    shipping_method: str
    recipient: RecipientOut
    products: list[OrderLineOut] = Field(min_length=1)
    purchase_date: str | None = None
    type: str = "DTC"
    financials: FinancialsOut | None = None


class CreateProductOut(_Out):
    reference_id: str = Field(min_length=1, max_length=400)
    name: str = Field(min_length=1, max_length=2000)
    sku: str | None = None
    barcode: str | None = Field(default=None, max_length=150)


class UpdateProductOut(_Out):
    name: str = Field(min_length=1)
    sku: str | None = None
    barcode: str | None = None


# --- inbound ----------------------------------------------------------------------------------------


class OrderSummaryIn(_In):
    id: Id
    reference_id: str
    status: str = ""


class TrackingIn(_In):
    carrier: str | None = None
    carrier_service: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


class InventoryItemIn(_In):
    id: int | None = None
    quantity: Count


class ShipmentProductIn(_In):
    id: int | None = None
    reference_id: str | None = None
    sku: str | None = None
    inventory_items: list[InventoryItemIn] = Field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.inventory_items)


class StatusDetailIn(_In):
    name: str | None = None


class ShipmentIn(_In):
    id: Id
    status: str = ""
    created_date: UtcTime | None = None
    actual_fulfillment_date: UtcTime | None = None
    last_update_at: UtcTime | None = None
    tracking: TrackingIn | None = None
    products: list[ShipmentProductIn] = Field(default_factory=list)
    status_details: list[StatusDetailIn] = Field(default_factory=list)


class OrderIn(_In):
    id: Id
    reference_id: str
    status: str = ""
    created_date: UtcTime | None = None
    shipments: list[ShipmentIn] = Field(default_factory=list)


class CanceledShipmentIn(_In):
    is_success: bool = False
    reason: str | None = None


class CancelReply(_In):
    order_id: int | None = None
    status: str = ""
    canceled_shipment_results: list[CanceledShipmentIn] = Field(default_factory=list)


class ProductIn(_In):
    id: Id
    reference_id: str | None = None
    name: str | None = None
    sku: str | None = None
    barcode: str | None = None
    total_fulfillable_quantity: Count = 0
    total_committed_quantity: Count = 0
