"""Every request the ShipBob adapter sends conforms to the ShipBob 2026-01 spec (sandbox/shipbob/spec.json).

The adapter runs against the sandbox over real sockets through a recording transport; afterwards each
request is checked on its own, more strictly than ShipBob does: the operation exists, the auth and
channel headers are there, every query parameter is one the spec names (exact spelling, since a misspelt
filter is silently ignored by the real API) with a valid value, and the body fits the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import httpx
from pydantic import SecretStr

from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig
from clients.shipbob.adapter import USER_AGENT
from clients.threepl import CancelOutcome, CatalogueItem, EventKind, SubmitOutcome, WrittenTracking
from sandbox._http import HttpRequest
from sandbox.shipbob import VERSION, ShipBobSandbox, SpecValidator
from sandbox.warehouse import Warehouse, WarehouseConfig
from tests.shipbob.conformance import problems_in, violations
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


def request_violations(request: httpx.Request, validator: SpecValidator) -> list[str]:
    query = request.url.params.multi_items()
    return violations(request.method, request.url.path, query, request.headers, request.content, validator)


# Every operation of the spec subset the adapter calls (templates as in sandbox/shipbob/spec.json).
ADAPTER_OPERATIONS = {
    ("POST", f"/{VERSION}/order"),
    ("GET", f"/{VERSION}/order"),
    ("POST", f"/{VERSION}/order/{{orderId}}:cancel"),
    ("POST", f"/{VERSION}/shipment:batchUpdateTrackingUpload"),
    ("GET", f"/{VERSION}/product"),
    ("POST", f"/{VERSION}/product"),
    ("PATCH", f"/{VERSION}/product/{{productId}}"),
    ("GET", f"/{VERSION}/inventory-level"),
}


def test_every_request_the_adapter_sends_is_in_the_spec() -> None:
    """Orders, lookups, cancels, the tracking queue and its acknowledgement, products (create, update,
    a create that races another writer) and paged inventory all conform, and every operation is used."""
    clock = ManualClock()
    warehouse = Warehouse(seed=5, clock=clock, config=WarehouseConfig.deterministic())
    warehouse.seed_catalogue(260, on_hand=(50, 50))  # more than one 250-item page of stock levels
    warehouse.upsert_product("SKU-1", title="Widget")
    warehouse.set_on_hand("SKU-1", 20)

    def race_a_product_in(request: httpx.Request) -> None:
        # Another writer creates a SKU between our catalogue read and our create: the create gets a 422.
        creating = request.method == "POST" and request.url.path.endswith("/product")
        if creating and warehouse.product("RACE-1") is None:
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
        _exercise(adapter, warehouse, clock)
        adapter.close()
    validator = SpecValidator()
    problems = {
        f"{r.method} {r.url.path}?{r.url.query.decode()}": request_violations(r, validator)
        for r in recorder.requests
    }
    assert {key: found for key, found in problems.items() if found} == {}
    used = {(r.method, validator.find(r.method, r.url.path)[0].template) for r in recorder.requests}  # type: ignore[union-attr]
    assert used == ADAPTER_OPERATIONS


def _exercise(adapter: ShipBobAdapter, warehouse: Warehouse, clock: ManualClock) -> None:
    assert adapter.submit_order(make_order("C-1")).outcome is SubmitOutcome.ACCEPTED
    assert adapter.submit_order(make_order("C-1")).outcome is SubmitOutcome.DUPLICATE
    ghost = make_order("C-2").lines[0].model_copy(update={"sku": "NOPE"})
    assert adapter.submit_order(make_order("C-2").model_copy(update={"lines": [ghost]})).outcome is (
        SubmitOutcome.REJECTED
    )
    usd = make_order("C-4").model_copy(update={"currency": "USD", "goods_total": Decimal("19.99")})
    assert adapter.submit_order(usd).outcome is SubmitOutcome.ACCEPTED
    warehouse.ship("C-1")
    clock.advance(timedelta(hours=1))
    page = adapter.poll_events(None)
    adapter.poll_events(page.checkpoint)
    shipped = next(e for e in page.events if e.kind is EventKind.SHIPMENT)
    assert shipped.shipment is not None
    numbers = tuple(package.tracking_number for package in shipped.shipment.packages)
    adapter.confirm_tracking(
        [
            WrittenTracking(
                reference="C-1",
                remote_id=shipped.remote_id,
                tracking_numbers=numbers,
                shipment_ids=(shipped.shipment.shipment_id,),
            )
        ]
    )
    adapter.submit_order(make_order("C-3"))
    assert adapter.cancel_order("C-3", "customer").outcome is CancelOutcome.CANCELLED
    assert adapter.cancel_order("C-1", "too late").outcome is CancelOutcome.TOO_LATE
    assert len(adapter.fetch_inventory().levels) == 261
    results = adapter.upsert_items(
        [
            CatalogueItem(sku="SKU-0001", title="Renamed", barcode="123"),
            CatalogueItem(sku="RACE-1", title="Raced in"),
            CatalogueItem(sku="NEW-1", title="New"),
        ]
    )
    assert [result.detail for result in results] == ["updated", "exists", "created"], results


def test_the_check_catches_misspelt_parameters_and_unknown_fields() -> None:
    """The conformance check itself flags a misspelt filter, a missing channel and an unknown body field."""
    validator = SpecValidator()
    misspelt = httpx.Request(
        "GET",
        f"http://x/{VERSION}/order",
        params={"ReferenceId": "A"},
        headers={"Authorization": "Bearer t", "shipbob_channel_id": "1"},
    )
    assert request_violations(misspelt, validator) == ["query parameter 'ReferenceId' is not in the spec"]
    extra = httpx.Request(
        "POST",
        f"http://x/{VERSION}/product",
        json={"name": "A", "variants": [{"sku": "A", "name": "A"}], "colour": "red"},
        headers={"Authorization": "Bearer t"},
    )
    found = request_violations(extra, validator)
    assert "no shipbob_channel_id header" in found and any("colour" in problem for problem in found)


def test_the_session_check_flags_the_adapters_bad_requests_only() -> None:
    """The end-of-run check reads the adapter's requests (by User-Agent) in this version, nothing else."""
    headers = {
        "Authorization": "Bearer t",
        "shipbob_channel_id": "7",
        "User-Agent": f"{USER_AGENT}/{VERSION}",
    }
    misspelt = HttpRequest("GET", f"/{VERSION}/order", {"ReferenceId": ["A"]}, headers, b"")
    good = HttpRequest("GET", f"/{VERSION}/order", {"ReferenceIds": ["A"]}, headers, b"")
    by_hand = HttpRequest("GET", f"/{VERSION}/order", {"Nope": ["1"]}, {"Authorization": "Bearer t"}, b"")
    other_version = HttpRequest("GET", "/2019-01/order", {}, headers, b"")
    found = problems_in([misspelt, good, by_hand, other_version], SpecValidator())
    assert found == {f"GET /{VERSION}/order": ["query parameter 'ReferenceId' is not in the spec"]}
    assert ShipBobSandbox.journal is not None, "the root conftest journals this run"
