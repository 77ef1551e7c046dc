"""Warehouse records rendered as ShipBob 1.0 JSON (field names from sandbox/shipbob/spec.json).

A ShipBob shipment is one physical package, so each warehouse package becomes a shipment; the units an
open order still has to send show as one more shipment in Processing, OnHold or Exception (out of stock).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.warehouse import (
    OrderStatus,
    PackageRecord,
    Product,
    ShipmentRecord,
    StockLevel,
    WarehouseOrder,
)

__all__ = ["inventory_view", "iso", "order_view", "pending_shipment_id", "product_view"]

FULFILLMENT_CENTER = {"id": 8, "name": "Cicero (IL)"}
_PENDING_SHIPMENT_BASE = 200_000_000

_ORDER_STATUS = {
    OrderStatus.ACCEPTED: "Processing",
    OrderStatus.ON_HOLD: "Processing",
    OrderStatus.BACKORDERED: "Exception",
    OrderStatus.PARTIALLY_SHIPPED: "PartiallyFulfilled",
    OrderStatus.SHIPPED: "Fulfilled",
    OrderStatus.CANCELLED: "Cancelled",
}
_PENDING_STATUS = {
    OrderStatus.ACCEPTED: "Processing",
    OrderStatus.PARTIALLY_SHIPPED: "Processing",
    OrderStatus.ON_HOLD: "OnHold",
    OrderStatus.BACKORDERED: "Exception",
    OrderStatus.CANCELLED: "Cancelled",
}
_TRACKING_URL = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}


def iso(moment: datetime | None) -> str | None:
    """ShipBob's timestamp form: UTC with a Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def pending_shipment_id(order_id: int) -> int:
    return _PENDING_SHIPMENT_BASE + order_id


def order_view(
    order: WarehouseOrder, products: dict[str, Product], channel: dict[str, Any]
) -> dict[str, Any]:
    """The OrderViewModel of one warehouse order."""
    metadata = order.metadata
    return {
        "id": order.order_id,
        "created_date": iso(order.created_at),
        "purchase_date": metadata.get("purchase_date"),
        "reference_id": order.reference,
        "order_number": metadata.get("order_number", ""),
        "status": _ORDER_STATUS[order.status],
        "type": metadata.get("type", "DTC"),
        "channel": channel,
        "shipping_method": order.service,
        "recipient": metadata.get("recipient", {}),
        "products": [
            {
                "id": products[line.sku].product_id if line.sku in products else None,
                "reference_id": line.sku,
                "sku": line.sku,
                "quantity": line.quantity,
                "external_line_id": int(line.line_ref) if line.line_ref.isdigit() else None,
            }
            for line in order.lines
        ],
        "tags": metadata.get("tags", []),
        "shipments": _shipments(order, products),
    }


def _shipments(order: WarehouseOrder, products: dict[str, Product]) -> list[dict[str, Any]]:
    views = [
        _package_view(order, shipment, package, products)
        for shipment in order.shipments
        for package in shipment.packages
    ]
    remaining = [(line.sku, line.remaining) for line in order.lines if line.remaining > 0]
    if remaining and order.status is not OrderStatus.SHIPPED:
        views.append(_pending_view(order, remaining, products))
    return views


def _base_shipment(order: WarehouseOrder, shipment_id: int, status: str) -> dict[str, Any]:
    return {
        "id": shipment_id,
        "order_id": order.order_id,
        "reference_id": order.reference,
        "status": status,
        "created_date": iso(order.created_at),
        "location": FULFILLMENT_CENTER,
        "ship_option": order.service,
        "recipient": order.metadata.get("recipient", {}),
        "require_signature": False,
        "is_tracking_uploaded": bool(order.metadata.get("tracking_uploaded")),
    }


def _package_view(
    order: WarehouseOrder, shipment: ShipmentRecord, package: PackageRecord, products: dict[str, Product]
) -> dict[str, Any]:
    view = _base_shipment(order, package.package_id, "Completed")
    view.update(
        actual_fulfillment_date=iso(shipment.shipped_at),
        last_update_at=iso(shipment.shipped_at),
        last_tracking_update_at=iso(shipment.shipped_at),
        estimated_fulfillment_date_status="FulfilledOnTime",
        tracking={
            "carrier": package.carrier,
            "carrier_service": shipment.service,
            "tracking_number": package.tracking_number,
            "tracking_url": _TRACKING_URL.get(package.carrier, "").format(package.tracking_number),
            "shipping_date": iso(shipment.shipped_at),
        },
        products=[_shipment_product(sku, quantity, products) for sku, quantity, _ in package.lines],
    )
    return view


def _pending_view(
    order: WarehouseOrder, remaining: list[tuple[str, int]], products: dict[str, Product]
) -> dict[str, Any]:
    view = _base_shipment(order, pending_shipment_id(order.order_id), _PENDING_STATUS[order.status])
    view.update(
        last_update_at=iso(order.updated_at),
        estimated_fulfillment_date=iso(order.due_at),
        estimated_fulfillment_date_status=(
            "AwaitingInventoryAllocation" if order.status is OrderStatus.BACKORDERED else "PendingOnTime"
        ),
        status_details=_status_details(order),
        products=[_shipment_product(sku, quantity, products) for sku, quantity in remaining],
    )
    return view


def _status_details(order: WarehouseOrder) -> list[dict[str, Any]]:
    if order.status is OrderStatus.BACKORDERED:
        return [{"id": 1, "name": "OutOfStock"}]
    if order.status is OrderStatus.ON_HOLD:
        return [{"id": 2, "name": "AddressValidationFailed"}]
    return []


def _shipment_product(sku: str, quantity: int, products: dict[str, Product]) -> dict[str, Any]:
    product = products.get(sku)
    product_id = product.product_id if product else 0
    return {
        "id": product_id,
        "reference_id": sku,
        "sku": sku,
        "name": product.title if product else sku,
        "inventory_items": [
            {"id": product_id, "name": product.title if product else sku, "quantity": quantity}
        ],
    }


def product_view(
    product: Product, level: StockLevel, channel: dict[str, Any], created: datetime
) -> dict[str, Any]:
    """The ProductViewModel of one catalogue item, with its stock totals."""
    return {
        "id": product.product_id,
        "reference_id": product.sku,
        "sku": product.sku,
        "name": product.title,
        "barcode": product.barcode or None,
        "created_date": iso(created),
        "channel": channel,
        "total_onhand_quantity": level.on_hand,
        "total_committed_quantity": level.committed,
        "total_fulfillable_quantity": level.fulfillable,
        "fulfillable_quantity_by_fulfillment_center": [
            {
                **FULFILLMENT_CENTER,
                "onhand_quantity": level.on_hand,
                "committed_quantity": level.committed,
                "fulfillable_quantity": level.fulfillable,
            }
        ],
        "fulfillable_inventory_items": [
            {"id": product.product_id, "name": product.title, "quantity": level.fulfillable}
        ],
    }


def inventory_view(product: Product, level: StockLevel) -> dict[str, Any]:
    """The inventory-item view (1.0/inventory) of one catalogue item."""
    return {
        "inventoryId": product.product_id,
        "name": product.title,
        "isActive": True,
        "isDigital": False,
        "isLot": False,
        "isCasePick": False,
        "totalOnHandQuantity": level.on_hand,
        "totalCommitedQuantity": level.committed,
        "totalFulfillableQuantity": level.fulfillable,
        "totalSellableQuantity": level.fulfillable,
        "totalAwaitingQuantity": 0,
        "totalBackorderedQuantity": 0,
        "totalExceptionQuantity": 0,
        "totalInternalTransferQuantity": 0,
    }
