"""``clients._http``: the outcome classification both HTTP clients (Linnworks, ShipBob) share."""

from __future__ import annotations

import httpx
import pytest

from clients._http import is_transient_status, never_sent, request_id


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        pytest.param(408, True, id="408-request-timeout"),
        pytest.param(500, True, id="500"),
        pytest.param(503, True, id="503"),
        pytest.param(599, True, id="unlisted-5xx"),
        pytest.param(400, False, id="400"),
        pytest.param(404, False, id="404"),
        pytest.param(429, False, id="429-is-rate-limiting-not-transient"),
    ],
)
def test_transient_statuses(status: int, transient: bool) -> None:
    """408 and every 5xx are worth another attempt; other 4xx are not."""
    assert is_transient_status(status) is transient


def _request() -> httpx.Request:
    return httpx.Request("GET", "https://partner.test/x")


@pytest.mark.parametrize(
    ("error", "unsent"),
    [
        pytest.param(httpx.ConnectError("refused", request=_request()), True, id="connect-error"),
        pytest.param(httpx.ConnectTimeout("slow", request=_request()), True, id="connect-timeout"),
        pytest.param(httpx.PoolTimeout("busy", request=_request()), True, id="pool-timeout"),
        pytest.param(httpx.ReadTimeout("slow", request=_request()), False, id="read-timeout"),
        pytest.param(httpx.WriteTimeout("slow", request=_request()), False, id="write-timeout"),
        pytest.param(httpx.RemoteProtocolError("dropped", request=_request()), False, id="dropped-reply"),
    ],
)
def test_never_sent_only_without_a_connection(error: httpx.HTTPError, unsent: bool) -> None:
    """Only failures before a connection existed mean the partner certainly did nothing."""
    assert never_sent(error) is unsent


def test_request_id_takes_the_first_non_empty_header_in_the_given_order() -> None:
    """The client's header order decides, and an empty header is skipped."""
    headers = httpx.Headers({"X-Request-Id": "", "X-Correlation-Id": "corr-1", "Request-Id": "req-2"})
    assert request_id(headers, ("x-request-id", "x-correlation-id", "request-id")) == "corr-1"
    assert request_id(headers, ("traceparent",)) is None
