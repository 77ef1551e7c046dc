"""The shipment changes of ShipBob 2026-01: ``PUT /shipment/{id}:updateAddress``,
``GET /shipment/{id}:getLineItems`` and ``POST /shipment/{id}:updateLineItems``.

Only an open order's pending shipment (see ``views.pending_shipment_id``) can change. Once the warehouse
has picked it (``Warehouse.pick``), shipped or cancelled it, the update answers 200 with
``is_success: false`` and a ``CONFLICT`` error, the documented shape of a refused update. An unknown
shipment is a 400 ``NOT_FOUND`` (the update operations document no 404); ``getLineItems`` documents 404.
"""

from __future__ import annotations

from typing import Any

from sandbox._http import HttpResponse, json_response
from sandbox.shipbob.views import pending_shipment_id, variant_id
from sandbox.warehouse import ChangeRefused, Warehouse, WarehouseOrder

__all__ = ["get_line_items", "update_address", "update_line_items"]


def _pending_order(warehouse: Warehouse, raw_id: str) -> WarehouseOrder | None:
    shipment_id = int(raw_id)
    order = warehouse.get(shipment_id - pending_shipment_id(0))
    return order if order is not None and pending_shipment_id(order.order_id) == shipment_id else None


def _not_found(status: int = 400) -> HttpResponse:
    return json_response({"code": "NOT_FOUND", "message": "Shipment not found"}, status=status)


def _refused(shipment_id: int, error: ChangeRefused) -> HttpResponse:
    body = {"id": shipment_id, "is_success": False, "error": {"code": "CONFLICT", "message": str(error)}}
    return json_response(body)


def update_address(warehouse: Warehouse, params: dict[str, str], body: Any) -> HttpResponse:
    order = _pending_order(warehouse, params["shipmentId"])
    if order is None:
        return _not_found()
    address = {
        "address1": body["street_address1"],
        "address2": body.get("street_address2"),
        "company_name": body.get("company_name"),
        "city": body["city"],
        "state": body.get("state"),
        "zip_code": body.get("zip_code"),
        "country": body.get("country_code") or order.address.get("country"),
    }
    recipient = {
        **order.metadata.get("recipient", {}),
        "name": body.get("recipient_name"),
        "address": address,
        "email": body.get("email"),
        "phone_number": body.get("phone_number"),
    }
    shipment_id = pending_shipment_id(order.order_id)
    try:
        warehouse.change_address(order.order_id, address, recipient)
    except ChangeRefused as error:
        return _refused(shipment_id, error)
    return json_response({"id": shipment_id, "is_success": True})


def get_line_items(  # the inventory id of a SKU is its product id, as in the order views
    warehouse: Warehouse, params: dict[str, str], body: Any
) -> HttpResponse:
    order = _pending_order(warehouse, params["shipmentId"])
    if order is None:
        return _not_found(404)
    return json_response([_line_item(warehouse, line.sku, line.remaining) for line in order.lines])


def _line_item(warehouse: Warehouse, sku: str, quantity: int) -> dict[str, Any]:
    product = warehouse.product(sku)
    inventory_id = product.product_id if product else 0
    return {
        "committed_quantity": quantity,
        "inventory_id": inventory_id,
        "is_hazmat": False,
        "is_lot": False,
        "product_variant": {
            "id": variant_id(product) if product else 0,
            "name": product.title if product else sku,
            "sku": sku,
        },
        "quantity": quantity,
        "serial_numbers": [],
    }


def update_line_items(warehouse: Warehouse, params: dict[str, str], body: Any) -> HttpResponse:
    """The body is the complete list: a line of the shipment left out is removed."""
    order = _pending_order(warehouse, params["shipmentId"])
    if order is None:
        return _not_found()
    skus = {p.product_id: p.sku for p in warehouse.products()}
    unknown = [item["inventory_id"] for item in body["items"] if item["inventory_id"] not in skus]
    if unknown:
        message = f"inventory_id {unknown[0]} is not in this shipment"
        return json_response({"code": "INVALID_PARAMETER", "message": message}, status=400)
    wanted = {skus[item["inventory_id"]]: item["quantity"] for item in body["items"]}
    shipment_id = pending_shipment_id(order.order_id)
    try:
        warehouse.change_quantities(order.order_id, wanted)
    except ChangeRefused as error:
        return _refused(shipment_id, error)
    before = {line.sku: line.quantity for line in order.lines}
    changes = [
        {
            "action": "Update" if sku in before else "Add",
            "inventory_id": next(i for i, s in skus.items() if s == sku),
            "previous_value": str(before.get(sku, 0)),
            "new_value": str(quantity),
        }
        for sku, quantity in wanted.items()
        if before.get(sku) != quantity
    ]
    return json_response({"id": shipment_id, "is_success": True, "shipment_line_items": changes})
