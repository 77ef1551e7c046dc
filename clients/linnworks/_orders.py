"""Order models: identifiers, order details (general, shipping, customer, totals, items), notes."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from pydantic import Field

from ._base import ZERO_GUID, LwDateTime, LwRequiredDateTime, Money, _Inbound, _Outbound, _RoundTrip

# --- identifiers -------------------------------------------------------------------------------------------


class Identifier(_RoundTrip):
    """An order identifier (Tag = key, Name = display text); ``identifier_id`` 0 creates a new one."""

    identifier_id: int = Field(default=0, alias="IdentifierId")
    is_custom: bool = Field(default=True, alias="IsCustom")
    image_id: UUID | None = Field(default=ZERO_GUID, alias="ImageId")
    image_url: str | None = Field(default=None, alias="ImageUrl")
    tag: str = Field(default="", alias="Tag")
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
    """An order extended property; a new one gets a fresh ``row_id`` (the SDK types it as a non-nullable
    Guid: a null is refused), an existing one keeps the id it was read with."""

    row_id: UUID = Field(default_factory=uuid4, alias="RowId")
    name: str = Field(default="", alias="Name")
    value: str | None = Field(default=None, alias="Value")
    type: str | None = Field(default=None, alias="Type")


class OrderNote(_RoundTrip):
    """An order note; SetOrderNotes replaces the full list. A new note gets a fresh ``order_note_id`` (a
    non-nullable Guid in the SDK: a null is refused); an existing one keeps the id it was read with."""

    order_note_id: UUID = Field(default_factory=uuid4, alias="OrderNoteId")
    order_id: UUID = Field(default=ZERO_GUID, alias="OrderId")
    note_date: LwRequiredDateTime = Field(default=None, alias="NoteDate")
    internal: bool = Field(default=True, alias="Internal")
    note: str = Field(default="", alias="Note")
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
    items: list[OrderItem] = Field(default_factory=list, alias="Items")
    notes: list[OrderNote] | None = Field(default=None, alias="Notes")
    paid_date_time: LwDateTime = Field(default=None, alias="PaidDateTime")
    tax_id: str | None = Field(default=None, alias="TaxId")

    @property
    def location_id(self) -> UUID | None:
        """The order's location: ``FulfilmentLocationId``, else ``GeneralInfo.Location``.

        Use this, never the raw field: .NET writes an unset ``FulfilmentLocationId`` as the zero GUID.
        """
        if self.fulfilment_location_id not in (None, ZERO_GUID):
            return self.fulfilment_location_id
        return self.general_info.location or self.fulfilment_location_id

    @property
    def is_cancelled(self) -> bool:
        """A processed order with HoldOrCancel set was cancelled."""
        return self.processed and self.general_info.hold_or_cancel
