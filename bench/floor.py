"""The floor: a bare exporter and a bare reconciler, plain httpx, the minimum calls, no ledger, no Prefect.

They speak the wire the sandboxes speak (Linnworks form-encoded JSON fields with the raw session token;
ShipBob 2026-01 JSON with a bearer token and the channel header) and make the same minimum calls as
``bench/cycle.py``'s table: export = GetAllOpenOrders, GetOrdersById per 100, one create per order
(``IN_FLIGHT`` at a time), AssignOrderIdentifier per 100; reconcile = the ShipBob tracking queue in pages of
250, SetOrderShippingInfo per order (``IN_FLIGHT`` at a time), GetOrdersById per 100 (read-back),
ProcessOrdersInBatch per 100, the tracking-upload acknowledgement per 100. Constant request parts (filters,
sorting) are encoded once at start with the product's encoder, which costs nothing per order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import httpx

IN_FLIGHT = 8
BATCH = 100
PAGE = 250
VERSION = "2026-01"
TAG = "SENT_TO_3PL"  # EXPORT_IDENTIFIER_TAG, saved by the setup flow lw3pl ran first


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BareLinnworks:
    """Auth once, then POST form fields to the session's server."""

    def __init__(self, info: dict[str, str]) -> None:
        self.http = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=IN_FLIGHT * 2))
        request = {
            "ApplicationId": info["application_id"],
            "ApplicationSecret": info["application_secret"],
            "Token": info["installation_token"],
        }
        reply = self.call_at(
            info["auth_url"], "Auth/AuthorizeByApplication", {"request": json.dumps(request)}
        )
        self.token, self.server = reply["Token"], reply["Server"].rstrip("/")

    def call_at(self, base: str, endpoint: str, fields: dict[str, str]) -> Any:
        headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
        if getattr(self, "token", None):
            headers["Authorization"] = self.token
        response = self.http.post(
            f"{base}/api/{endpoint}", content=urlencode(fields).encode(), headers=headers
        )
        if response.status_code >= 400:
            raise RuntimeError(f"bare {endpoint} refused {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def call(self, endpoint: str, fields: dict[str, str]) -> Any:
        return self.call_at(self.server, endpoint, fields)

    def orders_by_id(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        return list(self.call("Orders/GetOrdersById", {"pkOrderIds": json.dumps(list(ids))}))


class BareShipBob:
    def __init__(self, info: dict[str, str]) -> None:
        headers = {
            "Authorization": f"Bearer {info['shipbob_token']}",
            "shipbob_channel_id": str(info["shipbob_channel_id"]),
        }
        self.http = httpx.Client(
            base_url=f"{info['shipbob_url'].rstrip('/')}/{VERSION}",
            headers=headers,
            timeout=60,
            limits=httpx.Limits(max_connections=IN_FLIGHT * 2),
        )

    def create(self, body: dict[str, Any]) -> int:
        response = self.http.post("/order", json=body)
        if response.status_code >= 400:
            raise RuntimeError(
                f"bare create refused {response.status_code}: {response.text[:300]} for {body}"
            )
        return int(response.json()["id"])


def _open_order_fields(location_id: str) -> dict[str, str]:
    """The export's GetAllOpenOrders fields, encoded once with the product's encoder (not per order)."""
    from clients.linnworks import BooleanFieldFilter, FieldsFilter, FieldSorting, ListFieldFilter
    from clients.linnworks._encoding import to_json_text

    filters = FieldsFilter(
        list_fields=[
            ListFieldFilter(field_code="GENERAL_INFO_IDENTIFIER", type="Not", value=TAG),
            ListFieldFilter(field_code="GENERAL_INFO_STATUS", type="Is", value="1"),
        ],
        boolean_fields=[
            BooleanFieldFilter(field_code="GENERAL_INFO_PARKED", value=False),
            BooleanFieldFilter(field_code="GENERAL_INFO_LOCKED", value=False),
        ],
    )
    sorting = [FieldSorting(field_code="GENERAL_INFO_DATE", direction="Ascending", order=1)]
    return {
        "filters": to_json_text(filters),
        "sorting": to_json_text(sorting),
        "fulfilmentCenter": location_id,
        "additionalFilter": "",
        "exactMatch": "false",
    }


def _create_body(order: dict[str, Any]) -> dict[str, Any]:
    """ShipBob's CreateOrderModel from one GetOrdersById order, by hand."""
    customer = order["CustomerInfo"]
    address = customer["Address"]
    return {
        "reference_id": order["OrderId"],
        "order_number": str(order["NumOrderId"]),
        "shipping_method": "Standard",
        "type": "DTC",
        "recipient": {
            "name": address.get("FullName") or "Customer",
            "address": {
                "address1": address.get("Address1") or "",
                "city": address.get("Town") or "",
                "state": address.get("Region") or None,
                "zip_code": address.get("PostCode") or None,
                "country": (address.get("Country") and _country(address)) or "GB",
            },
            "email": address.get("EmailAddress") or None,
        },
        "products": [
            {
                "reference_id": item["SKU"],
                "sku": item["SKU"],
                "name": item.get("Title") or item.get("ItemTitle") or item["SKU"],
                "quantity": int(item["Quantity"]),
                "unit_price": float(item.get("PricePerUnit") or 0),
            }
            for item in order["Items"]
        ],
    }


def _country(address: dict[str, Any]) -> str:
    return str(address.get("CountryCode") or "GB").upper()


def bare_export(info: dict[str, str], location_id: str) -> int:
    """Export every open untagged order at the location; returns how many were created at ShipBob."""
    linnworks, shipbob = BareLinnworks(info), BareShipBob(info)
    ids = [str(i) for i in linnworks.call("Orders/GetAllOpenOrders", _open_order_fields(location_id))]
    created = 0
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        for batch in _chunks(ids, BATCH):
            orders = linnworks.orders_by_id(batch)
            created += len(list(pool.map(lambda order: shipbob.create(_create_body(order)), orders)))
            request = {"OrderIds": [order["OrderId"] for order in orders], "Tag": TAG}
            linnworks.call("OpenOrders/AssignOrderIdentifier", {"request": json.dumps(request)})
    return created


def _tracking_queue(shipbob: BareShipBob) -> list[dict[str, Any]]:
    queue: list[dict[str, Any]] = []
    page = 1
    while True:
        params = {"HasTracking": "true", "IsTrackingUploaded": "false", "SortOrder": "Oldest"}
        reply = shipbob.http.get("/order", params={**params, "Page": str(page), "Limit": str(PAGE)})
        reply.raise_for_status()
        orders = reply.json()
        queue += orders
        if len(orders) < PAGE:
            return queue
        page += 1


def _parcel(order: dict[str, Any]) -> tuple[str, str, int] | None:
    """(Linnworks order id, first tracking number, shipment id) of a shipped ShipBob order."""
    for shipment in order.get("shipments") or []:
        tracking = (shipment.get("tracking") or {}).get("tracking_number")
        if tracking:
            return str(order["reference_id"]), str(tracking), int(shipment["id"])
    return None


def bare_reconcile(info: dict[str, str], location_id: str) -> int:
    """Write, read back and process every queued shipment; returns how many orders were processed."""
    linnworks, shipbob = BareLinnworks(info), BareShipBob(info)
    parcels = [p for p in map(_parcel, _tracking_queue(shipbob)) if p is not None]
    processed = 0

    def write(parcel: tuple[str, str, int]) -> None:
        info_field = json.dumps({"TrackingNumber": parcel[1]})
        linnworks.call("Orders/SetOrderShippingInfo", {"orderId": parcel[0], "info": info_field})

    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        for batch in _chunks(parcels, BATCH):
            list(pool.map(write, batch))
            wanted = {order_id: tracking for order_id, tracking, _ in batch}
            read = linnworks.orders_by_id(list(wanted))
            ready = [
                o["OrderId"] for o in read if o["ShippingInfo"]["TrackingNumber"] == wanted[o["OrderId"]]
            ]
            fields = {
                "ordersIds": json.dumps(ready),
                "locationId": location_id,
                "context": '{"Module":"bench"}',
            }
            results = linnworks.call("Orders/ProcessOrdersInBatch", fields)
            processed += sum(1 for result in results if result.get("Processed"))
            body = {"shipment_ids": [shipment for _, _, shipment in batch], "is_tracking_uploaded": True}
            shipbob.http.post("/shipment:batchUpdateTrackingUpload", json=body).raise_for_status()
    return processed
