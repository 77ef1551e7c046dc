"""Typed shapes of the Linnworks v1 API, named in snake_case with the spec's field names as aliases.

Three kinds of model, by direction:

* ``_Inbound`` — only ever read from a reply: unknown fields are ignored (Linnworks adds fields over time).
* ``_Outbound`` — only ever sent: unknown fields are an error (``extra="forbid"``), so a typo fails here.
* ``_RoundTrip`` — read, changed and sent back whole (locations, general info, items, notes, ...): they
  declare every field of the spec so a read-modify-write loses nothing. Built in code they forbid unknown
  fields; parsed from a reply (validation context ``WIRE``) they drop them.

Money is ``Decimal``; dates are timezone-aware UTC, and Linnworks' "unset" date ``0001-01-01T00:00:00Z``
reads as ``None``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    model_validator,
)

__all__ = [
    "WIRE",
    "ZERO_GUID",
    "AssignResult",
    "BaseSession",
    "BooleanFieldFilter",
    "ClientContext",
    "CustomerAddress",
    "DateFieldFilter",
    "ExtendedProperty",
    "FieldSorting",
    "FieldsFilter",
    "Identifier",
    "ListFieldFilter",
    "NumericFieldFilter",
    "OrderCustomerInfo",
    "OrderDetails",
    "OrderGeneralInfo",
    "OrderItem",
    "OrderNote",
    "OrderShippingInfo",
    "OrderStatus",
    "OrderTotalsInfo",
    "ProcessOrderResult",
    "StockItem",
    "StockItemFull",
    "StockItemFullExtended",
    "StockItemLevel",
    "StockItemPage",
    "StockItemsFullByIdsDataRequirement",
    "StockItemsFullDataRequirement",
    "StockLevelUpdate",
    "StockLocation",
    "StockSearchType",
    "TextFieldFilter",
    "UpdateOrderItemResult",
    "UpdateOrderShippingInfo",
    "UpdateTotalsResult",
    "parse_linnworks_datetime",
]

ZERO_GUID = UUID(int=0)
"""Linnworks' "unset" GUID; also the id of the Default stock location."""

WIRE = {"wire": True}
"""Validation context for data parsed from a Linnworks reply (round-trip models then ignore extra fields)."""

_UNSET_YEAR = 1
_DATE = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,7}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def parse_linnworks_datetime(value: Any) -> datetime | None:
    """Read a Linnworks date: ``Z`` or ``±hh:mm``, 0-7 fractional digits; the year-1 "unset" date is None.

    A date without an offset is taken as UTC (Linnworks stores UTC). The result is always UTC-aware.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = _parse_date_text(str(value))
    return None if moment.year == _UNSET_YEAR else moment.astimezone(UTC)


def _parse_date_text(text: str) -> datetime:
    match = _DATE.match(text.strip())
    if match is None:
        raise ValueError("not an ISO 8601 date-time")
    base = datetime.strptime(match["base"], "%Y-%m-%dT%H:%M:%S")  # noqa: DTZ007 - offset applied below
    micros = int((match["frac"] or "0").ljust(7, "0")[:7]) // 10
    return base.replace(microsecond=micros, tzinfo=_offset(match["tz"]))


def _offset(text: str | None) -> timezone:
    if text is None or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _format_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _format_required_date(value: datetime | None) -> str:
    # .NET DateTime fields that are not nullable: "unset" travels as year 1, never as null.
    return _format_date(value) or "0001-01-01T00:00:00Z"


LwDateTime = Annotated[
    datetime | None,
    BeforeValidator(parse_linnworks_datetime),
    PlainSerializer(_format_date, return_type=str | None, when_used="json"),
]
"""A nullable Linnworks date."""

LwRequiredDateTime = Annotated[
    datetime | None,
    BeforeValidator(parse_linnworks_datetime),
    PlainSerializer(_format_required_date, return_type=str, when_used="json"),
]
"""A non-nullable .NET date: None in Python, ``0001-01-01T00:00:00Z`` on the wire."""

Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An amount: exact in Python, a JSON number on the wire (the spec types it as double)."""


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class _RoundTrip(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_wire_fields(cls, data: Any, info: ValidationInfo) -> Any:
        if not (isinstance(data, dict) and info.context and info.context.get("wire")):
            return data
        known = cls._known_names()
        return {key: value for key, value in data.items() if key in known}

    @classmethod
    def _known_names(cls) -> frozenset[str]:
        names = _KNOWN_NAMES.get(cls)
        if names is None:
            names = frozenset(
                name for key, field in cls.model_fields.items() for name in (key, field.alias) if name
            )
            _KNOWN_NAMES[cls] = names
        return names


_KNOWN_NAMES: dict[type[BaseModel], frozenset[str]] = {}


# --- enums ------------------------------------------------------------------------------------------------


class OrderStatus(IntEnum):
    """``GeneralInfo.Status``."""

    UNPAID = 0
    PAID = 1
    RETURN = 2
    PENDING = 3
    RESEND = 4


class StockItemsFullDataRequirement(StrEnum):
    """``dataRequirements`` of Stock/GetStockItemsFull (names; ordinals differ from the ByIds enum)."""

    STOCK_LEVELS = "StockLevels"
    PRICING = "Pricing"
    SUPPLIER = "Supplier"
    SHIPPING_INFORMATION = "ShippingInformation"
    CHANNEL_TITLE = "ChannelTitle"
    CHANNEL_DESCRIPTION = "ChannelDescription"
    CHANNEL_PRICE = "ChannelPrice"
    EXTENDED_PROPERTIES = "ExtendedProperties"
    IMAGES = "Images"


class StockItemsFullByIdsDataRequirement(StrEnum):
    """``DataRequirements`` of Stock/GetStockItemsFullByIds."""

    STOCK_LEVELS = "StockLevels"
    SUPPLIER = "Supplier"
    CHANNEL_TITLE = "ChannelTitle"
    CHANNEL_DESCRIPTION = "ChannelDescription"
    CHANNEL_PRICE = "ChannelPrice"
    EXTENDED_PROPERTIES = "ExtendedProperties"
    IMAGES = "Images"


class StockSearchType(StrEnum):
    """``searchTypes`` of Stock/GetStockItemsFull."""

    SKU = "SKU"
    TITLE = "Title"
    BARCODE = "Barcode"


# --- auth -------------------------------------------------------------------------------------------------


class BaseSession(_Inbound):
    """The reply of Auth/AuthorizeByApplication; only the fields a client needs."""

    token: str = Field(alias="Token", min_length=1, repr=False)
    server: str = Field(alias="Server", pattern=r"^https?://")
    ttl: int | None = Field(default=None, alias="TTL")


# --- locations ---------------------------------------------------------------------------------------------


class StockLocation(_RoundTrip):
    """A stock location; the fulfilment centre is one with ``is_fulfillment_center`` set."""

    stock_location_id: UUID = Field(default=ZERO_GUID, alias="StockLocationId")
    stock_location_int_id: int = Field(default=0, alias="StockLocationIntId")
    location_name: str = Field(alias="LocationName")
    is_fulfillment_center: bool = Field(default=False, alias="IsFulfillmentCenter")
    fulfilment_center_deduct_stock_when_processed: bool = Field(
        default=False, alias="FulfilmentCenterDeductStockWhenProcessed"
    )
    count_in_order_until_acknowledgement: bool = Field(
        default=False, alias="CountInOrderUntilAcknowledgement"
    )
    is_warehouse_managed: bool = Field(default=False, alias="IsWarehouseManaged")
    is_not_trackable: bool = Field(default=False, alias="IsNotTrackable")
    location_tag: str | None = Field(default=None, alias="LocationTag")
    address1: str | None = Field(default=None, alias="Address1")
    address2: str | None = Field(default=None, alias="Address2")
    city: str | None = Field(default=None, alias="City")
    county: str | None = Field(default=None, alias="County")
    country: str | None = Field(default=None, alias="Country")
    zip_code: str | None = Field(default=None, alias="ZipCode")


# --- identifiers -------------------------------------------------------------------------------------------


class Identifier(_RoundTrip):
    """An order identifier (Tag = key, Name = display text); ``identifier_id`` 0 creates a new one."""

    identifier_id: int = Field(default=0, alias="IdentifierId")
    is_custom: bool = Field(default=True, alias="IsCustom")
    image_id: UUID | None = Field(default=ZERO_GUID, alias="ImageId")
    image_url: str | None = Field(default=None, alias="ImageUrl")
    tag: str = Field(alias="Tag")
    name: str | None = Field(default=None, alias="Name")


class AssignResult(_Inbound):
    """Reply of Assign/UnassignOrderIdentifier."""

    changed: list[UUID] = Field(default_factory=list, alias="Changed")
    not_changed: list[UUID] = Field(default_factory=list, alias="NotChanged")

    def merged(self, other: AssignResult) -> AssignResult:
        """Both results together (for batched calls)."""
        return AssignResult(
            Changed=self.changed + other.changed, NotChanged=self.not_changed + other.not_changed
        )


class _ChangeOrderIdentifierRequest(_Outbound):
    order_ids: list[UUID] = Field(alias="OrderIds")
    tag: str = Field(alias="Tag")


class _SaveIdentifiersRequest(_Outbound):
    identifier: Identifier = Field(alias="Identifier")


# --- order details -----------------------------------------------------------------------------------------


class OrderGeneralInfo(_RoundTrip):
    """``GeneralInfo`` of an order; every spec field, so SetOrderGeneralInfo can send it back whole."""

    status: int = Field(alias="Status")
    label_printed: bool | None = Field(default=None, alias="LabelPrinted")
    label_error: str | None = Field(default=None, alias="LabelError")
    invoice_printed: bool | None = Field(default=None, alias="InvoicePrinted")
    invoice_print_error: str | None = Field(default=None, alias="InvoicePrintError")
    pick_list_printed: bool | None = Field(default=None, alias="PickListPrinted")
    pick_list_print_error: str | None = Field(default=None, alias="PickListPrintError")
    is_rule_run: bool | None = Field(default=None, alias="IsRuleRun")
    notes: int | None = Field(default=None, alias="Notes")
    part_shipped: bool | None = Field(default=None, alias="PartShipped")
    marker: int = Field(default=0, alias="Marker")
    is_parked: bool = Field(default=False, alias="IsParked")
    identifiers: list[Identifier] | None = Field(default=None, alias="Identifiers")
    reference_num: str | None = Field(default=None, alias="ReferenceNum")
    secondary_reference: str | None = Field(default=None, alias="SecondaryReference")
    external_reference_num: str | None = Field(default=None, alias="ExternalReferenceNum")
    received_date: LwRequiredDateTime = Field(default=None, alias="ReceivedDate")
    source: str | None = Field(default=None, alias="Source")
    sub_source: str | None = Field(default=None, alias="SubSource")
    site_code: str | None = Field(default=None, alias="SiteCode")
    hold_or_cancel: bool = Field(default=False, alias="HoldOrCancel")
    despatch_by_date: LwRequiredDateTime = Field(default=None, alias="DespatchByDate")
    scheduled_delivery: dict[str, Any] | None = Field(default=None, alias="ScheduledDelivery")
    has_scheduled_delivery: bool | None = Field(default=None, alias="HasScheduledDelivery")
    location: UUID | None = Field(default=None, alias="Location")
    num_items: int | None = Field(default=None, alias="NumItems")
    pickwave_ids: list[int] | None = Field(default=None, alias="PickwaveIds")
    pii_redaction_days: int | None = Field(default=None, alias="PIIRedactionDays")
    stock_allocation_type: str | int | None = Field(default=None, alias="StockAllocationType")

    @property
    def identifier_tags(self) -> set[str]:
        """Tags of the identifiers on the order (``Identifiers`` may be null)."""
        return {identifier.tag for identifier in self.identifiers or ()}


class OrderShippingInfo(_Inbound):
    """``ShippingInfo`` of an order (read-only; write with ``UpdateOrderShippingInfo``)."""

    vendor: str | None = Field(default=None, alias="Vendor")
    postal_service_id: UUID | None = Field(default=None, alias="PostalServiceId")
    postal_service_name: str | None = Field(default=None, alias="PostalServiceName")
    total_weight: float | None = Field(default=None, alias="TotalWeight")
    item_weight: float | None = Field(default=None, alias="ItemWeight")
    package_category_id: UUID | None = Field(default=None, alias="PackageCategoryId")
    package_category: str | None = Field(default=None, alias="PackageCategory")
    package_type_id: UUID | None = Field(default=None, alias="PackageTypeId")
    package_type: str | None = Field(default=None, alias="PackageType")
    postage_cost: Money | None = Field(default=None, alias="PostageCost")
    postage_cost_ex_tax: Money | None = Field(default=None, alias="PostageCostExTax")
    tracking_number: str | None = Field(default=None, alias="TrackingNumber")
    manual_adjust: bool | None = Field(default=None, alias="ManualAdjust")


class UpdateOrderShippingInfo(_Outbound):
    """``info`` of Orders/SetOrderShippingInfo; None fields are sent as null (left unchanged)."""

    postal_service_id: UUID | None = Field(default=None, alias="PostalServiceId")
    total_weight: float | None = Field(default=None, alias="TotalWeight")
    item_weight: float | None = Field(default=None, alias="ItemWeight")
    postage_cost: Money | None = Field(default=None, alias="PostageCost")
    tracking_number: str | None = Field(default=None, alias="TrackingNumber")
    manual_adjust: bool | None = Field(default=None, alias="ManualAdjust")


class CustomerAddress(_RoundTrip):
    """A delivery or billing address (personal data: never log it)."""

    email_address: str | None = Field(default=None, alias="EmailAddress")
    address1: str | None = Field(default=None, alias="Address1")
    address2: str | None = Field(default=None, alias="Address2")
    address3: str | None = Field(default=None, alias="Address3")
    town: str | None = Field(default=None, alias="Town")
    region: str | None = Field(default=None, alias="Region")
    post_code: str | None = Field(default=None, alias="PostCode")
    country: str | None = Field(default=None, alias="Country")
    continent: str | None = Field(default=None, alias="Continent")
    full_name: str | None = Field(default=None, alias="FullName")
    company: str | None = Field(default=None, alias="Company")
    phone_number: str | None = Field(default=None, alias="PhoneNumber")
    country_id: UUID | None = Field(default=None, alias="CountryId")

    def __repr__(self) -> str:
        return "CustomerAddress(<redacted>)"

    __str__ = __repr__


class OrderCustomerInfo(_RoundTrip):
    """``CustomerInfo`` of an order."""

    channel_buyer_name: str | None = Field(default=None, alias="ChannelBuyerName")
    address: CustomerAddress = Field(alias="Address")
    billing_address: CustomerAddress | None = Field(default=None, alias="BillingAddress")


class OrderTotalsInfo(_Inbound):
    """``TotalsInfo`` of an order."""

    subtotal: Money | None = Field(default=None, alias="Subtotal")
    postage_cost: Money | None = Field(default=None, alias="PostageCost")
    postage_cost_ex_tax: Money | None = Field(default=None, alias="PostageCostExTax")
    tax: Money | None = Field(default=None, alias="Tax")
    total_charge: Money | None = Field(default=None, alias="TotalCharge")
    payment_method: str | None = Field(default=None, alias="PaymentMethod")
    payment_method_id: UUID | None = Field(default=None, alias="PaymentMethodId")
    profit_margin: Money | None = Field(default=None, alias="ProfitMargin")
    total_discount: Money | None = Field(default=None, alias="TotalDiscount")
    currency: str | None = Field(default=None, alias="Currency")
    country_tax_rate: Money | None = Field(default=None, alias="CountryTaxRate")
    conversion_rate: Money | None = Field(default=None, alias="ConversionRate")


class OrderItem(_RoundTrip):
    """One order line; ``row_id`` identifies the line, ``stock_item_id``/``item_id`` the stock item."""

    item_id: UUID | None = Field(default=None, alias="ItemId")
    item_number: str | None = Field(default=None, alias="ItemNumber")
    sku: str | None = Field(default=None, alias="SKU")
    item_source: str | None = Field(default=None, alias="ItemSource")
    title: str | None = Field(default=None, alias="Title")
    quantity: int = Field(alias="Quantity", ge=0)
    category_name: str | None = Field(default=None, alias="CategoryName")
    composite_availablity: int | None = Field(default=None, alias="CompositeAvailablity")
    stock_levels_specified: bool | None = Field(default=None, alias="StockLevelsSpecified")
    on_order: int | None = Field(default=None, alias="OnOrder")
    on_purchase_order: dict[str, Any] | None = Field(default=None, alias="OnPurchaseOrder")
    in_order_book: int | None = Field(default=None, alias="InOrderBook")
    level: int | None = Field(default=None, alias="Level")
    minimum_level: int | None = Field(default=None, alias="MinimumLevel")
    available_stock: int | None = Field(default=None, alias="AvailableStock")
    price_per_unit: Money | None = Field(default=None, alias="PricePerUnit")
    unit_cost: Money | None = Field(default=None, alias="UnitCost")
    despatch_stock_unit_cost: Money | None = Field(default=None, alias="DespatchStockUnitCost")
    discount: Money | None = Field(default=None, alias="Discount")
    tax: Money | None = Field(default=None, alias="Tax")
    tax_rate: Money | None = Field(default=None, alias="TaxRate")
    cost: Money | None = Field(default=None, alias="Cost")
    cost_inc_tax: Money | None = Field(default=None, alias="CostIncTax")
    composite_sub_items: list[OrderItem] = Field(default_factory=list, alias="CompositeSubItems")
    is_service: bool | None = Field(default=None, alias="IsService")
    sales_tax: Money | None = Field(default=None, alias="SalesTax")
    tax_cost_inclusive: bool | None = Field(default=None, alias="TaxCostInclusive")
    part_shipped: bool | None = Field(default=None, alias="PartShipped")
    weight: float | None = Field(default=None, alias="Weight")
    barcode_number: str | None = Field(default=None, alias="BarcodeNumber")
    market: int | None = Field(default=None, alias="Market")
    channel_sku: str | None = Field(default=None, alias="ChannelSKU")
    channel_title: str | None = Field(default=None, alias="ChannelTitle")
    discount_value: Money | None = Field(default=None, alias="DiscountValue")
    has_image: bool | None = Field(default=None, alias="HasImage")
    image_id: UUID | None = Field(default=None, alias="ImageId")
    additional_info: list[dict[str, Any]] | None = Field(default=None, alias="AdditionalInfo")
    stock_level_indicator: int | None = Field(default=None, alias="StockLevelIndicator")
    shipping_cost: Money | None = Field(default=None, alias="ShippingCost")
    part_shipped_qty: int | None = Field(default=None, alias="PartShippedQty")
    item_name: str | None = Field(default=None, alias="ItemName")
    batch_number_scan_required: bool | None = Field(default=None, alias="BatchNumberScanRequired")
    serial_number_scan_required: bool | None = Field(default=None, alias="SerialNumberScanRequired")
    bin_rack: str | None = Field(default=None, alias="BinRack")
    bin_racks: list[dict[str, Any]] | None = Field(default=None, alias="BinRacks")
    inventory_tracking_type: int | None = Field(default=None, alias="InventoryTrackingType")
    is_batched_stock_item: bool | None = Field(default=None, alias="isBatchedStockItem")
    is_warehouse_managed: bool | None = Field(default=None, alias="IsWarehouseManaged")
    is_unlinked: bool | None = Field(default=None, alias="IsUnlinked")
    stock_item_int_id: int | None = Field(default=None, alias="StockItemIntId")
    boxes: list[dict[str, Any]] | None = Field(default=None, alias="Boxes")
    added_date: LwDateTime = Field(default=None, alias="AddedDate")
    row_id: UUID | None = Field(default=None, alias="RowId")
    order_id: UUID | None = Field(default=None, alias="OrderId")
    stock_item_id: UUID | None = Field(default=None, alias="StockItemId")

    @property
    def item_title(self) -> str | None:
        """The line's title (``Title``; the channel title when that is empty)."""
        return self.title or self.channel_title


class ExtendedProperty(_RoundTrip):
    """An order extended property; ``row_id`` None/zero for a new one."""

    row_id: UUID | None = Field(default=None, alias="RowId")
    name: str = Field(alias="Name")
    value: str | None = Field(default=None, alias="Value")
    type: str | None = Field(default=None, alias="Type")


class OrderNote(_RoundTrip):
    """An order note; SetOrderNotes replaces the full list."""

    order_note_id: UUID | None = Field(default=None, alias="OrderNoteId")
    order_id: UUID | None = Field(default=None, alias="OrderId")
    note_date: LwRequiredDateTime = Field(default=None, alias="NoteDate")
    internal: bool = Field(default=True, alias="Internal")
    note: str = Field(alias="Note")
    created_by: str | None = Field(default=None, alias="CreatedBy")
    note_type_id: int | None = Field(default=None, alias="NoteTypeId")


class OrderDetails(_Inbound):
    """One order as GetOrdersById / GetOrderById return it (also parses the ``OpenOrder`` shape)."""

    order_id: UUID = Field(alias="OrderId")
    num_order_id: int = Field(alias="NumOrderId")
    processed: bool = Field(default=False, alias="Processed")
    processed_date_time: LwDateTime = Field(default=None, alias="ProcessedDateTime")
    fulfilment_location_id: UUID | None = Field(default=None, alias="FulfilmentLocationId")
    general_info: OrderGeneralInfo = Field(alias="GeneralInfo")
    shipping_info: OrderShippingInfo = Field(alias="ShippingInfo")
    customer_info: OrderCustomerInfo = Field(alias="CustomerInfo")
    totals_info: OrderTotalsInfo = Field(alias="TotalsInfo")
    extended_properties: list[ExtendedProperty] | None = Field(default=None, alias="ExtendedProperties")
    folder_name: list[str] | None = Field(default=None, alias="FolderName")
    items: list[OrderItem] = Field(alias="Items")
    notes: list[OrderNote] | None = Field(default=None, alias="Notes")
    paid_date_time: LwDateTime = Field(default=None, alias="PaidDateTime")
    tax_id: str | None = Field(default=None, alias="TaxId")

    @property
    def location_id(self) -> UUID | None:
        """The order's location: ``FulfilmentLocationId``, else ``GeneralInfo.Location``."""
        return self.fulfilment_location_id or self.general_info.location

    @property
    def is_cancelled(self) -> bool:
        """A processed order with HoldOrCancel set was cancelled."""
        return self.processed and self.general_info.hold_or_cancel


# --- open order queries ------------------------------------------------------------------------------------


class TextFieldFilter(_Outbound):
    """``{FieldCode, Type: Equal|Contains|StartWith|EndsWith, Text}``."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Equal", alias="Type")
    text: str = Field(alias="Text")


class BooleanFieldFilter(_Outbound):
    """``{FieldCode, Value}``, e.g. GENERAL_INFO_PARKED = false."""

    field_code: str = Field(alias="FieldCode")
    value: bool = Field(alias="Value")


class NumericFieldFilter(_Outbound):
    """``{FieldCode, Type: Equal|Greater|Lower, Value}``."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Equal", alias="Type")
    value: float = Field(alias="Value")


class DateFieldFilter(_Outbound):
    """``{FieldCode, Type: Range|OlderThan|LastDays, DateFrom, DateTo, Value}``."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Range", alias="Type")
    date_from: LwDateTime = Field(default=None, alias="DateFrom")
    date_to: LwDateTime = Field(default=None, alias="DateTo")
    value: int | None = Field(default=None, alias="Value")


class ListFieldFilter(_Outbound):
    """``{FieldCode, Type: Is|Not, Value}``, e.g. GENERAL_INFO_IDENTIFIER Not SENT_TO_3PL."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Is", alias="Type")
    value: str = Field(alias="Value")


class FieldsFilter(_Outbound):
    """The ``filters`` of Orders/GetAllOpenOrders (entries combine with AND)."""

    text_fields: list[TextFieldFilter] = Field(default_factory=list, alias="TextFields")
    boolean_fields: list[BooleanFieldFilter] = Field(default_factory=list, alias="BooleanFields")
    numeric_fields: list[NumericFieldFilter] = Field(default_factory=list, alias="NumericFields")
    date_fields: list[DateFieldFilter] = Field(default_factory=list, alias="DateFields")
    list_fields: list[ListFieldFilter] = Field(default_factory=list, alias="ListFields")


class FieldSorting(_Outbound):
    """One ``sorting`` entry."""

    field_code: str = Field(alias="FieldCode")
    direction: str = Field(default="Ascending", alias="Direction")
    order: int = Field(default=1, alias="Order")


# --- processing and order writes ---------------------------------------------------------------------------


class ClientContext(_Outbound):
    """``context`` of the process calls: where the call came from."""

    module: str = Field(default="lw3pl", alias="Module")


class ProcessOrderResult(_Inbound):
    """Per-order outcome of ProcessOrder / ProcessOrdersInBatch / ProcessFulfilmentCentreOrder."""

    order_id: UUID | None = Field(default=None, alias="OrderId")
    processed: bool = Field(alias="Processed")
    error: str | None = Field(default=None, alias="Error")


class UpdateTotalsResult(_Inbound):
    """Reply of SetOrderShippingInfo."""

    totals_info: OrderTotalsInfo | None = Field(default=None, alias="TotalsInfo")
    shipping_info: OrderShippingInfo | None = Field(default=None, alias="ShippingInfo")


class UpdateOrderItemResult(_Inbound):
    """Reply of UpdateOrderItem."""

    totals_info: OrderTotalsInfo | None = Field(default=None, alias="TotalsInfo")
    item: OrderItem | None = Field(default=None, alias="Item")
    item_weight: float | None = Field(default=None, alias="ItemWeight")
    total_weight: float | None = Field(default=None, alias="TotalWeight")


# --- stock -------------------------------------------------------------------------------------------------


class StockLevelUpdate(_Outbound):
    """One absolute level for Stock/SetStockLevel."""

    sku: str = Field(alias="SKU", min_length=1)
    location_id: UUID = Field(alias="LocationId")
    level: int = Field(alias="Level")


class _InventoryStockLocation(_Inbound):
    stock_location_id: UUID | None = Field(default=None, alias="StockLocationId")
    location_name: str | None = Field(default=None, alias="LocationName")
    is_fulfillment_center: bool | None = Field(default=None, alias="IsFulfillmentCenter")


class StockItemLevel(_Inbound):
    """Stock of one item at one location (``available`` = ``stock_level`` - ``in_orders``)."""

    location: _InventoryStockLocation | None = Field(default=None, alias="Location")
    stock_level: int = Field(alias="StockLevel")
    stock_value: Money | None = Field(default=None, alias="StockValue")
    minimum_level: int | None = Field(default=None, alias="MinimumLevel")
    in_order_book: int | None = Field(default=None, alias="InOrderBook")
    due: int | None = Field(default=None, alias="Due")
    in_orders: int | None = Field(default=None, alias="InOrders")
    available: int | None = Field(default=None, alias="Available")
    unit_cost: Money | None = Field(default=None, alias="UnitCost")
    sku: str | None = Field(default=None, alias="SKU")
    last_update_date: LwDateTime = Field(default=None, alias="LastUpdateDate")
    stock_item_id: UUID | None = Field(default=None, alias="StockItemId")

    @property
    def location_id(self) -> UUID | None:
        """The location's id, when Linnworks filled it in."""
        return None if self.location is None else self.location.stock_location_id


class _StockItemCommon(_Inbound):
    stock_item_id: UUID = Field(alias="StockItemId")
    stock_item_int_id: int | None = Field(default=None, alias="StockItemIntId")
    item_number: str = Field(alias="ItemNumber")
    item_title: str | None = Field(default=None, alias="ItemTitle")
    barcode_number: str | None = Field(default=None, alias="BarcodeNumber")
    meta_data: str | None = Field(default=None, alias="MetaData")
    is_batched_stock_type: bool | None = Field(default=None, alias="isBatchedStockType")
    purchase_price: Money | None = Field(default=None, alias="PurchasePrice")
    retail_price: Money | None = Field(default=None, alias="RetailPrice")
    tax_rate: Money | None = Field(default=None, alias="TaxRate")
    category_name: str | None = Field(default=None, alias="CategoryName")
    height: float | None = Field(default=None, alias="Height")
    width: float | None = Field(default=None, alias="Width")
    depth: float | None = Field(default=None, alias="Depth")
    weight: float | None = Field(default=None, alias="Weight")
    creation_date: LwDateTime = Field(default=None, alias="CreationDate")
    inventory_tracking_type: int | None = Field(default=None, alias="InventoryTrackingType")

    @property
    def sku(self) -> str:
        """The SKU (``ItemNumber``)."""
        return self.item_number


class StockItem(_StockItemCommon):
    """A row of Stock/GetStockItems (quantities scoped to the requested location)."""

    quantity: int | None = Field(default=None, alias="Quantity")
    in_order: int | None = Field(default=None, alias="InOrder")
    due: int | None = Field(default=None, alias="Due")
    minimum_level: int | None = Field(default=None, alias="MinimumLevel")
    available: int | None = Field(default=None, alias="Available")
    is_composite_parent: bool | None = Field(default=None, alias="IsCompositeParent")
    is_variation_parent: bool | None = Field(default=None, alias="IsVariationParent")
    item_description: str | None = Field(default=None, alias="ItemDescription")


class StockItemPage(_Inbound):
    """``GenericPagedResult<StockItem>`` (1-based pages)."""

    page_number: int = Field(alias="PageNumber")
    entries_per_page: int = Field(alias="EntriesPerPage")
    total_entries: int = Field(alias="TotalEntries")
    total_pages: int = Field(alias="TotalPages")
    data: list[StockItem] = Field(alias="Data")


class StockItemFull(_StockItemCommon):
    """A row of Stock/GetStockItemsFull; ``stock_levels`` only when requested."""

    is_variation_parent: bool | None = Field(default=None, alias="IsVariationParent")
    stock_levels: list[StockItemLevel] = Field(default_factory=list, alias="StockLevels")
    suppliers: list[dict[str, Any]] | None = Field(default=None, alias="Suppliers")
    images: list[dict[str, Any]] | None = Field(default=None, alias="Images")
    item_extended_properties: list[dict[str, Any]] | None = Field(
        default=None, alias="ItemExtendedProperties"
    )


class StockItemFullExtended(_StockItemCommon):
    """A row of Stock/GetStockItemsFullByIds."""

    is_composite_parent: bool | None = Field(default=None, alias="IsCompositeParent")
    stock_levels: list[StockItemLevel] = Field(default_factory=list, alias="StockLevels")
    suppliers: list[dict[str, Any]] | None = Field(default=None, alias="Suppliers")
    images: list[dict[str, Any]] | None = Field(default=None, alias="Images")
    item_extended_properties: list[dict[str, Any]] | None = Field(
        default=None, alias="ItemExtendedProperties"
    )


class _GetStockItemsFullByIdsRequest(_Outbound):
    stock_item_ids: list[UUID] = Field(alias="StockItemIds")
    data_requirements: list[StockItemsFullByIdsDataRequirement] = Field(alias="DataRequirements")


class _GetStockItemsFullByIdsResponse(_Inbound):
    stock_items_full_extended: list[StockItemFullExtended] = Field(alias="StockItemsFullExtended")


class _AuthorizeByApplicationRequest(_Outbound):
    application_id: str = Field(alias="ApplicationId")
    application_secret: str = Field(alias="ApplicationSecret", repr=False)
    token: str = Field(alias="Token", repr=False)
