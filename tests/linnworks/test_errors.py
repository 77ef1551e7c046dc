"""The retry and error matrix: every fault, on a read, an idempotent write and a non-idempotent write."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from clients.errors import (
    AuthenticationError,
    Lw3plError,
    OutcomeUnknownError,
    RateLimitedError,
    RecordError,
    RetryableError,
    StopError,
)
from clients.linnworks import LinnworksClient, RetryPolicy, UpdateOrderShippingInfo

from .fakes import Action, FakeClock, FakeLinnworks, fail, make_client, reply

ORDER = uuid.UUID("9af71b24-84f6-4400-90ef-f860b5bba0b2")


@dataclass(frozen=True)
class Kind:
    """One class of call: which endpoint, how to call it, and its success reply."""

    name: str
    endpoint: str
    call: Callable[[LinnworksClient], Any]
    ok: Action


READ = Kind("read", "Inventory/GetStockLocations", lambda c: c.get_stock_locations(), reply(200, []))
IDEMPOTENT = Kind(
    "idempotent-write",
    "Orders/SetOrderShippingInfo",
    lambda c: c.set_order_shipping_info(ORDER, UpdateOrderShippingInfo(tracking_number="T1")),
    reply(200, {"TotalsInfo": None, "ShippingInfo": {"TrackingNumber": "T1"}}),
)
UNSAFE = Kind(
    "non-idempotent-write",
    "Orders/ProcessOrder",
    lambda c: c.process_order(ORDER),
    reply(200, {"OrderId": str(ORDER), "Processed": True, "Error": None}),
)

BUSINESS = reply(400, {"Code": "-", "Message": "Order is processed"})

# fault id -> (action, outcome on read / idempotent write, outcome on non-idempotent write)
# outcome: "ok" = retried and succeeded, or the error class raised at once.
FAULTS: dict[str, tuple[Action, Any, Any]] = {
    "connect-error": (fail(httpx.ConnectError), "ok", "ok"),
    "connect-timeout": (fail(httpx.ConnectTimeout), "ok", "ok"),
    "read-timeout": (fail(httpx.ReadTimeout), "ok", OutcomeUnknownError),
    "dropped-connection": (fail(httpx.RemoteProtocolError), "ok", OutcomeUnknownError),
    "408": (reply(408, {"Message": "timeout"}), "ok", OutcomeUnknownError),
    "409": (reply(409, {"Message": "conflict"}), RecordError, RecordError),
    "429": (reply(429, {"Message": "slow down"}, headers={"Retry-After": "3"}), "ok", "ok"),
    "500": (reply(500, {"Message": "An error has occurred."}), "ok", OutcomeUnknownError),
    "502": (reply(502, text="<html>Bad gateway</html>"), "ok", OutcomeUnknownError),
    "503": (reply(503, text="Service Unavailable"), "ok", OutcomeUnknownError),
    "504": (reply(504, text="Gateway Timeout"), "ok", OutcomeUnknownError),
    "400": (BUSINESS, RecordError, RecordError),
    "401-once": (reply(401, {"Message": "Authorization has been denied for this request."}), "ok", "ok"),
    "403": (reply(403, {"Message": "Forbidden"}), StopError, StopError),
    "404": (reply(404, text="<html>Not found</html>"), StopError, StopError),
    "422": (reply(422, {"Message": "Unprocessable"}), RecordError, RecordError),
}

CASES = [
    pytest.param(kind, fault, expected, id=f"{kind.name}-{fault}")
    for kind in (READ, IDEMPOTENT, UNSAFE)
    for fault, (_, on_safe, on_unsafe) in FAULTS.items()
    for expected in [on_unsafe if kind is UNSAFE else on_safe]
]


@pytest.mark.parametrize(("kind", "fault", "expected"), CASES)
def test_fault_once_then_success(kind: Kind, fault: str, expected: Any) -> None:
    """One fault is retried to success only where a repeat is harmless, else the right error is raised."""
    fake = FakeLinnworks(ok={kind.endpoint: kind.ok})
    fake.queue(kind.endpoint, FAULTS[fault][0])
    with make_client(fake) as client:
        if expected == "ok":
            kind.call(client)
            assert len(fake.data_calls(kind.endpoint)) == 2
        else:
            with pytest.raises(expected) as raised:
                kind.call(client)
            assert len(fake.data_calls(kind.endpoint)) == 1, "an error that is not retried is sent once"
            assert raised.value.context is not None
            assert raised.value.context.service == "linnworks"
            assert raised.value.context.path == f"/api/{kind.endpoint}"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param("connect-error", RetryableError, id="connect-error"),
        pytest.param("read-timeout", RetryableError, id="read-timeout"),
        pytest.param("500", RetryableError, id="500"),
        pytest.param("503", RetryableError, id="503"),
        pytest.param("429", RateLimitedError, id="429"),
    ],
)
def test_persistent_fault_on_read_gives_up_after_attempt_cap(fault: str, error: type[Lw3plError]) -> None:
    """A fault that never clears is tried max_attempts times, then raised as a retryable error."""
    fake = FakeLinnworks()
    fake.queue(READ.endpoint, *[FAULTS[fault][0]] * 10)
    client = make_client(fake, retry=RetryPolicy(max_attempts=3, max_total_seconds=600.0, wait=False))
    with pytest.raises(error):
        client.get_stock_locations()
    assert len(fake.data_calls(READ.endpoint)) == 3


def test_persistent_401_raises_authentication_error_after_one_reauth() -> None:
    """Two 401s in a row re-authenticate once, repeat once, then raise AuthenticationError."""
    fake = FakeLinnworks()
    denied = reply(401, {"Message": "Authorization has been denied for this request."})
    fake.queue(READ.endpoint, denied, denied, denied)
    client = make_client(fake)
    with pytest.raises(AuthenticationError) as raised:
        client.get_stock_locations()
    assert len(fake.data_calls()) == 2
    assert len(fake.auth_calls()) == 2
    assert "LINNWORKS_INSTALLATION_TOKEN" in str(raised.value)


def test_unsafe_429_is_retried_because_nothing_ran() -> None:
    """A 429 on a non-idempotent write is repeated: the rate limiter refused it before it ran."""
    fake = FakeLinnworks(ok={UNSAFE.endpoint: UNSAFE.ok})
    fake.queue(
        UNSAFE.endpoint, reply(429, {"Message": "API calls quota exceeded! Maximum admitted 250 per Minute."})
    )
    clock = FakeClock()
    with make_client(fake, clock) as client:
        assert client.process_order(ORDER).processed
    assert len(fake.data_calls(UNSAFE.endpoint)) == 2


def test_record_error_carries_linnworks_message_and_status() -> None:
    """A 400 business error becomes a RecordError with Linnworks' Message and the status in its context."""
    fake = FakeLinnworks()
    fake.queue(IDEMPOTENT.endpoint, BUSINESS)
    with pytest.raises(RecordError) as raised:
        IDEMPOTENT.call(make_client(fake))
    assert "Order is processed" in raised.value.message
    assert raised.value.status == 400


def test_request_id_header_is_kept_in_context() -> None:
    """The partner's request id (if any header carries one) is in the error context."""
    fake = FakeLinnworks()
    fake.queue(READ.endpoint, reply(403, {"Message": "no"}, headers={"X-Request-Id": "req-42"}))
    with pytest.raises(StopError) as raised:
        make_client(fake).get_stock_locations()
    assert raised.value.context is not None
    assert raised.value.context.request_id == "req-42"


def test_outcome_unknown_names_the_endpoint() -> None:
    """A lost reply to a process call says which call and what to do."""
    fake = FakeLinnworks()
    fake.queue(UNSAFE.endpoint, fail(httpx.ReadTimeout))
    with pytest.raises(OutcomeUnknownError, match=r"Orders/ProcessOrder.*look the record up"):
        make_client(fake).process_order(ORDER)


def test_non_idempotent_new_identifier_is_not_retried_but_update_is() -> None:
    """SaveIdentifier creating (id 0) is unsafe after a lost reply; updating an existing id is retried."""
    from clients.linnworks import Identifier

    saved = reply(
        200, {"IdentifierId": 5, "IsCustom": True, "ImageId": None, "ImageUrl": None, "Tag": "T", "Name": "T"}
    )
    fake = FakeLinnworks(ok={"OpenOrders/SaveIdentifier": saved})
    fake.queue("OpenOrders/SaveIdentifier", fail(httpx.ReadTimeout))
    client = make_client(fake)
    with pytest.raises(OutcomeUnknownError):
        client.save_identifier(Identifier(tag="T", name="T"))
    fake.queue("OpenOrders/SaveIdentifier", fail(httpx.ReadTimeout))
    assert client.save_identifier(Identifier(identifier_id=5, tag="T", name="T")).identifier_id == 5
