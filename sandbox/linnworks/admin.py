"""The admin API (``/_admin/...`` on the data host, JSON, no auth) and its in-process twin.

In-process, call the same-named methods on :class:`LinnworksSandbox` (``AdminMixin`` below); over HTTP:

=======  ==============================  ==================================================================
verb     path                            body / query -> reply
=======  ==============================  ==================================================================
GET      /_admin/info                    -> URLs, credentials, seed
POST     /_admin/reset                   {"seed"?} -> info
GET/POST /_admin/settings                {time_scale, rate_limits, session_idle_seconds, strict_wrapper,
                                         process_failure_as_400, change_status_skips_parked,
                                         max_ids_per_call, auth_failure_status, null_empty_values} -> settings
POST     /_admin/locations               StockLocation fields -> the location
POST     /_admin/postal-services         {"name", "vendor", "id"?} -> the service
GET      /_admin/postal-services         -> services
POST     /_admin/stock-items             {"sku", "title", "levels": {location: n}, "purchase_price",
                                         "retail_price", "weight", "components": [{"sku", "quantity"}]}
GET      /_admin/stock-items             -> items with levels per location
POST     /_admin/orders                  {"count", "location_id", "paid", "parked", "locked",
                                         "identifiers", "composite", "postal_service", "lines",
                                         "received"} -> {"OrderIds": [...]}
GET      /_admin/orders                  ?location_id=&state=open|processed|cancelled|all -> orders
GET      /_admin/orders/<id>             -> the order (OrderDetails + _Locked/_Cancelled/_Tags)
POST     /_admin/orders/<id>             {"locked", "parked", "status", "location_id"} -> the order
POST     /_admin/orders/<id>/edit        {"address": {Address fields}, "quantities": {sku: n},
                                         "postal_service": name} -> the order (a user's edit in the UI)
GET      /_admin/identifiers             -> identifiers
GET      /_admin/requests                ?method=Controller/Method -> request log
DELETE   /_admin/requests                clears the log and the counters
GET      /_admin/counters                -> {method: calls}
GET/POST /_admin/faults                  FaultRule fields -> the rule / the rules
DELETE   /_admin/faults                  clears all faults
POST     /_admin/sessions/revoke         {"token"?} -> {"revoked": n}
=======  ==============================  ==================================================================
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox._http import HttpRequest, HttpResponse, json_response
from sandbox.linnworks.account import Account, recalculate
from sandbox.linnworks.model import ZERO_GUID, BusinessError, Order
from sandbox.linnworks.seed import OrderSpec, Seeder
from sandbox.linnworks.spec import parse_guid

if TYPE_CHECKING:
    from sandbox.linnworks.server import LinnworksSandbox

__all__ = ["AdminMixin", "handle_admin"]

ORDER_STATES = ("all", "open", "processed", "cancelled")


class AdminMixin:
    """Seeding and inspection, in-process (each method takes the server lock)."""

    _lock: threading.RLock
    account: Account
    seeder: Seeder

    def add_location(self, name: str, **fields: Any) -> dict[str, Any]:
        """Create a location directly (``IsFulfillmentCenter=True`` etc. as keyword arguments)."""
        with self._lock:
            self.account.add_location({**fields, "LocationName": name})
            return _copy(next(loc for loc in self.account.locations.values() if loc["LocationName"] == name))

    def add_postal_service(
        self, name: str, vendor: str = "NONE", service_id: str | None = None
    ) -> dict[str, str]:
        with self._lock:
            return self.seeder.add_postal_service(name, vendor, service_id).as_dict()

    def postal_services(self) -> list[dict[str, str]]:
        with self._lock:
            return [service.as_dict() for service in self.account.postal_services.values()]

    def add_stock_item(
        self,
        sku: str,
        title: str | None = None,
        levels: dict[str, int] | None = None,
        *,
        purchase_price: float = 1.0,
        retail_price: float = 5.0,
        weight: float = 0.1,
        components: Sequence[tuple[str, int]] = (),
    ) -> dict[str, Any]:
        """Create a stock item; ``components`` = ``(sku, quantity)`` pairs make it a composite parent."""
        with self._lock:
            parts = []
            for part_sku, quantity in components:
                part = self.account.items_by_sku.get(part_sku.upper())
                if part is None:
                    raise BusinessError(f"Could not find stock item with SKU '{part_sku}'")
                parts.append((part.id, int(quantity)))
            item = self.seeder.add_stock_item(
                sku, title or sku, dict(levels or {}), purchase_price, retail_price, weight, components=parts
            )
            return item.as_admin_dict()

    def stock_items(self) -> list[dict[str, Any]]:
        """Every item with its level per location."""
        with self._lock:
            return [
                item.as_admin_dict() for item in sorted(self.account.items.values(), key=lambda i: i.int_id)
            ]

    def stock_level(self, sku: str, location_id: str = ZERO_GUID) -> int:
        """The current level of ``sku`` at a location (0 if never set)."""
        with self._lock:
            return self.account.items_by_sku[sku.upper()].levels.get(location_id, 0)

    def set_stock_level(self, sku: str, location_id: str, level: int) -> None:
        """Set a level directly (no request log entry)."""
        with self._lock:
            self.account.set_stock_levels([{"SKU": sku, "LocationId": location_id, "Level": level}], "admin")

    def create_orders(
        self,
        count: int = 1,
        location_id: str = ZERO_GUID,
        *,
        paid: bool | None = True,
        parked: bool | None = False,
        locked: bool | None = False,
        identifiers: Sequence[str] = (),
        composite: bool | None = False,
        postal_service: str | None = None,
        lines: Sequence[dict[str, Any]] | None = None,
        received: datetime | None = None,
    ) -> list[str]:
        """Create open orders deterministically (``None`` in a flag = seeded mix); returns their ids."""
        spec = OrderSpec(
            location_id, paid, parked, locked, identifiers, composite, postal_service, lines, received
        )
        with self._lock:
            return self.seeder.create_orders(count, spec)

    def orders(self, location_id: str | None = None, state: str = "all") -> list[dict[str, Any]]:
        """Orders (admin view: OrderDetails plus ``_Locked``, ``_Cancelled``, ``_Tags``) in creation order."""
        if state not in ORDER_STATES:
            raise ValueError(f"state must be one of {ORDER_STATES}")
        with self._lock:
            return [
                _copy(self.account.admin_order(order))
                for order in self.account.orders.values()
                if (location_id is None or order.location == location_id) and _in_state(order, state)
            ]

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return _copy(self.account.admin_order(self.account.order(order_id)))

    def update_order(
        self,
        order_id: str,
        *,
        locked: bool | None = None,
        parked: bool | None = None,
        status: int | None = None,
        location_id: str | None = None,
    ) -> dict[str, Any]:
        """Change state Linnworks users change in the UI (lock, park, payment status, location)."""
        with self._lock:
            order = self.account.order(order_id)
            if locked is not None:
                order.locked = locked
            if parked is not None:
                order.general["IsParked"] = parked
                order.general["Marker"] = 7 if parked else 0
            if status is not None:
                order.general["Status"] = status
            if location_id is not None:
                self.account.location(location_id)
                order.doc["FulfilmentLocationId"] = location_id
                order.general["Location"] = location_id
            self.account.stock_changed()
            return _copy(self.account.admin_order(order))

    def edit_order(
        self,
        order_id: str,
        *,
        address: dict[str, Any] | None = None,
        quantities: dict[str, int] | None = None,
        postal_service: str | None = None,
    ) -> dict[str, Any]:
        """What a user edits on an open order in the UI: address fields, a SKU's quantity, the service."""
        with self._lock:
            order = self.account.order(order_id)
            order.ensure_editable()
            if address:
                order.doc["CustomerInfo"]["Address"].update(address)
            for sku, quantity in (quantities or {}).items():
                line = next((ln for ln in order.doc["Items"] if ln["SKU"] == sku), None)
                if line is None:
                    raise BusinessError(f"order {order_id} has no line for SKU {sku}")
                line["Quantity"] = quantity
            if postal_service is not None:
                service = next(s for s in self.account.postal_services.values() if s.name == postal_service)
                order.doc["ShippingInfo"].update(service.as_dict())
            recalculate(order)
            return _copy(self.account.admin_order(order))

    def identifiers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(ident) for ident in self.account.get_identifiers()]


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so callers can keep or change what they get without touching the sandbox's state."""
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied


def _in_state(order: Order, state: str) -> bool:
    if state == "open":
        return not order.processed
    if state == "processed":
        return order.processed and not order.cancelled
    if state == "cancelled":
        return order.cancelled
    return True


Route = Callable[["LinnworksSandbox", HttpRequest, dict[str, Any], list[str]], Any]


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    document = json.loads(request.body)
    if not isinstance(document, dict):
        raise ValueError("admin body must be a JSON object")
    return document


def _query(request: HttpRequest, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _orders_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    if rest:
        order_id = parse_guid(rest[0]) or rest[0]
        if rest[1:] == ["edit"] and request.method == "POST":
            return lw.edit_order(order_id, **body)
        if request.method == "POST":
            return lw.update_order(order_id, **body)
        return lw.order(order_id)
    if request.method == "POST":
        count = int(body.pop("count", 1))
        received = body.pop("received", None)
        if received is not None:
            body["received"] = datetime.fromisoformat(str(received).replace("Z", "+00:00"))
        return {"OrderIds": lw.create_orders(count, **body)}
    return lw.orders(_query(request, "location_id"), _query(request, "state") or "all")


def _stock_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    if request.method == "POST":
        components = [(c["sku"], int(c.get("quantity", 1))) for c in body.pop("components", [])]
        return lw.add_stock_item(
            body.pop("sku"), body.pop("title", None), body.pop("levels", None), components=components, **body
        )
    return lw.stock_items()


def _faults_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    if request.method == "POST":
        return lw.add_fault(body.pop("kind"), body.pop("method", "*"), **body)
    if request.method == "DELETE":
        lw.clear_faults()
        return {"cleared": True}
    return lw.fault_rules()


def _requests_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    if request.method == "DELETE":
        lw.clear_requests()
        return {"cleared": True}
    return lw.requests(_query(request, "method"))


def _reset_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    lw.reset(body.get("seed"))
    return lw.info()


def _settings_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    return lw.configure(**body) if request.method == "POST" else lw.describe_settings()


def _locations_route(
    lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]
) -> Any:
    if request.method == "POST":
        return lw.add_location(body.pop("LocationName"), **body)
    with lw._lock:
        return lw.account.stock_locations()


def _postal_route(lw: LinnworksSandbox, request: HttpRequest, body: dict[str, Any], rest: list[str]) -> Any:
    if request.method == "POST":
        return lw.add_postal_service(body["name"], body.get("vendor", "NONE"), body.get("id"))
    return lw.postal_services()


ROUTES: dict[str, Route] = {
    "info": lambda lw, r, b, rest: lw.info(),
    "reset": _reset_route,
    "settings": _settings_route,
    "locations": _locations_route,
    "postal-services": _postal_route,
    "stock-items": _stock_route,
    "orders": _orders_route,
    "identifiers": lambda lw, r, b, rest: lw.identifiers(),
    "requests": _requests_route,
    "counters": lambda lw, r, b, rest: lw.call_counts(),
    "faults": _faults_route,
    "sessions": lambda lw, r, b, rest: {"revoked": lw.revoke_sessions(b.get("token"))},
}


def handle_admin(lw: LinnworksSandbox, request: HttpRequest) -> HttpResponse:
    """Dispatch ``/_admin/<resource>[/<id>]``; errors come back as ``{"error": ...}`` with 400/404."""
    parts = [part for part in request.path.split("/") if part][1:]
    route = ROUTES.get(parts[0]) if parts else None
    if route is None:
        return json_response(
            {"error": f"unknown admin path {request.path}", "resources": sorted(ROUTES)}, 404
        )
    try:
        with lw._lock:  # replies reference live state: serialise before anyone can change it
            return json_response(route(lw, request, _body(request), parts[1:]))
    except (BusinessError, ValueError, KeyError, TypeError) as error:
        message = error.message if isinstance(error, BusinessError) else f"{type(error).__name__}: {error}"
        return json_response({"error": message}, 400)
