"""Pacing: even spacing per method, no 60-s window over the limit, thread safety, time scale, retry policy."""

from __future__ import annotations

import itertools
import random
import threading

import pytest

from bench.rates import most_in_window
from clients.errors import RateLimitedError, RetryableError
from clients.linnworks import RetryPolicy, SpacingPacer

from .fakes import FakeClock, FakeLinnworks, make_client


@pytest.mark.parametrize("limit", [150, 250])
def test_no_sixty_second_window_exceeds_the_limit(limit: int) -> None:
    """Three minutes of back-to-back calls never put more than the limit in any 60-s window."""
    clock = FakeClock()
    pacer = SpacingPacer(clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(limit * 3):
        pacer.acquire("Orders/GetOrdersById", limit)
        sent.append(clock())
    assert most_in_window(sent, 60.0) <= limit
    assert most_in_window(sent, 60.0) >= int(limit * 0.95), "pacing should use at least 95 % of the limit"


def test_methods_are_paced_independently() -> None:
    """A busy method does not delay another method's first call."""
    clock = FakeClock()
    pacer = SpacingPacer(clock=clock, sleep=clock.sleep)
    for _ in range(10):
        pacer.acquire("Orders/GetOrdersById", 250)
    before = clock()
    pacer.acquire("Stock/SetStockLevel", 250)
    assert clock() == before


def test_first_call_does_not_wait() -> None:
    """The first call of a method goes at once."""
    clock = FakeClock()
    SpacingPacer(clock=clock, sleep=clock.sleep).acquire("Orders/GetOrdersById", 250)
    assert clock.sleeps == []


def test_time_scale_shrinks_the_minute() -> None:
    """time_scale=60 spaces a 150/min method 60x closer (about 6.9 ms)."""
    pacer = SpacingPacer(time_scale=60)
    assert pacer.interval(150) == pytest.approx(1 / (150 * 0.97))


def test_threads_get_distinct_slots() -> None:
    """Threads acquiring together are handed distinct, evenly spaced slots."""
    lock = threading.Lock()
    clock = FakeClock()
    slots: list[float] = []

    def record_sleep(seconds: float) -> None:
        with lock:
            slots.append(clock() + seconds)

    pacer = SpacingPacer(clock=clock, sleep=record_sleep)
    threads = [threading.Thread(target=pacer.acquire, args=("Orders/ProcessOrder", 250)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(slots)}
    assert len(slots) == 19 and gaps == {round(pacer.interval(250), 6)}


def test_client_paces_every_attempt_with_the_spec_limit() -> None:
    """The client asks the pacer once per sent call, with the method name and its spec limit."""

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, int]] = []

        def acquire(self, method: str, per_minute: int) -> None:
            self.calls.append((method, per_minute))

    recorder = Recorder()
    make_client(FakeLinnworks(), pacer=recorder).get_stock_locations()
    # The data call takes its slot first, then the session is opened (paced on its own method).
    assert recorder.calls == [("Inventory/GetStockLocations", 150), ("Auth/AuthorizeByApplication", 150)]


def test_retry_backoff_is_exponential_with_pinned_jitter() -> None:
    """Backoff doubles per attempt, capped, with jitter in [d/2, d] from the seeded generator."""
    policy = RetryPolicy(
        base_delay=1.0, max_delay=4.0, max_attempts=10, max_total_seconds=1e9, rng=random.Random(1)
    )
    error = RetryableError("x")
    delays = [policy.next_delay(error, attempt, 0.0) for attempt in range(1, 6)]
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(d is not None and c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))


def test_retry_policy_caps_attempts_and_total_time() -> None:
    """No delay is offered at the attempt cap or when the wait would pass the total-time budget."""
    policy = RetryPolicy(max_attempts=3, max_total_seconds=10.0)
    assert policy.next_delay(RetryableError("x"), 3, 0.0) is None
    assert policy.next_delay(RateLimitedError("x", retry_after=5.0), 1, 6.0) is None
    assert policy.next_delay(RateLimitedError("x", retry_after=5.0), 1, 1.0) == 5.0


def test_no_wait_switch_removes_sleeping() -> None:
    """RetryPolicy.no_wait() decides the same but never waits."""
    policy = RetryPolicy.no_wait()
    assert policy.next_delay(RateLimitedError("x", retry_after=30.0), 1, 0.0) == 0.0


def test_clients_of_one_account_share_the_default_pacer() -> None:
    """Two real-time clients of the same account share one pacer; another account gets its own."""
    from pydantic import SecretStr

    from clients.linnworks import LinnworksClient, shared_pacer

    def pacer_of(token: str) -> object:
        client = LinnworksClient("a", SecretStr("s"), SecretStr(token), auth_url="https://auth.example")
        return client._caller._pacer  # the wiring under test

    assert pacer_of("t1") is pacer_of("t1")
    assert pacer_of("t1") is not pacer_of("t2")
    assert shared_pacer("x", 60.0) is not shared_pacer("x", 1.0)
