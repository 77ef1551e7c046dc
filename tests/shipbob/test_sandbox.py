"""The ShipBob sandbox behaves like ShipBob: auth, strict bodies, business rules, paging, limits, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.shipbob import VERSION, ShipBobSandbox, SpecValidator
from sandbox.warehouse import Warehouse, WarehouseConfig
from tests.threepl.harness import ManualClock


class Tick:
    """A monotonic clock for the rate-limit window that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def order_body(reference: str = "R-1", sku: str = "SKU-0001", **extra: Any) -> dict[str, Any]:
    return {
        "reference_id": reference,
        "shipping_method": "Standard",
        "recipient": {"name": "Ada", "address": {"address1": "1 High St", "city": "Leeds", "country": "GB"}},
        "products": [{"reference_id": sku, "name": sku, "quantity": 2}],
        "type": "DTC",
        **extra,
    }


@pytest.fixture
def tick() -> Tick:
    return Tick()


@pytest.fixture
def sandbox(tick: Tick) -> Iterator[ShipBobSandbox]:
    warehouse = Warehouse(seed=2, clock=ManualClock(), config=WarehouseConfig.deterministic())
    warehouse.seed_catalogue(8, on_hand=(40, 40))
    with ShipBobSandbox(warehouse=warehouse, monotonic=tick) as running:
        yield running


@pytest.fixture
def client(sandbox: ShipBobSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.api_url, headers=sandbox.auth_headers(), timeout=5) as http:
        yield http


def test_requests_need_the_token_and_the_channel(sandbox: ShipBobSandbox) -> None:
    """No or a wrong token is 401; a create without the channel header is 400, a foreign channel 403."""
    orders = f"{sandbox.api_url}/order"
    assert httpx.get(orders).status_code == 401
    assert httpx.get(orders, headers={"Authorization": "Bearer wrong"}).status_code == 401
    bearer = {"Authorization": f"Bearer {sandbox.token}"}
    missing = httpx.post(orders, headers=bearer, json=order_body())
    assert missing.status_code == 400 and "shipbob_channel_id" in missing.json()
    foreign = {**bearer, "shipbob_channel_id": "1"}
    assert httpx.post(orders, headers=foreign, json=order_body()).status_code == 403


def test_retired_versions_are_refused_with_a_reason(sandbox: ShipBobSandbox) -> None:
    """/1.0/ and /2.0/ answer 410 with a body that says the version is retired; no order is made."""
    for version in ("1.0", "2.0"):
        reply = httpx.post(
            f"{sandbox.url}/{version}/order", headers=sandbox.auth_headers(), json=order_body()
        )
        assert reply.status_code == 410
        assert "retired" in reply.json()["detail"] and VERSION in reply.json()["detail"]
    assert httpx.get(f"{sandbox.url}/2019-01/order", headers=sandbox.auth_headers()).status_code == 404
    assert sandbox.warehouse.list_orders() == []


def test_bodies_and_queries_are_validated_strictly(client: httpx.Client) -> None:
    """Unknown members and query parameters, wrong types and missing required fields are 400."""
    unknown = client.post("/order", json=order_body(colour="red"))
    assert unknown.status_code == 400 and "colour" in unknown.json()
    line = {"reference_id": "SKU-0001", "name": "Mug", "quantity": "2"}
    assert client.post("/order", json={**order_body(), "products": [line]}).status_code == 400
    nameless = {"reference_id": "SKU-0001", "quantity": 2}
    assert client.post("/order", json={**order_body(), "products": [nameless]}).status_code == 400
    missing = client.post("/order", json={k: v for k, v in order_body().items() if k != "shipping_method"})
    assert missing.status_code == 400 and "shipping_method" in missing.json()
    assert client.get("/order", params={"Page": "first"}).status_code == 400
    misspelt = client.get("/order", params={"ReferenceId": "R-1"})
    assert misspelt.status_code == 400 and "ReferenceId" in misspelt.json()


def test_business_rules_answer_422(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """A duplicate reference, an unknown product and a bad country are 422; nothing extra is created."""
    assert client.post("/order", json=order_body()).status_code == 201
    duplicate = client.post("/order", json=order_body())
    assert duplicate.status_code == 422 and "reference_id" in duplicate.json()
    unknown = client.post("/order", json=order_body("R-2", sku="GHOST"))
    assert unknown.status_code == 422 and "GHOST" in str(unknown.json())
    bad_country = order_body("R-3")
    bad_country["recipient"]["address"]["country"] = "XX"
    assert client.post("/order", json=bad_country).status_code == 422
    assert [o.reference for o in sandbox.warehouse.list_orders()] == ["R-1"]


def test_paging_by_page_and_by_cursor(client: httpx.Client) -> None:
    """Orders page with Page/Limit (headers); products and stock levels by cursor (next links)."""
    for number in range(5):
        client.post("/order", json=order_body(f"P-{number}"))
    first = client.get("/order", params={"Limit": 2, "Page": 1})
    assert (
        len(first.json()) == 2
        and first.headers["Total-Pages"] == "3"
        and "Page=2" in first.headers["Next-Page"]
    )
    page = client.get("/inventory-level", params={"PageSize": 3}).json()
    skus = [item["sku"] for item in page["items"]]
    while page["next"]:
        assert page["next"].startswith(f"/{VERSION}/inventory-level?")
        page = client.get(page["next"].removeprefix(f"/{VERSION}")).json()
        skus += [item["sku"] for item in page["items"]]
    assert skus == [f"SKU-{n:04d}" for n in range(1, 9)]


def test_rate_limit_window(client: httpx.Client, tick: Tick) -> None:
    """The 151st call in a minute is 429 with x-retry-after; after the window passes calls go again."""
    statuses = [client.get("/order").status_code for _ in range(151)]
    assert statuses[:150] == [200] * 150 and statuses[150] == 429
    limited = client.get("/order")
    assert limited.status_code == 429 and 1 <= int(limited.headers["x-retry-after"]) <= 60
    tick.now += 60.0
    assert client.get("/order").status_code == 200


def test_accept_then_drop_creates_the_order(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """The accept-then-drop fault creates the order and closes the connection without a reply."""
    sandbox.inject("accept_then_drop", method="POST", path=f"/{VERSION}/order")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/order", json=order_body("R-9"))
    assert sandbox.warehouse.find_by_reference("R-9") is not None


def test_injected_faults(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """Injected 429, 503, HTML and truncated replies happen once each, then the API is normal again."""
    for kind in ("429", "503", "html", "truncated"):
        sandbox.inject(kind, path=f"/{VERSION}/inventory-level")
    replies = [client.get("/inventory-level") for _ in range(5)]
    assert [r.status_code for r in replies] == [429, 503, 200, 200, 200]
    assert replies[0].headers["x-retry-after"] == "5"
    assert replies[2].text.startswith("<html>")
    with pytest.raises(ValueError):
        replies[3].json()
    assert replies[4].json()["items"][0]["sku"] == "SKU-0001"


def test_replies_match_the_spec_response_schemas(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """Orders (open, shipped, acknowledged, cancelled), cancel replies, tracking acks, products and stock
    levels fit the spec's response schemas."""
    validator = SpecValidator()

    def schema(path: str, verb: str, status: str) -> dict[str, Any]:
        found: dict[str, Any] = validator.spec["paths"][f"/{VERSION}{path}"][verb]["responses"][status][
            "schema"
        ]
        return found

    client.post("/order", json=order_body("R-1"))
    client.post("/order", json=order_body("R-2"))
    created = client.post("/product", json={"name": "Lamp", "variants": [{"sku": "LAMP-1", "name": "Lamp"}]})
    sandbox.warehouse.ship("R-1", packages=2)
    shipped = sandbox.warehouse.find_by_reference("R-1")
    parcels = [package.package_id for shipment in shipped.shipments for package in shipment.packages]  # type: ignore[union-attr]
    ack = client.post(
        "/shipment:batchUpdateTrackingUpload",
        json={"shipment_ids": [*parcels, 1], "is_tracking_uploaded": True},
    )
    order_id = sandbox.warehouse.find_by_reference("R-2").order_id  # type: ignore[union-attr]
    cancel = client.post(f"/order/{order_id}:cancel")
    too_late = client.post(f"/order/{shipped.order_id}:cancel")  # type: ignore[union-attr]
    product = created.json()
    renamed = client.patch(
        f"/product/{product['id']}",
        json={"name": "Lamp 2", "variants": [{"id": product["variants"][0]["id"], "name": "Lamp 2"}]},
    )
    checks = [
        (client.get("/order").json(), schema("/order", "get", "200")),
        (cancel.json(), schema("/order/{orderId}:cancel", "post", "200")),
        (too_late.json(), schema("/order/{orderId}:cancel", "post", "200")),
        (ack.json(), schema("/shipment:batchUpdateTrackingUpload", "post", "200")),
        (product, schema("/product", "post", "201")),
        (renamed.json(), schema("/product/{productId}", "patch", "200")),
        (client.get("/product").json(), schema("/product", "get", "200")),
        (client.get("/inventory-level").json(), schema("/inventory-level", "get", "200")),
    ]
    for payload, expected in checks:
        assert validator.validate(payload, expected) == {}
    assert cancel.json()["status"] == "Success" and too_late.json()["status"] == "Failure"
    assert ack.json()["summary"] == {"total": len(parcels) + 1, "successful": len(parcels), "failed": 1}
    queue = client.get("/order", params={"HasTracking": "true", "IsTrackingUploaded": "false"}).json()
    assert queue == [], "acknowledged parcels leave the tracking queue"
    assert client.post(f"/order/{order_id}:cancel").status_code == 422  # cancelled before
    assert client.post("/order/999999:cancel").status_code == 404


def test_warehouse_admin_holds_releases_and_short_ships_over_http(
    sandbox: ShipBobSandbox, client: httpx.Client
) -> None:
    """The admin calls a test or a person uses: the API then shows OnHold, Processing, and a short
    Fulfilled order; a call the order cannot take is 409, an unknown order 404."""
    assert client.post("/order", json=order_body("R-1")).status_code in (200, 201)
    admin = f"{sandbox.url}/_admin/warehouse"

    def pending_status() -> str:
        [order] = client.get("/order", params={"ReferenceIds": "R-1"}).json()
        return str(order["shipments"][-1]["status"])

    assert (
        httpx.post(f"{admin}/hold", json={"reference": "R-1", "reason": "Fraud"}).json()["status"]
        == "on_hold"
    )
    assert pending_status() == "OnHold"
    assert httpx.post(f"{admin}/release", json={"reference": "R-1"}).status_code == 200
    assert pending_status() == "Processing"
    assert httpx.post(f"{admin}/release", json={"reference": "R-1"}).status_code == 409
    short = httpx.post(f"{admin}/short_ship", json={"reference": "R-1", "shipped": {"SKU-0001": 1}})
    assert short.json()["status"] == "shipped"
    [order] = client.get("/order", params={"ReferenceIds": "R-1"}).json()
    assert order["status"] == "Fulfilled"
    assert sum(p["inventory_items"][0]["quantity"] for s in order["shipments"] for p in s["products"]) == 1
    assert httpx.post(f"{admin}/hold", json={"reference": "R-9"}).status_code == 404
