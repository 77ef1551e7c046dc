"""Fault injection in the Linnworks sandbox: each kind, by count and by probability."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
import pytest

from sandbox.linnworks import LinnworksSandbox
from tests.sandbox_linnworks.conftest import Api


@pytest.mark.parametrize(
    ("style", "expected"),
    [("seconds", "7"), ("missing", None), ("garbage", "soon-ish")],
)
def test_injected_429_with_each_retry_after_style(api: Api, style: str, expected: str | None) -> None:
    """A rate_limit fault answers 429 with the quota body and Retry-After in the chosen style, once."""
    api.lw.add_fault("rate_limit", "Orders/GetOrdersById", retry_after=style, retry_after_seconds=7)
    refused = api.call("Orders/GetOrdersById", pkOrderIds=[])
    assert refused.status_code == 429
    assert refused.json()["Message"] == "API calls quota exceeded! Maximum admitted 250 per Minute."
    assert refused.headers.get("Retry-After") == expected
    assert api.call("Orders/GetOrdersById", pkOrderIds=[]).status_code == 200


def test_injected_429_with_http_date(api: Api) -> None:
    """Retry-After can be an HTTP date."""
    api.lw.add_fault("rate_limit", "*", retry_after="http_date", retry_after_seconds=30)
    refused = api.call("Inventory/GetStockLocations")
    assert parsedate_to_datetime(refused.headers["Retry-After"]).tzinfo is not None


def test_server_error_by_count(api: Api) -> None:
    """A server_error fault with count=2 fails the next two matching calls only."""
    api.lw.add_fault("server_error", "Inventory/GetStockLocations", count=2, status=502)
    statuses = [api.call("Inventory/GetStockLocations").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert api.lw.requests("Inventory/GetStockLocations")[0]["fault"] == "server_error"


def test_probability_faults_are_seeded(clock_free_sandbox_pair: tuple[list[int], list[int]]) -> None:
    """Probabilistic faults fire on the same calls for the same seed."""
    first, second = clock_free_sandbox_pair
    assert first == second
    assert 0 < first.count(503) < len(first)


@pytest.fixture
def clock_free_sandbox_pair(http: httpx.Client) -> tuple[list[int], list[int]]:
    runs: list[list[int]] = []
    for _ in range(2):
        with LinnworksSandbox(seed=11) as lw:
            api = Api(lw, http)
            api.login()
            lw.add_fault("server_error", "*", probability=0.5)
            runs.append([api.call("Inventory/GetStockLocations").status_code for _ in range(20)])
    return runs[0], runs[1]


def test_slow_reply_is_delayed_but_correct(api: Api) -> None:
    """A slow fault delays the reply past a short client timeout; the work is done."""
    api.lw.add_fault("slow", "OpenOrders/SaveIdentifier", delay_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        api.client.post(
            api.lw.data_url + "/api/OpenOrders/SaveIdentifier",
            data={"request": '{"Identifier": {"Tag": "SLOW"}}'},
            headers={"Authorization": str(api.token)},
            timeout=0.1,
        )
    assert any(ident["Tag"] == "SLOW" for ident in api.lw.identifiers())


def test_drop_before_does_no_work(api: Api) -> None:
    """drop_before closes the socket with no reply and the write never happens."""
    order_id = api.lw.create_orders(1)[0]
    api.lw.add_fault("drop_before", "Orders/ProcessOrder")
    with pytest.raises(httpx.RemoteProtocolError):
        api.call("Orders/ProcessOrder", orderId=order_id, scanPerformed=True)
    assert api.lw.order(order_id)["Processed"] is False


def test_drop_after_loses_the_reply_but_keeps_the_write(api: Api) -> None:
    """drop_after does the work, then closes the socket: the lost-reply case a client must reconcile."""
    order_id = api.lw.create_orders(1)[0]
    api.lw.add_fault("drop_after", "Orders/ProcessOrder")
    with pytest.raises(httpx.RemoteProtocolError):
        api.call("Orders/ProcessOrder", orderId=order_id, scanPerformed=True)
    assert api.lw.order(order_id)["Processed"] is True
    assert [c["status"] for c in api.lw.requests("Orders/ProcessOrder")] == [200]


def test_revoke_session_mid_run(api: Api) -> None:
    """revoke_session answers 401 and the token stays dead; a fresh login works."""
    api.lw.add_fault("revoke_session", "Orders/GetOrdersById")
    assert api.call("Orders/GetOrdersById", pkOrderIds=[]).status_code == 401
    assert api.call("Inventory/GetStockLocations").status_code == 401
    api.login()
    assert api.call("Orders/GetOrdersById", pkOrderIds=[]).status_code == 200


def test_wildcard_faults_spare_auth(api: Api) -> None:
    """A "*" fault applies to data methods, not to AuthorizeByApplication (which must be named)."""
    api.lw.add_fault("server_error", "*", count=5)
    api.login()
    api.lw.clear_faults()
    api.lw.add_fault("server_error", "Auth/AuthorizeByApplication")
    with pytest.raises(AssertionError):
        api.login()


def test_unknown_fault_kind_is_refused(lw: LinnworksSandbox) -> None:
    """Adding a fault of an unknown kind raises instead of silently doing nothing."""
    with pytest.raises(ValueError, match="unknown fault kind"):
        lw.add_fault("explode")
