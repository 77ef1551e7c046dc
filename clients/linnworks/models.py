"""Typed shapes of the Linnworks v1 API, named in snake_case with the spec's field names as aliases.

Three kinds of model, by direction:

* ``_Inbound`` — only ever read from a reply: unknown fields are ignored (Linnworks adds fields over time).
* ``_Outbound`` — only ever sent: unknown fields are an error (``extra="forbid"``), so a typo fails here.
* ``_RoundTrip`` — read, changed and sent back whole (locations, general info, items, notes, ...): they
  declare every field of the spec so a read-modify-write loses nothing. Built in code they forbid unknown
  fields; parsed from a reply (``model_validate(data, **WIRE)``) they drop them.

Money is ``Decimal``; dates are timezone-aware UTC, and Linnworks' "unset" date ``0001-01-01T00:00:00Z``
reads as ``None``. A ``null`` where a field has a default reads as that default (.NET writes empty
collections and unset strings as ``null``): lists read as ``[]``, never as None or an error.

Split by subject into ``_base``, ``_orders``, ``_queries`` and ``_stock``; this module re-exports them.
"""

from __future__ import annotations

from ._base import (
    WIRE,
    ZERO_GUID,
    BaseSession,
    OrderStatus,
    StockItemsFullByIdsDataRequirement,
    StockItemsFullDataRequirement,
    StockSearchType,
    parse_linnworks_datetime,
)
from ._orders import (
    AssignResult,
    CustomerAddress,
    ExtendedProperty,
    Identifier,
    OrderCustomerInfo,
    OrderDetails,
    OrderGeneralInfo,
    OrderItem,
    OrderNote,
    OrderShippingInfo,
    OrderTotalsInfo,
    UpdateOrderShippingInfo,
)
from ._queries import (
    BooleanFieldFilter,
    ClientContext,
    DateFieldFilter,
    FieldsFilter,
    FieldSorting,
    ListFieldFilter,
    NumericFieldFilter,
    ProcessOrderResult,
    TextFieldFilter,
    UpdateOrderItemResult,
    UpdateTotalsResult,
)
from ._stock import (
    StockItem,
    StockItemFull,
    StockItemFullExtended,
    StockItemLevel,
    StockItemPage,
    StockLevelUpdate,
    StockLocation,
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
