"""Helpers for the ShipBob adapter unit tests: a scripted httpx transport, canned ShipBob JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig
from clients.threepl import Address, FulfilmentOrder, OrderLine

TOKEN = "sbpat-canary-7f3a9c"  # a planted secret: must never appear in errors or logs
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class Script:
    """Replies in order; the last one repeats. Records every request and every sleep."""

    steps: list[Step]
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests) - 1, len(self.steps) - 1)]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def adapter(self, *, max_attempts: int = 4, **config: Any) -> ShipBobAdapter:
        settings = ShipBobConfig(
            base_url="https://api.shipbob.test",
            token=SecretStr(TOKEN),
            channel_id=4242,
            pace=False,
            retry=RetryPolicy(max_attempts=max_attempts, base_delay=0.5),
            **config,
        )
        return ShipBobAdapter(
            settings, transport=httpx.MockTransport(self.handle), sleep=self.sleeps.append, clock=lambda: NOW
        )


def script(*steps: Step) -> Script:
    """A Script that answers with ``steps`` in order."""
    return Script(list(steps))


def order_json(
    order_id: int = 501,
    reference: str = "LW-1",
    status: str = "Processing",
    shipments: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": order_id,
        "reference_id": reference,
        "status": status,
        "created_date": "2026-03-02T09:00:00Z",
        "shipments": shipments or [],
        "some_future_field": {"ignored": True},
    }


def parcel_json(shipment_id: int = 9001, tracking: str | None = "1Z999", quantity: Any = 2) -> dict[str, Any]:
    tracking_view: dict[str, Any] = {"carrier": "UPS", "carrier_service": "Ground"}
    if tracking is not None:
        tracking_view["tracking_number"] = tracking
    return {
        "id": shipment_id,
        "status": "Completed",
        "actual_fulfillment_date": "2026-03-02T10:00:00Z",
        "last_update_at": "2026-03-02T10:00:00Z",
        "tracking": tracking_view,
        "products": [
            {"id": 7, "reference_id": "SKU-1", "inventory_items": [{"id": 7, "quantity": quantity}]}
        ],
    }


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def make_order(reference: str = "LW-1") -> FulfilmentOrder:
    return FulfilmentOrder(
        reference=reference,
        display_ref="1001",
        ship_to=Address(name="Ada", line1="1 High St", city="Leeds", postcode="LS1 1AA", country_code="gb"),
        service_code="Standard",
        lines=[OrderLine(line_ref="r1", sku="SKU-1", quantity=2, title="Widget")],
    )
