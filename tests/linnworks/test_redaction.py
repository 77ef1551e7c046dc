"""Secrets and personal data never reach a log record or an exception text."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from clients.errors import Lw3plError
from clients.linnworks import CustomerAddress, OrderCustomerInfo, UpdateOrderShippingInfo

from .fakes import CANARY_SECRET, INSTALL_TOKEN, FakeLinnworks, fail, make_client, reply

ORDER = uuid.UUID("9af71b24-84f6-4400-90ef-f860b5bba0b2")
CANARY_ADDRESS = "42 Canary Wharf Lane"


def test_canary_secrets_never_logged_or_raised(caplog: pytest.LogCaptureFixture) -> None:
    """With DEBUG logging, successes and failures never show the secret, tokens or an address line."""
    caplog.set_level(logging.DEBUG, logger="lw3pl.linnworks")
    fake = FakeLinnworks(
        ok={"Orders/SetOrderCustomerInfo": reply(200, {"Currency": "GBP"})},
    )
    echo = reply(
        400, {"Message": f"bad token {INSTALL_TOKEN} secret {CANARY_SECRET}", "FullName": "Canary Person"}
    )
    fake.queue("Orders/SetOrderShippingInfo", echo)
    fake.queue("Orders/ProcessOrder", fail(httpx.ReadTimeout))
    client = make_client(fake)
    texts: list[str] = []
    info = OrderCustomerInfo(address=CustomerAddress(address1=CANARY_ADDRESS, full_name="Canary Person"))
    client.set_order_customer_info(ORDER, info)
    for call in (
        lambda: client.set_order_shipping_info(ORDER, UpdateOrderShippingInfo(tracking_number="T")),
        lambda: client.process_order(ORDER),
    ):
        with pytest.raises(Lw3plError) as raised:
            call()
        texts += [str(raised.value), repr(raised.value), str(raised.value.context)]
    fake.revoked.update(fake.tokens)
    client.get_stock_locations()  # re-auth path, also logged
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(client), repr(info)]
    assert any("SetOrderCustomerInfo" in text for text in texts), "DEBUG logging should have recorded calls"
    session_tokens = fake.tokens
    for text in texts:
        for canary in (CANARY_SECRET, INSTALL_TOKEN, CANARY_ADDRESS, "Canary Person", *session_tokens):
            assert canary not in text, f"{canary!r} leaked into: {text[:200]}"


def test_info_log_has_method_path_status_attempt(caplog: pytest.LogCaptureFixture) -> None:
    """Each attempt is logged at INFO with verb, path, status and attempt number."""
    caplog.set_level(logging.INFO, logger="lw3pl.linnworks")
    make_client(FakeLinnworks()).get_stock_locations()
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(
        line.startswith("Linnworks GET /api/Inventory/GetStockLocations -> 200 (attempt 1,") for line in lines
    )
