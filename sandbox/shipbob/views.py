"""Warehouse records rendered as ShipBob 2026-01 JSON (field names from sandbox/shipbob/spec.json).

A ShipBob shipment is one physical package, so each warehouse package becomes a shipment; the units an
open order still has to send show as one more shipment in Processing, OnHold or Exception (out of stock).
"""

from __future__ import annotations

from collections.abc import Set
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

__all__ = [
    "inventory_level_view",
    "iso",
    "order_view",
    "pending_shipment_id",
    "product_view",
    "variant_id",
]

FULFILLMENT_CENTER = {"id": 8, "name": "Cicero (IL)"}
_PENDING_SHIPMENT_BASE = 200_000_000
_VARIANT_BASE = 300_000_000  # a variant has its own id, apart from its product's and its inventory item's

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
    order: WarehouseOrder, products: dict[str, Product], channel: dict[str, Any], uploaded: Set[int]
) -> dict[str, Any]:
    """The OrderViewModel of one warehouse order; ``uploaded``: shipment ids the client acknowledged."""
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
        "financials": metadata.get("financials") or {"total_price": None},
        "shipments": _shipments(order, products, uploaded),
    }


def _shipments(
    order: WarehouseOrder, products: dict[str, Product], uploaded: Set[int]
) -> list[dict[str, Any]]:
    views = [
        _package_view(order, shipment, package, products, package.package_id in uploaded)
        for shipment in order.shipments
        for package in shipment.packages
    ]
    remaining = [(line.sku, line.remaining) for line in order.lines if line.remaining > 0]
    if remaining and order.status is not OrderStatus.SHIPPED:
        views.append(_pending_view(order, remaining, products))
    return views


def _base_shipment(
    order: WarehouseOrder, shipment_id: int, status: str, uploaded: bool = False
) -> dict[str, Any]:
    return {
        "id": shipment_id,
        "order_id": order.order_id,
        "reference_id": order.reference,
        "status": status,
        "created_date": iso(order.created_at),
        "location": FULFILLMENT_CENTER,
        "ship_option": order.service,
        "recipient": _shipment_recipient(order.metadata.get("recipient", {})),
        "require_signature": False,
        "is_tracking_uploaded": uploaded,
    }


def _shipment_recipient(recipient: dict[str, Any]) -> dict[str, Any]:
    return {**recipient, "full_name": recipient.get("name")}


def _package_view(
    order: WarehouseOrder,
    shipment: ShipmentRecord,
    package: PackageRecord,
    products: dict[str, Product],
    uploaded: bool,
) -> dict[str, Any]:
    view = _base_shipment(order, package.package_id, "Completed", uploaded)
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
        return [{"id": 2, "name": order.hold_reason or "AddressValidationFailed"}]
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


def variant_id(product: Product) -> int:
    return _VARIANT_BASE + product.product_id


def product_view(product: Product, created: datetime, updated: datetime) -> dict[str, Any]:
    """The ProductViewModelV5 of one catalogue item: a product with one variant carrying the SKU."""
    variant = {
        "id": variant_id(product),
        "name": product.title,
        "sku": product.sku,
        "status": "Active",
        "is_digital": False,
        "upc": None,
        "gtin": None,
        "barcodes": [{"value": product.barcode, "sticker_url": None}] if product.barcode else [],
        "created_on": iso(created),
        "updated_on": iso(updated),
        "inventory": {"inventory_id": product.product_id, "on_hand_qty": 0},
    }
    return {
        "id": product.product_id,
        "name": product.title,
        "type": "Regular",
        "user_id": 1,
        "created_on": iso(created),
        "updated_on": iso(updated),
        "variants": [variant],
    }


def inventory_level_view(product: Product, level: StockLevel) -> dict[str, Any]:
    """The InventoryQuantityResponse (2026-01/inventory-level) of one catalogue item."""
    return {
        "inventory_id": product.product_id,
        "name": product.title,
        "sku": product.sku,
        "total_on_hand_quantity": level.on_hand,
        "total_committed_quantity": level.committed,
        "total_fulfillable_quantity": level.fulfillable,
        "total_sellable_quantity": level.fulfillable,
        "total_awaiting_quantity": 0,
        "total_backordered_quantity": 0,
        "total_exception_quantity": 0,
        "total_internal_transfer_quantity": 0,
    }
