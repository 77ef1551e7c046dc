"""ShipBob 2026-01 wire shapes, with the spec's field names (``shipbob-2026-01.json``).

Outbound models forbid unknown fields (a typo is a bug, and ShipBob rejects unknown members); inbound
ones ignore fields we do not use and are strict on those we do: quantities are non-negative ints (a
``"5"`` is refused, not coerced), times are read as UTC, and ``null`` is accepted wherever the spec
says a field is nullable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "AddressOut",
    "BarcodeOut",
    "CancelReply",
    "CreateOrderOut",
    "CreateProductOut",
    "FinancialsOut",
    "InventoryLevelIn",
    "OrderIn",
    "OrderLineOut",
    "OrderSummaryIn",
    "PagedIn",
    "ProductIn",
    "RecipientOut",
    "ShipmentIn",
    "TrackingUploadOut",
    "TrackingUploadReply",
    "UpdateProductOut",
    "VariantIn",
    "VariantOut",
    "VariantUpdateOut",
]


def _as_utc(value: datetime) -> datetime:
    """ShipBob sends UTC; a time without an offset is read as UTC, others are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


T = TypeVar("T")
UtcTime = Annotated[datetime, AfterValidator(_as_utc)]
NullableList = Annotated[list[T], BeforeValidator(_none_as_empty)]  # ShipBob's arrays may be null
Count = Annotated[int, Field(strict=True, ge=0)]
Id = Annotated[int, Field(strict=True)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON body: unset optional fields are left out rather than sent as null."""
        return self.model_dump(mode="json", exclude_none=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- outbound: orders ---------------------------------------------------------------------------


class AddressOut(_Out):
    address1: str = Field(min_length=1)
    address2: str | None = None
    company_name: str | None = None
    city: str = Field(min_length=1)
    state: str | None = None
    zip_code: str | None = None
    country: str = Field(min_length=1)


class RecipientOut(_Out):
    name: str = Field(min_length=1, max_length=300)
    address: AddressOut
    email: str | None = None
    phone_number: str | None = Field(default=None, max_length=50)


class OrderLineOut(_Out):
    """``AddProductToOrderByReferenceIdModel``: ``name`` is required (nullable) in 2026-01."""

    reference_id: str = Field(min_length=1)
    name: str
    quantity: int = Field(ge=1)
    sku: str | None = None
    unit_price: float | None = None
    external_line_id: int | None = None


class FinancialsOut(_Out):
    """``total_price``: the sum of line prices, discounts and taxes, in USD (the spec's definition)."""

    total_price: float


class CreateOrderOut(_Out):
    reference_id: str = Field(min_length=1, max_length=300)
    order_number: str | None = Field(default=None, max_length=400)
    shipping_method: str = Field(min_length=1)
    recipient: RecipientOut
    products: list[OrderLineOut] = Field(min_length=1)
    purchase_date: str | None = None
    type: Literal["DTC"] = "DTC"
    financials: FinancialsOut | None = None


class TrackingUploadOut(_Out):
    shipment_ids: list[int] = Field(min_length=1)
    is_tracking_uploaded: bool = True


# --- outbound: products ---------------------------------------------------------------------------


class BarcodeOut(_Out):
    value: str


class VariantOut(_Out):
    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    barcodes: list[BarcodeOut] | None = None


class CreateProductOut(_Out):
    name: str = Field(min_length=1)
    type_id: Literal[1] = 1  # Regular (2 = Bundle)
    variants: list[VariantOut] = Field(min_length=1, max_length=1)


class VariantUpdateOut(_Out):
    id: int
    name: str = Field(min_length=1)
    barcodes: list[BarcodeOut] | None = None


class UpdateProductOut(_Out):
    name: str | None = Field(default=None, min_length=1)
    variants: list[VariantUpdateOut] = Field(min_length=1)


# --- inbound: orders --------------------------------------------------------------------------------


class OrderSummaryIn(_In):
    id: Id
    reference_id: str
    status: str | None = ""


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
    inventory_items: NullableList[InventoryItemIn] = Field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.inventory_items)


class StatusDetailIn(_In):
    name: str | None = None


class ShipmentIn(_In):
    id: Id
    status: str | None = ""
    created_date: UtcTime | None = None
    actual_fulfillment_date: UtcTime | None = None
    last_update_at: UtcTime | None = None
    last_tracking_update_at: UtcTime | None = None
    is_tracking_uploaded: bool = False
    tracking: TrackingIn | None = None
    products: NullableList[ShipmentProductIn] = Field(default_factory=list)
    status_details: NullableList[StatusDetailIn] = Field(default_factory=list)


class OrderIn(_In):
    id: Id
    reference_id: str
    status: str | None = ""
    created_date: UtcTime | None = None
    shipments: NullableList[ShipmentIn] = Field(default_factory=list)


class CanceledShipmentIn(_In):
    shipment_id: int | None = None
    is_success: bool = False
    reason: str | None = None


class CancelReply(_In):
    """``CanceledOrderViewModel``: ``status`` is Success, Failure or PartialSuccess."""

    order_id: int | None = None
    status: Literal["Success", "Failure", "PartialSuccess"]
    canceled_shipment_results: NullableList[CanceledShipmentIn] = Field(default_factory=list)


class UploadErrorIn(_In):
    code: str | None = None
    message: str | None = None


class UploadResultIn(_In):
    shipment_id: int | None = Field(default=None, alias="shipmentId")
    is_success: bool = Field(default=False, alias="isSuccess")
    error: UploadErrorIn | None = None


class TrackingUploadReply(_In):
    results: NullableList[UploadResultIn] = Field(default_factory=list)


# --- inbound: products and inventory ------------------------------------------------------------------


class PagedIn(_In):
    """The cursor-paged envelope of ``GET /product`` and ``GET /inventory-level``."""

    items: NullableList[dict[str, Any]] = Field(default_factory=list)
    next: str | None = None


class BarcodeIn(_In):
    value: str | None = None


class VariantIn(_In):
    id: Id
    sku: str | None = None
    name: str | None = None
    status: str | None = None
    barcodes: NullableList[BarcodeIn] = Field(default_factory=list)

    @property
    def barcode_values(self) -> set[str]:
        return {barcode.value for barcode in self.barcodes if barcode.value}


class ProductIn(_In):
    id: Id
    name: str | None = None
    variants: NullableList[VariantIn] = Field(default_factory=list)


class InventoryLevelIn(_In):
    inventory_id: Id
    sku: str | None = None
    total_on_hand_quantity: Count = 0
    total_committed_quantity: Count = 0
    total_fulfillable_quantity: Count = 0
