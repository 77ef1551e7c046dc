"""The warehouse's admin calls over HTTP (not part of ShipBob's API): what a person at the warehouse does.

``POST /_admin/warehouse/<action>`` with a JSON body naming the order by ``reference``:

* ``hold`` (``reason``, default ``AddressValidationFailed``: the shipment's status detail name)
* ``release``
* ``short_ship`` (``shipped``: units per SKU; the rest is cancelled, the shipment is final)
* ``pick`` (from now on the order refuses address and line changes)

Answers 200 with the order's status, 404 for an unknown order or action, 409 when the order cannot do it
(shipped, cancelled, not on hold), 400 for a body without ``reference``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox._http import HttpRequest, HttpResponse, json_response
from sandbox.warehouse import Warehouse

__all__ = ["ADMIN_PREFIX", "warehouse_admin"]

ADMIN_PREFIX = "/_admin/warehouse/"


def warehouse_admin(warehouse: Warehouse, request: HttpRequest) -> HttpResponse:
    """Serve one admin call (``request.path`` starts with ``ADMIN_PREFIX``)."""
    try:
        body = json.loads(request.body or b"{}")
        reference = str(body["reference"])
    except (ValueError, KeyError, TypeError):
        return json_response({"error": "send a JSON object with the order's reference"}, status=400)
    action = _actions(warehouse, reference, body).get(request.path.removeprefix(ADMIN_PREFIX))
    if request.method != "POST" or action is None:
        return json_response({"error": "POST hold, release, short_ship or pick"}, status=404)
    if warehouse.find_by_reference(reference) is None:
        return json_response({"error": f"no order with reference {reference!r}"}, status=404)
    try:
        action()
    except ValueError as error:
        return json_response({"error": str(error)}, status=409)
    order = warehouse.find_by_reference(reference)
    return json_response({"reference": reference, "status": order.status.value if order else ""})


def _actions(warehouse: Warehouse, reference: str, body: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    reason = str(body.get("reason") or "AddressValidationFailed")
    shipped = {str(sku): int(units) for sku, units in dict(body.get("shipped") or {}).items()}
    return {
        "hold": lambda: warehouse.hold(reference, reason),
        "release": lambda: warehouse.release(reference),
        "short_ship": lambda: warehouse.short_ship(reference, shipped),
        "pick": lambda: warehouse.pick(reference),
    }
