"""Opt-in smoke test against ShipBob's own sandbox (https://sandbox-api.shipbob.com): create, find, cancel.

It uses the adapter exactly as a run does (same config, request builders, transport and error mapping),
so a pass means the token, the channel and ``SHIPBOB_API_VERSION`` work against ShipBob itself, not only
against lw3pl's emulation. Set ``SHIPBOB_SANDBOX_TOKEN`` and ``SHIPBOB_SANDBOX_CHANNEL_ID`` to run it
(``SHIPBOB_SANDBOX_SKU`` optionally names a product that exists there; ShipBob creates an unknown one from
the line's name). Without them the test is skipped with the reason; see docs/operations.md.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from clients.shipbob import DEFAULT_API_VERSION, ShipBobAdapter, ShipBobConfig
from clients.threepl import Address, CancelOutcome, FulfilmentOrder, OrderLine, SubmitOutcome

SANDBOX_HOST = "https://sandbox-api.shipbob.com"
REQUIRED = ("SHIPBOB_SANDBOX_TOKEN", "SHIPBOB_SANDBOX_CHANNEL_ID")
MISSING = [name for name in REQUIRED if not os.environ.get(name)]

pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"live ShipBob smoke test: set {' and '.join(MISSING)} to run it against {SANDBOX_HOST}",
)


@pytest.fixture
def adapter() -> Iterator[ShipBobAdapter]:
    config = ShipBobConfig(
        base_url=SANDBOX_HOST,
        token=SecretStr(os.environ["SHIPBOB_SANDBOX_TOKEN"]),
        channel_id=int(os.environ["SHIPBOB_SANDBOX_CHANNEL_ID"]),
        api_version=os.environ.get("SHIPBOB_API_VERSION") or DEFAULT_API_VERSION,
    )
    live = ShipBobAdapter(config)
    yield live
    live.close()


def smoke_order() -> FulfilmentOrder:
    """A one-line DTC order to ShipBob's own example address, under a reference no run reuses."""
    return FulfilmentOrder(
        reference=f"lw3pl-smoke-{uuid.uuid4()}",
        display_ref="lw3pl smoke test",
        ship_to=Address(
            name="lw3pl smoke test",
            line1="100 N Racine Ave",
            line2="Suite 100",
            city="Chicago",
            region="IL",
            postcode="60607",
            country_code="US",
        ),
        service_code="Standard",
        lines=[
            OrderLine(
                line_ref="1",
                sku=os.environ.get("SHIPBOB_SANDBOX_SKU") or "LW3PL-SMOKE",
                quantity=1,
                title="lw3pl smoke test item",
            )
        ],
        currency="USD",
        received_at=datetime.now(UTC),
    )


def test_create_find_and_cancel_on_shipbobs_sandbox(adapter: ShipBobAdapter) -> None:
    """The order is accepted, found by its reference under the same id, and cancelled."""
    order = smoke_order()
    created = adapter.submit_order(order)
    assert created.outcome is SubmitOutcome.ACCEPTED, created.issues
    found = adapter.find_order(order.reference)
    assert found is not None and found.remote_id == created.remote_id
    cancelled = adapter.cancel_order(order.reference, "lw3pl live smoke test")
    assert cancelled.outcome is CancelOutcome.CANCELLED, cancelled.detail
    again = adapter.find_order(order.reference)
    assert again is not None and again.status == "Cancelled"
