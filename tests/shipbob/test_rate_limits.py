"""x-retry-after handling and the client-side pacer that keeps ShipBob's 150/minute window."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from clients.errors import RateLimitedError
from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig, SpacingPacer, parse_retry_after
from tests.shipbob.helpers import TOKEN, json_reply, order_json, script


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param({"x-retry-after": "7"}, [7.0], id="seconds"),
        pytest.param({"x-retry-after": "100000"}, [90.0], id="absurd-capped"),
    ],
)
def test_retry_after_is_honoured_and_capped(header: dict[str, str], expected: list[float]) -> None:
    """The wait after a 429 is the server's x-retry-after, capped at the policy's maximum."""
    replies = script(json_reply({}, status=429, headers=header), json_reply([order_json()]))
    replies.adapter().find_order("LW-1")
    assert replies.sleeps == expected


@pytest.mark.parametrize(
    "header", [{}, {"x-retry-after": "soon"}, {"x-retry-after": "-4"}], ids=["missing", "garbage", "negative"]
)
def test_unusable_retry_after_falls_back_to_backoff(header: dict[str, str]) -> None:
    """Without a usable x-retry-after the adapter backs off with jitter in [base/2, base]."""
    replies = script(json_reply({}, status=429, headers=header), json_reply([order_json()]))
    replies.adapter().find_order("LW-1")
    assert len(replies.sleeps) == 1 and 0.25 <= replies.sleeps[0] <= 0.5


def test_retry_after_scales_with_time_scale() -> None:
    """Against a sandbox running ten times faster, a 20-second wait sleeps 2 real seconds."""
    replies = script(json_reply({}, status=429, headers={"x-retry-after": "20"}), json_reply([order_json()]))
    replies.adapter(time_scale=10.0).find_order("LW-1")
    assert replies.sleeps == [2.0]


def test_parse_retry_after() -> None:
    """Only finite, non-negative numbers are accepted as x-retry-after."""
    assert parse_retry_after("25") == 25.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("inf") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-4") is None


def test_parse_retry_after_reads_an_http_date() -> None:
    """An HTTP-date x-retry-after (the shared parser reads both forms) is measured from the given time."""
    now = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:20 GMT", None, now) == 20.0


def test_rate_limited_error_carries_the_capped_wait() -> None:
    """When the attempts run out, callers get ShipBob's wait capped at 90 s (its window is one minute)."""
    replies = script(json_reply({}, status=429, headers={"x-retry-after": "1000"}))
    with pytest.raises(RateLimitedError) as raised:
        replies.adapter(max_attempts=1).find_order("LW-1")
    assert raised.value.retry_after == 90.0
    assert RetryPolicy.no_wait().next_delay(RateLimitedError("x", retry_after=30.0), 1, 0.0) == 0.0


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_never_exceeds_the_window() -> None:
    """Paced calls never put more than 150 into any rolling minute, and use at least 95 % of it."""
    fake = FakeTime()
    pacer = SpacingPacer(clock=fake.clock, sleep=fake.sleep)
    sent = []
    for _ in range(600):
        pacer.acquire("shipbob", 150)
        sent.append(fake.now)
    worst = max(sum(1 for t in sent if start <= t < start + 60.0) for start in sent)
    assert worst <= 150
    per_minute = (len(sent) - 1) / (sent[-1] - sent[0]) * 60.0
    assert per_minute >= 0.95 * 150


def test_pacer_defer_pushes_later_slots() -> None:
    """After a 429 every later call waits out the server's delay."""
    fake = FakeTime()
    pacer = SpacingPacer(clock=fake.clock, sleep=fake.sleep)
    pacer.acquire("shipbob", 150)
    pacer.defer("shipbob", 10.0)
    pacer.acquire("shipbob", 150)
    assert fake.now >= 10.0


def test_a_429_defers_the_shared_pacer() -> None:
    """After a 429 with x-retry-after 30 the pacer holds ShipBob's next slot 30 s out, for every caller."""
    replies, pacer_time = (
        script(json_reply({}, status=429, headers={"x-retry-after": "30"}), json_reply([])),
        FakeTime(),
    )
    pacer = SpacingPacer(clock=pacer_time.clock, sleep=pacer_time.sleep)  # its own clock: its wait shows
    config = ShipBobConfig("https://api.shipbob.test", SecretStr(TOKEN), channel_id=4242)
    adapter = ShipBobAdapter(
        config, transport=httpx.MockTransport(replies.handle), pacer=pacer, sleep=replies.sleeps.append
    )
    adapter.find_order("LW-1")
    assert replies.sleeps == [30.0]
    assert pacer_time.now >= 30.0, "the repeat waited for the deferred slot"


def test_pacer_time_scale_shortens_the_minute() -> None:
    """With time_scale=60 the spacing is one sixtieth of the real-time spacing."""
    assert SpacingPacer(time_scale=60.0).interval(150) == pytest.approx(SpacingPacer().interval(150) / 60.0)
