"""Replies have the spec's exact shapes, and the public validator judges calls like the server does."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.linnworks import ZERO_GUID, validate_call
from sandbox.linnworks.spec import load_spec
from tests.sandbox_linnworks.conftest import Api

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z|0001-01-01T00:00:00Z)$")


def shape_problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Where ``value`` departs from ``schema``: missing or extra properties, wrong scalar formats."""
    definitions = load_spec().definitions
    if value is None:
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        properties = definitions[name].get("properties", {})
        if not isinstance(value, dict):
            return [f"{where}: {name} is not an object"]
        problems = (
            [f"{where}: {name} has {sorted(set(value) ^ set(properties))}"]
            if set(value) != set(properties)
            else []
        )
        for key, prop in properties.items():
            problems += shape_problems(value.get(key), prop, f"{where}.{key}")
        return problems
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "array":
        return [
            p for i, item in enumerate(value) for p in shape_problems(item, schema["items"], f"{where}[{i}]")
        ]
    checks = {
        ("string", "uuid"): lambda v: isinstance(v, str) and GUID.match(v),
        ("string", "date-time"): lambda v: isinstance(v, str) and DATE.match(v),
        ("integer", fmt): lambda v: isinstance(v, int) and not isinstance(v, bool),
        ("number", fmt): lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        ("boolean", fmt): lambda v: isinstance(v, bool),
    }
    check = checks.get((kind, fmt))
    if check is not None and not check(value):
        return [f"{where}: {value!r} is not {kind}/{fmt}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in enum"]
    return []


def assert_shape(api: Api, method: str, reply: Any) -> None:
    schema = load_spec().by_name(method).response_schema
    assert schema is not None
    assert shape_problems(reply, dict(schema)) == []


def test_order_replies_match_order_details(api: Api, fc: str) -> None:
    """GetOrdersById/GetOrderById replies carry exactly the OrderDetails fields, formats included."""
    ids = api.lw.create_orders(6, fc, paid=None, parked=None, composite=True, identifiers=["AMAZON_PRIME"])
    api.ok("Orders/SetOrderNotes", orderId=ids[0], orderNotes=[{"Note": "n"}])
    api.ok("Orders/SetExtendedProperties", orderId=ids[0], extendedProperties=[{"Name": "a", "Value": "b"}])
    api.ok("Orders/ProcessOrder", orderId=ids[1], scanPerformed=True)
    assert_shape(api, "Orders/GetOrdersById", api.ok("Orders/GetOrdersById", pkOrderIds=ids))
    assert_shape(api, "Orders/GetOrderById", api.ok("Orders/GetOrderById", verb="GET", pkOrderId=ids[0]))


def test_other_replies_match_their_schemas(api: Api, fc: str) -> None:
    """Session, locations, identifiers, stock and write replies carry exactly their spec fields."""
    order_id = api.lw.create_orders(1, fc)[0]
    line = api.lw.order(order_id)["Items"][0]
    item_id = api.lw.stock_items()[0]["StockItemId"]
    session = api.client.post(
        api.lw.auth_url + "/api/Auth/AuthorizeByApplication", data=api.credentials()
    ).json()
    assert_shape(api, "Auth/AuthorizeByApplication", session)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("Inventory/GetStockLocations", {}),
        ("Locations/GetLocation", {"pkStockLocationId": fc}),
        ("OpenOrders/GetIdentifiers", {}),
        ("OpenOrders/SaveIdentifier", {"request": {"Identifier": {"Tag": "T"}}}),
        ("OpenOrders/AssignOrderIdentifier", {"request": {"OrderIds": [order_id], "Tag": "T"}}),
        ("Orders/SetOrderShippingInfo", {"orderId": order_id, "info": {"TrackingNumber": "1"}}),
        ("Orders/SetOrderCustomerInfo", {"orderId": order_id, "info": {}}),
        ("Orders/GetOrderNotes", {"orderId": order_id}),
        ("Orders/GetExtendedProperties", {"orderId": order_id}),
        (
            "Orders/UpdateOrderItem",
            {"orderId": order_id, "orderItem": {"RowId": line["RowId"]}, "fulfilmentCenter": fc},
        ),
        ("Orders/ChangeStatus", {"orderIds": [order_id], "status": 1}),
        ("Stock/SetStockLevel", {"stockLevels": [{"SKU": "SOCK-BLK", "LocationId": fc, "Level": 3}]}),
        ("Stock/GetStockItems", {"keyWord": "", "entriesPerPage": 5, "pageNumber": 1}),
        (
            "Stock/GetStockItemsFull",
            {
                "loadCompositeParents": True,
                "loadVariationParents": True,
                "entriesPerPage": 50,
                "pageNumber": 1,
                "dataRequirements": ["StockLevels"],
            },
        ),
        (
            "Stock/GetStockItemsFullByIds",
            {"request": {"StockItemIds": [item_id], "DataRequirements": ["StockLevels"]}},
        ),
        ("Orders/ProcessFulfilmentCentreOrder", {"orderId": order_id}),
        ("Orders/ProcessOrdersInBatch", {"ordersIds": [order_id]}),
    ]
    for method, params in calls:
        assert_shape(api, method, api.ok(method, **params))


@pytest.mark.parametrize(
    ("path", "params", "problem"),
    [
        ("/api/Orders/GetOrdersById", {"pkOrderIds": []}, None),
        ("Orders/GetOrdersById", {"PKORDERIDS": "[]"}, None),
        ("/api/Orders/GetOrdersById", {"pkOrderId": "[]"}, "unknown parameter 'pkOrderId'"),
        ("/api/Orders/GetOrderById", {}, "missing required parameter 'pkOrderId'"),
        ("/api/Orders/ChangeStatus", {"orderIds": "[]", "status": "x"}, "expected an integer"),
        ("/api/Orders/ProcessOrder", {"orderId": ZERO_GUID, "scanPerformed": "True"}, None),
        (
            "/api/Stock/SetStockLevel",
            {"stockLevels": [{"Sku": "A", "LocationId": ZERO_GUID, "Level": 1}]},
            None,
        ),
        (
            "/api/Stock/SetStockLevel",
            {"stockLevels": [{"SKU": "A", "Location": ZERO_GUID}]},
            "unknown property",
        ),
        (
            "/api/Orders/GetAllOpenOrders",
            {"fulfilmentCenter": ZERO_GUID, "sorting": '[{"Direction": 7}]'},
            "range",
        ),
        ("/api/Orders/NotAThing", {}, "unknown path"),
    ],
)
def test_validate_call(path: str, params: dict[str, Any], problem: str | None) -> None:
    """validate_call accepts well-formed calls and names the exact problem otherwise."""
    problems = validate_call(path, "POST", params)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
