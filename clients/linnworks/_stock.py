"""Stock locations, stock items and levels."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from ._base import (
    ZERO_GUID,
    LwDateTime,
    Money,
    StockItemsFullByIdsDataRequirement,
    _Inbound,
    _Outbound,
    _RoundTrip,
)

# --- locations ---------------------------------------------------------------------------------------------


class StockLocation(_RoundTrip):
    """A stock location; the fulfilment centre is one with ``is_fulfillment_center`` set."""

    stock_location_id: UUID = Field(default=ZERO_GUID, alias="StockLocationId")
    stock_location_int_id: int = Field(default=0, alias="StockLocationIntId")
    location_name: str = Field(default="", alias="LocationName")
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
    item_number: str = Field(default="", alias="ItemNumber")
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
    data: list[StockItem] = Field(default_factory=list, alias="Data")


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
    stock_items_full_extended: list[StockItemFullExtended] = Field(
        default_factory=list, alias="StockItemsFullExtended"
    )
