"""429 handling: Retry-After as seconds, HTTP date, missing, garbage, absurd; quota text in a 4xx body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clients.errors import RateLimitedError
from clients.linnworks import RetryPolicy, SpacingPacer, parse_retry_after

from .fakes import FakeClock, FakeLinnworks, make_client, reply

QUOTA = {"Message": "API calls quota exceeded! Maximum admitted 150 per Minute."}
DATE = "Fri, 27 Nov 2026 09:00:00 GMT"


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        pytest.param({"Retry-After": "7"}, 7.0, id="seconds"),
        pytest.param({"Retry-After": "2.5"}, 2.5, id="fractional-seconds"),
        pytest.param({"Retry-After": "Fri, 27 Nov 2026 09:00:12 GMT", "Date": DATE}, 12.0, id="http-date"),
        pytest.param({"Retry-After": "0"}, 0.0, id="zero"),
    ],
)
def test_retry_after_is_honoured(headers: dict[str, str], expected_wait: float) -> None:
    """The client sleeps exactly what Retry-After says before repeating the call."""
    fake, clock = FakeLinnworks(), FakeClock()
    fake.queue("Inventory/GetStockLocations", reply(429, QUOTA, headers=headers))
    make_client(fake, clock).get_stock_locations()
    assert clock.sleeps == ([expected_wait] if expected_wait else [])
    assert len(fake.data_calls()) == 2


@pytest.mark.parametrize(
    "headers", [pytest.param({}, id="missing"), pytest.param({"Retry-After": "soon-ish"}, id="garbage")]
)
def test_unusable_retry_after_falls_back_to_backoff(headers: dict[str, str]) -> None:
    """Without a readable Retry-After the jittered backoff (0.25-0.5 s for the first retry) is used."""
    fake, clock = FakeLinnworks(), FakeClock()
    fake.queue("Inventory/GetStockLocations", reply(429, QUOTA, headers=headers))
    make_client(fake, clock).get_stock_locations()
    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.5


def test_absurd_retry_after_is_capped() -> None:
    """A Retry-After of a day is capped to the policy's maximum (120 s)."""
    fake, clock = FakeLinnworks(), FakeClock()
    fake.queue("Inventory/GetStockLocations", reply(429, QUOTA, headers={"Retry-After": "86400"}))
    make_client(fake, clock).get_stock_locations()
    assert clock.sleeps == [120.0]


def test_retry_after_beyond_time_budget_raises_rate_limited() -> None:
    """When waiting would exceed the total-time budget the call raises RateLimitedError with retry_after."""
    fake, clock = FakeLinnworks(), FakeClock()
    fake.queue("Inventory/GetStockLocations", reply(429, QUOTA, headers={"Retry-After": "86400"}))
    client = make_client(fake, clock, retry=RetryPolicy(max_total_seconds=60.0))
    with pytest.raises(RateLimitedError) as raised:
        client.get_stock_locations()
    assert raised.value.retry_after == 120.0, "callers get the capped wait, not a day"
    assert clock.sleeps == []


def test_a_429_defers_the_pacer_of_that_method_as_shipbob_does() -> None:
    """After a 429 with Retry-After 30 the method's next slot is 30 s out; other methods go on."""
    fake, clock, pacer_clock = FakeLinnworks(), FakeClock(), FakeClock()
    pacer = SpacingPacer(clock=pacer_clock, sleep=pacer_clock.sleep)  # its own clock: the pacer's wait shows
    fake.queue("Inventory/GetStockLocations", reply(429, QUOTA, headers={"Retry-After": "30"}))
    make_client(fake, clock, pacer=pacer).get_stock_locations()
    assert clock.sleeps == [30.0]
    assert pacer_clock.sleeps == [30.0], "the repeat (and every other caller) waited for the deferred slot"
    pacer.acquire("Orders/GetOrderById", 250)
    assert pacer_clock.sleeps == [30.0], "another method's budget is not deferred"


def test_quota_text_in_400_body_is_rate_limiting() -> None:
    """Linnworks' quota message on a non-429 status is treated as a 429."""
    fake, clock = FakeLinnworks(), FakeClock()
    fake.queue("Inventory/GetStockLocations", reply(400, QUOTA, headers={"Retry-After": "4"}))
    make_client(fake, clock).get_stock_locations()
    assert clock.sleeps == [4.0]


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        pytest.param("12", None, 12.0, id="integer"),
        pytest.param("-3", None, None, id="negative-is-unusable"),
        pytest.param("inf", None, None, id="infinite-is-unusable"),
        pytest.param(None, None, None, id="missing"),
        pytest.param("", None, None, id="empty"),
        pytest.param("later", None, None, id="garbage"),
        pytest.param("Fri, 27 Nov 2026 09:01:00 GMT", DATE, 60.0, id="date-vs-date-header"),
        pytest.param("Fri, 27 Nov 2026 08:59:00 GMT", DATE, 0.0, id="date-in-the-past"),
    ],
)
def test_parse_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    """Retry-After parses as seconds or as an HTTP date relative to the reply's Date header."""
    assert parse_retry_after(value, date) == expected


def test_parse_retry_after_date_without_date_header_uses_now() -> None:
    """An HTTP-date Retry-After without a Date header is measured from the given current time."""
    now = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:30 GMT", None, now) == 30.0
