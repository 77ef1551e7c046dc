"""Every request the ShipBob adapter sends conforms to the ShipBob 1.0 spec (sandbox/shipbob/spec.json).

The adapter runs against the sandbox over real sockets through a recording transport; afterwards each
request is checked on its own, more strictly than ShipBob does: the operation exists, the auth and
channel headers are there, every query parameter is one the spec names (exact spelling, since a misspelt
filter is silently ignored by the real API) with a valid value, and the body fits the schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig
from clients.threepl import CatalogueItem, SubmitOutcome
from sandbox.shipbob import ShipBobSandbox, SpecValidator
from sandbox.warehouse import Warehouse, WarehouseConfig
from tests.shipbob.helpers import make_order
from tests.threepl.harness import ManualClock


class Recorder(httpx.BaseTransport):
    """Forwards to the network and keeps a copy of every request; ``before`` may act first."""

    def __init__(self, before: Callable[[httpx.Request], None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []
        self.before = before

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        self.before(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def violations(request: httpx.Request, validator: SpecValidator, channel_id: int) -> list[str]:
    """What is wrong with one request, per the spec."""
    operation, path_params, _ = validator.find(request.method, request.url.path)
    if operation is None:
        return [f"{request.method} {request.url.path} is not in the spec"]
    problems: list[str] = []
    if not (request.headers.get("Authorization") or "").startswith("Bearer "):
        problems.append("no bearer token")
    if request.headers.get("shipbob_channel_id") != str(channel_id):
        problems.append("no shipbob_channel_id header")
    for parameter in operation.parameters("path"):
        problems += [
            f"{k}: {v}"
            for k, v in validator.validate_parameter(path_params[parameter["name"]], parameter).items()
        ]
    known = {p["name"]: p for p in operation.parameters("query")}
    for name, value in request.url.params.multi_items():
        if name not in known:
            problems.append(f"query parameter {name!r} is not in the spec")
        else:
            problems += [f"{k}: {v}" for k, v in validator.validate_parameter(value, known[name]).items()]
    schema = operation.body_schema
    if schema is not None:
        body: Any = json.loads(request.content)
        problems += [f"body {k}: {v}" for k, v in validator.validate(body, schema).items()]
    elif request.content:
        problems.append("a body on an operation that takes none")
    return problems


def test_every_request_the_adapter_sends_is_in_the_spec() -> None:
    """Orders, lookups, cancels, polls, products (incl. the batch fallback) and inventory all conform."""
    clock = ManualClock()
    warehouse = Warehouse(seed=5, clock=clock, config=WarehouseConfig.deterministic())
    warehouse.seed_catalogue(5, on_hand=(50, 50))
    warehouse.upsert_product("SKU-1", title="Widget")
    warehouse.set_on_hand("SKU-1", 20)

    def race_a_product_in(request: httpx.Request) -> None:
        # Another writer creates a SKU between our lookup and our batch create: the batch gets a 422.
        if request.url.path == "/1.0/product/batch" and warehouse.product("RACE-1") is None:
            warehouse.upsert_product("RACE-1", title="Raced in")

    recorder = Recorder(race_a_product_in)
    with ShipBobSandbox(warehouse=warehouse, rate_limits=False) as sandbox:
        config = ShipBobConfig(
            sandbox.url,
            SecretStr(sandbox.token),
            sandbox.channel_id,
            pace=False,
            retry=RetryPolicy(wait=False),
        )
        adapter = ShipBobAdapter(config, transport=recorder, clock=clock)
        assert adapter.submit_order(make_order("C-1")).outcome is SubmitOutcome.ACCEPTED
        assert adapter.submit_order(make_order("C-1")).outcome is SubmitOutcome.DUPLICATE
        assert (
            adapter.submit_order(
                make_order("C-2").model_copy(
                    update={"lines": [make_order().lines[0].model_copy(update={"sku": "NOPE"})]}
                )
            ).outcome
            is SubmitOutcome.REJECTED
        )
        adapter.submit_order(make_order("C-3"))
        warehouse.ship("C-1")
        clock.advance(timedelta(hours=1))
        page = adapter.poll_events(None)
        adapter.poll_events(page.checkpoint)
        adapter.ack(page.events)
        adapter.cancel_order("C-3", "customer")
        adapter.cancel_order("C-1", "too late")
        adapter.fetch_inventory()
        results = adapter.upsert_items(
            [
                CatalogueItem(sku="SKU-0001", title="Renamed", barcode="123"),
                CatalogueItem(sku="RACE-1", title="Raced in"),
                CatalogueItem(sku="NEW-1", title="New"),
            ]
        )
        adapter.close()
    assert all(result.ok for result in results), results
    validator = SpecValidator()
    problems = {
        f"{r.method} {r.url.path}?{r.url.query.decode()}": violations(r, validator, sandbox.channel_id)
        for r in recorder.requests
    }
    assert {key: found for key, found in problems.items() if found} == {}
    used = {(r.method, validator.find(r.method, r.url.path)[0].template) for r in recorder.requests}  # type: ignore[union-attr]
    assert used >= {
        ("POST", "/1.0/order"),
        ("GET", "/1.0/order"),
        ("POST", "/1.0/order/{orderId}/cancel"),
        ("GET", "/1.0/product"),
        ("POST", "/1.0/product/batch"),
        ("POST", "/1.0/product"),
        ("PUT", "/1.0/product/{productId}"),
    }


def test_the_check_catches_misspelt_parameters_and_unknown_fields() -> None:
    """The conformance check itself flags a misspelt filter, a missing channel and an unknown body field."""
    validator = SpecValidator()
    misspelt = httpx.Request(
        "GET",
        "http://x/1.0/order",
        params={"ReferenceId": "A"},
        headers={"Authorization": "Bearer t", "shipbob_channel_id": "1"},
    )
    assert violations(misspelt, validator, 1) == ["query parameter 'ReferenceId' is not in the spec"]
    extra = httpx.Request(
        "POST",
        "http://x/1.0/product",
        json={"reference_id": "A", "name": "A", "colour": "red"},
        headers={"Authorization": "Bearer t"},
    )
    found = violations(extra, validator, 1)
    assert "no shipbob_channel_id header" in found and any("colour" in problem for problem in found)
