"""The ShipBob adapter's retry and error table, on reads (find_order) and on creates (submit_order)."""

from __future__ import annotations

import httpx
import pytest

from clients.errors import (
    AuthenticationError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitedError,
    RecordError,
    RetryableError,
    StopError,
)
from clients.shipbob import ApiVersionError
from clients.threepl import SubmitOutcome
from tests.shipbob.helpers import TOKEN, json_reply, make_order, order_json, script

OK_LIST = json_reply([order_json()])
CREATED = json_reply(order_json(), status=201)


def _request() -> httpx.Request:
    return httpx.Request("GET", "https://api.shipbob.test/2026-01/order")


TRANSIENT = [
    pytest.param(lambda: httpx.ConnectError("refused", request=_request()), id="connect-error"),
    pytest.param(lambda: httpx.ReadTimeout("slow", request=_request()), id="read-timeout"),
    pytest.param(lambda: httpx.RemoteProtocolError("dropped", request=_request()), id="dropped-reply"),
    pytest.param(lambda: json_reply({}, status=408), id="408"),
    pytest.param(lambda: json_reply({"": ["boom"]}, status=500), id="500"),
    pytest.param(lambda: httpx.Response(502, text="bad gateway"), id="502"),
    pytest.param(lambda: json_reply({}, status=503), id="503"),
    pytest.param(lambda: json_reply({}, status=504), id="504"),
    pytest.param(lambda: json_reply({}, status=429, headers={"x-retry-after": "3"}), id="429"),
    pytest.param(lambda: httpx.Response(200, text="<html>maintenance</html>"), id="html-200"),
    pytest.param(lambda: httpx.Response(200, text='[{"id": 5'), id="truncated-json"),
]


@pytest.mark.parametrize("fault", TRANSIENT)
def test_reads_retry_transient_faults(fault: object) -> None:
    """A read that meets a transient fault is repeated and then succeeds."""
    replies = script(fault(), OK_LIST)  # type: ignore[operator]
    found = replies.adapter().find_order("LW-1")
    assert found is not None and found.remote_id == "501"
    assert len(replies.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda: httpx.ReadTimeout("slow", request=_request()), id="read-timeout"),
        pytest.param(lambda: httpx.RemoteProtocolError("dropped", request=_request()), id="dropped-reply"),
        pytest.param(lambda: httpx.WriteError("broken pipe", request=_request()), id="write-error"),
        pytest.param(lambda: json_reply({}, status=408), id="408"),
        pytest.param(lambda: json_reply({"": ["boom"]}, status=500), id="500"),
        pytest.param(lambda: httpx.Response(502, text="bad gateway"), id="502"),
        pytest.param(lambda: json_reply({}, status=503), id="503"),
        pytest.param(lambda: json_reply({}, status=504), id="504"),
        pytest.param(lambda: httpx.Response(201, text="<html>ok</html>"), id="html-201"),
        pytest.param(lambda: httpx.Response(201, text='{"id": 5'), id="truncated-201"),
        pytest.param(lambda: json_reply({"id": "five"}, status=201), id="unreadable-id-201"),
    ],
)
def test_creates_are_never_repeated_when_they_may_have_landed(fault: object) -> None:
    """A create that may have reached ShipBob raises OutcomeUnknownError after exactly one request."""
    replies = script(fault(), CREATED)  # type: ignore[operator]
    with pytest.raises(OutcomeUnknownError) as caught:
        replies.adapter().submit_order(make_order())
    assert len(replies.requests) == 1
    assert caught.value.context is not None and caught.value.context.service == "shipbob"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda: httpx.ConnectError("refused", request=_request()), id="connect-error"),
        pytest.param(lambda: httpx.ConnectTimeout("no route", request=_request()), id="connect-timeout"),
        pytest.param(lambda: json_reply({}, status=429, headers={"x-retry-after": "1"}), id="429"),
    ],
)
def test_creates_retry_faults_where_shipbob_did_nothing(fault: object) -> None:
    """A create refused before ShipBob acted (no connection, rate limited) is sent again."""
    replies = script(fault(), CREATED)  # type: ignore[operator]
    result = replies.adapter().submit_order(make_order())
    assert result.outcome is SubmitOutcome.ACCEPTED and result.remote_id == "501"
    assert len(replies.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        pytest.param(401, AuthenticationError, id="401"),
        pytest.param(403, StopError, id="403"),
        pytest.param(404, ApiVersionError, id="404: the path is not in this version"),
        pytest.param(409, RecordError, id="409"),
        pytest.param(400, RecordError, id="400"),
    ],
)
def test_client_errors_on_reads_are_typed_and_not_retried(status: int, error: type[Exception]) -> None:
    """Client errors raise their typed error once, with status, and without the token."""
    replies = script(json_reply({"": ["nope"]}, status=status, headers={"x-request-id": "req-77"}))
    with pytest.raises(error) as caught:
        replies.adapter().find_order("LW-1")
    assert len(replies.requests) == 1
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert "req-77" in str(caught.value) and TOKEN not in str(caught.value)


def test_retries_are_bounded() -> None:
    """A read that keeps failing gives up after max_attempts with a retryable error naming the status."""
    replies = script(json_reply({}, status=503))
    with pytest.raises(RetryableError) as caught:
        replies.adapter(max_attempts=3).find_order("LW-1")
    assert len(replies.requests) == 3
    assert caught.value.status == 503


def test_unreadable_reads_end_as_malformed() -> None:
    """A read that keeps answering HTML is reported as malformed after the attempts run out."""
    replies = script(httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(MalformedResponseError):
        replies.adapter(max_attempts=2).find_order("LW-1")
    assert len(replies.requests) == 2


def test_create_422_is_rejected_with_issues() -> None:
    """A 422 about the address comes back as a rejected result with the field and message."""
    body = {"recipient.address.country": ["'XX' is not a valid ISO 3166 country code."]}
    replies = script(json_reply(body, status=422))
    result = replies.adapter().submit_order(make_order())
    assert result.outcome is SubmitOutcome.REJECTED
    assert result.issues[0].field == "recipient.address.country"
    assert len(replies.requests) == 1


def test_create_422_unknown_product_names_the_sku() -> None:
    """A 422 on a product line names the line's SKU even when ShipBob's message does not."""
    replies = script(json_reply({"products[0].reference_id": ["Product not found."]}, status=422))
    result = replies.adapter().submit_order(make_order())
    assert result.outcome is SubmitOutcome.REJECTED and "SKU-1" in result.reason()


def test_duplicate_reference_is_confirmed_by_lookup() -> None:
    """A 422 about the reference becomes DUPLICATE with the id the lookup finds."""
    duplicate = json_reply({"reference_id": ["Order with reference_id 'LW-1' already exists."]}, status=422)
    replies = script(duplicate, json_reply([order_json(order_id=777)]))
    result = replies.adapter().submit_order(make_order())
    assert result.outcome is SubmitOutcome.DUPLICATE and result.remote_id == "777"
    assert replies.requests[1].url.params["ReferenceIds"] == "LW-1"


def test_duplicate_claim_without_an_order_is_rejected() -> None:
    """A 'duplicate' 422 whose lookup finds nothing is a rejection, not a made-up duplicate."""
    duplicate = json_reply({"reference_id": ["Duplicate reference id."]}, status=422)
    replies = script(duplicate, json_reply([]))
    result = replies.adapter().submit_order(make_order())
    assert result.outcome is SubmitOutcome.REJECTED and result.remote_id is None


def test_rate_limit_gives_up_as_rate_limited() -> None:
    """Repeated 429s end in RateLimitedError carrying the server's wait."""
    replies = script(json_reply({}, status=429, headers={"x-retry-after": "2"}))
    with pytest.raises(RateLimitedError) as caught:
        replies.adapter(max_attempts=2).find_order("LW-1")
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_reply_that_the_version_is_retired_stops_at_once(status: int) -> None:
    """ShipBob saying the version is retired (whatever the 4xx) is one ApiVersionError, not a retry or a
    refused record; a 404 the caller expects (cancel of an unknown order) stays a result."""
    body = {"title": "API version retired", "detail": "API version 2026-01 is no longer supported."}
    replies = script(json_reply(body, status=status))
    with pytest.raises(ApiVersionError) as caught:
        replies.adapter().find_order("LW-1")
    assert len(replies.requests) == 1
    assert "SHIPBOB_API_VERSION" in str(caught.value) and "developer.shipbob.com/versioning" in str(
        caught.value
    )


def test_the_version_must_be_a_shipbob_date_version() -> None:
    """'1.0' (retired) or a typo is refused when the adapter is configured, naming the setting."""
    for wrong in ("1.0", "2026-1", "latest"):
        with pytest.raises(ValueError, match="SHIPBOB_API_VERSION"):
            script().adapter(api_version=wrong)
