"""Method table: bound parameter values -> account call -> wire payload (None for void methods)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.linnworks.account import Account

__all__ = ["HANDLERS"]

Values = dict[str, Any]
Handler = Callable[[Account, Values], Any]


def _get_all_open_orders(a: Account, v: Values) -> Any:
    return a.open_orders(
        v.get("fulfilmentCenter"),
        v.get("filters"),
        v.get("sorting"),
        v.get("additionalFilter"),
        bool(v.get("exactMatch")),
    )


def _process_order(a: Account, v: Values) -> Any:
    return a.process(v.get("orderId"), fulfilment_centre=False)


def _process_fc_order(a: Account, v: Values) -> Any:
    return a.process(v.get("orderId"), fulfilment_centre=True)


def _cancel(a: Account, v: Values) -> Any:
    a.cancel(v.get("orderId"), v.get("fulfilmentCenter"), v.get("note"))
    return None


def _get_stock_items(a: Account, v: Values) -> Any:
    return a.stock_items(
        v.get("keyWord"),
        v.get("locationId"),
        int(v.get("entriesPerPage") or 0),
        int(v.get("pageNumber") or 0),
        bool(v.get("excludeComposites")),
        bool(v.get("excludeVariations")),
    )


def _get_stock_items_full(a: Account, v: Values) -> Any:
    return a.stock_items_full(
        v.get("keyword"),
        bool(v.get("loadCompositeParents")),
        bool(v.get("loadVariationParents")),
        int(v.get("entriesPerPage") or 0),
        int(v.get("pageNumber") or 0),
        v.get("dataRequirements"),
        v.get("searchTypes"),
    )


HANDLERS: dict[str, Handler] = {
    "Locations/AddLocation": lambda a, v: a.add_location(v.get("location")),
    "Locations/UpdateLocation": lambda a, v: a.update_location(v.get("location")),
    "Locations/GetLocation": lambda a, v: a.get_location(v.get("pkStockLocationId")),
    "Inventory/GetStockLocations": lambda a, v: a.stock_locations(),
    "OpenOrders/GetIdentifiers": lambda a, v: a.get_identifiers(),
    "OpenOrders/SaveIdentifier": lambda a, v: a.save_identifier(v.get("request")),
    "OpenOrders/DeleteIdentifier": lambda a, v: a.delete_identifier(v.get("request")),
    "OpenOrders/AssignOrderIdentifier": lambda a, v: a.change_identifier(v.get("request"), assign=True),
    "OpenOrders/UnassignOrderIdentifier": lambda a, v: a.change_identifier(v.get("request"), assign=False),
    "Orders/GetAllOpenOrders": _get_all_open_orders,
    "Orders/GetOrdersById": lambda a, v: a.orders_by_id(v.get("pkOrderIds")),
    "Orders/GetOrderById": lambda a, v: a.order_by_id(v.get("pkOrderId")),
    "Orders/CancelOrder": _cancel,
    "Orders/ChangeStatus": lambda a, v: a.change_status(v.get("orderIds"), int(v["status"])),
    "Orders/ProcessOrder": _process_order,
    "Orders/ProcessFulfilmentCentreOrder": _process_fc_order,
    "Orders/ProcessOrdersInBatch": lambda a, v: a.process_batch(v.get("ordersIds")),
    "Orders/SetExtendedProperties": lambda a, v: a.set_extended_properties(
        v.get("orderId"), v.get("extendedProperties")
    ),
    "Orders/GetExtendedProperties": lambda a, v: a.extended_properties(v.get("orderId")),
    "Orders/SetOrderCustomerInfo": lambda a, v: a.set_customer_info(v.get("orderId"), v.get("info")),
    "Orders/SetOrderGeneralInfo": lambda a, v: a.set_general_info(v.get("orderId"), v.get("info")),
    "Orders/SetOrderNotes": lambda a, v: a.set_notes(v.get("orderId"), v.get("orderNotes")),
    "Orders/GetOrderNotes": lambda a, v: a.notes(v.get("orderId")),
    "Orders/SetOrderShippingInfo": lambda a, v: a.set_shipping_info(v.get("orderId"), v.get("info")),
    "Orders/UpdateOrderItem": lambda a, v: a.update_item(
        v.get("orderId"), v.get("orderItem"), v.get("fulfilmentCenter")
    ),
    "Stock/SetStockLevel": lambda a, v: a.set_stock_levels(v.get("stockLevels"), v.get("changeSource")),
    "Stock/GetStockItems": _get_stock_items,
    "Stock/GetStockItemsFull": _get_stock_items_full,
    "Stock/GetStockItemsFullByIds": lambda a, v: a.stock_items_by_ids(v.get("request")),
}
