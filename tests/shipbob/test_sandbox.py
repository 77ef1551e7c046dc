"""The ShipBob sandbox behaves like ShipBob: auth, strict bodies, business rules, paging, limits, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.shipbob import ShipBobSandbox, SpecValidator
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
        "products": [{"reference_id": sku, "quantity": 2}],
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
    with httpx.Client(base_url=sandbox.url, headers=sandbox.auth_headers(), timeout=5) as http:
        yield http


def test_requests_need_the_token_and_the_channel(sandbox: ShipBobSandbox) -> None:
    """No or a wrong token is 401; a create without the channel header is 400, a foreign channel 403."""
    assert httpx.get(f"{sandbox.url}/1.0/order").status_code == 401
    assert httpx.get(f"{sandbox.url}/1.0/order", headers={"Authorization": "Bearer wrong"}).status_code == 401
    bearer = {"Authorization": f"Bearer {sandbox.token}"}
    assert httpx.post(f"{sandbox.url}/1.0/order", headers=bearer, json=order_body()).status_code == 400
    foreign = {**bearer, "shipbob_channel_id": "1"}
    assert httpx.post(f"{sandbox.url}/1.0/order", headers=foreign, json=order_body()).status_code == 403


def test_bodies_are_validated_strictly(client: httpx.Client) -> None:
    """Unknown members, wrong types and missing required fields are 400 with a model-state body."""
    unknown = client.post("/1.0/order", json=order_body(colour="red"))
    assert unknown.status_code == 400 and "colour" in unknown.json()
    wrong_type = client.post(
        "/1.0/order", json={**order_body(), "products": [{"reference_id": "SKU-0001", "quantity": "2"}]}
    )
    assert wrong_type.status_code == 400
    missing = client.post(
        "/1.0/order", json={k: v for k, v in order_body().items() if k != "shipping_method"}
    )
    assert missing.status_code == 400 and "shipping_method" in missing.json()
    assert client.get("/1.0/order", params={"Page": "first"}).status_code == 400


def test_business_rules_answer_422(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """A duplicate reference, an unknown product and a bad country are 422; nothing extra is created."""
    assert client.post("/1.0/order", json=order_body()).status_code == 201
    duplicate = client.post("/1.0/order", json=order_body())
    assert duplicate.status_code == 422 and "reference_id" in duplicate.json()
    unknown = client.post("/1.0/order", json=order_body("R-2", sku="GHOST"))
    assert unknown.status_code == 422 and "GHOST" in str(unknown.json())
    bad_country = order_body("R-3")
    bad_country["recipient"]["address"]["country"] = "XX"
    assert client.post("/1.0/order", json=bad_country).status_code == 422
    assert [o.reference for o in sandbox.warehouse.list_orders()] == ["R-1"]


def test_paging_headers(client: httpx.Client) -> None:
    """Lists are paged with Page/Limit and say how many pages there are and where the next one is."""
    first = client.get("/1.0/product", params={"Limit": 3, "Page": 1})
    last = client.get("/1.0/product", params={"Limit": 3, "Page": 3})
    assert (
        len(first.json()) == 3 and first.headers["Total-Pages"] == "3" and first.headers["Total-Count"] == "8"
    )
    assert "Page=2" in first.headers["Next-Page"]
    assert len(last.json()) == 2 and "Next-Page" not in last.headers


def test_rate_limit_window(client: httpx.Client, tick: Tick) -> None:
    """The 151st call in a minute is 429 with x-retry-after; after the window passes calls go again."""
    statuses = [client.get("/1.0/channel").status_code for _ in range(151)]
    assert statuses[:150] == [200] * 150 and statuses[150] == 429
    limited = client.get("/1.0/channel")
    assert limited.status_code == 429 and 1 <= int(limited.headers["x-retry-after"]) <= 60
    tick.now += 60.0
    assert client.get("/1.0/channel").status_code == 200


def test_accept_then_drop_creates_the_order(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """The accept-then-drop fault creates the order and closes the connection without a reply."""
    sandbox.inject("accept_then_drop", method="POST", path="/1.0/order")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/1.0/order", json=order_body("R-9"))
    assert sandbox.warehouse.find_by_reference("R-9") is not None


def test_injected_faults(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """Injected 429, 503, HTML and truncated replies happen once each, then the API is normal again."""
    for kind in ("429", "503", "html", "truncated"):
        sandbox.inject(kind, path="/1.0/channel")
    replies = [client.get("/1.0/channel") for _ in range(5)]
    assert [r.status_code for r in replies] == [429, 503, 200, 200, 200]
    assert replies[0].headers["x-retry-after"] == "5"
    assert replies[2].text.startswith("<html>")
    with pytest.raises(ValueError):
        replies[3].json()
    assert replies[4].json()[0]["id"] == sandbox.channel_id


def test_replies_match_the_spec_response_schemas(client: httpx.Client, sandbox: ShipBobSandbox) -> None:
    """Orders (open, shipped, cancelled), products and the cancel reply fit the spec's response schemas."""
    validator = SpecValidator()
    spec = validator.spec["paths"]
    client.post("/1.0/order", json=order_body("R-1"))
    client.post("/1.0/order", json=order_body("R-2"))
    sandbox.warehouse.ship("R-1", packages=2)
    cancel = client.post(f"/1.0/order/{sandbox.warehouse.find_by_reference('R-2').order_id}/cancel")  # type: ignore[union-attr]
    checks = [
        (client.get("/1.0/order").json(), spec["/1.0/order"]["get"]["responses"]["200"]["schema"]),
        (cancel.json(), spec["/1.0/order/{orderId}/cancel"]["post"]["responses"]["200"]["schema"]),
        (client.get("/1.0/product").json(), spec["/1.0/product"]["get"]["responses"]["200"]["schema"]),
        (client.get("/1.0/inventory").json(), spec["/1.0/inventory"]["get"]["responses"]["200"]["schema"]),
    ]
    for payload, schema in checks:
        assert validator.validate(payload, schema) == {}
    assert cancel.json()["status"] == "Success"
