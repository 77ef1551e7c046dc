"""The shared send-with-retry (``clients._send.Sender``): safety rule, give-up, time scale, deferral."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from clients._pacing import NoPacer
from clients._retry import RetryPolicy
from clients._send import Safety, Sender, UnreadableReplyError
from clients.errors import MalformedResponseError, OutcomeUnknownError, RateLimitedError, RetryableError


class Recorder(NoPacer):
    """A pacer that records what the loop asked of it (the loop is the piece under test)."""

    def __init__(self) -> None:
        self.deferred: list[tuple[str, float]] = []

    def defer(self, key: str, seconds: float) -> None:
        self.deferred.append((key, seconds))


def sender(
    pacer: Recorder | None = None, time_scale: float = 1.0, **policy: float
) -> tuple[Sender, list[float]]:
    sleeps: list[float] = []
    rules = RetryPolicy(max_attempts=4, base_delay=1.0, rng=random.Random(1), **policy)
    return Sender("Partner", pacer or Recorder(), rules, lambda: 0.0, sleeps.append, time_scale), sleeps


def failing(*errors: Exception) -> tuple[Callable[[int], str], list[int]]:
    """An attempt that raises ``errors`` in order, then answers "ok"; records the attempt numbers."""
    attempts: list[int] = []

    def attempt_once(attempt: int) -> str:
        attempts.append(attempt)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return "ok"

    return attempt_once, attempts


def test_unsafe_write_is_never_repeated_once_it_may_have_arrived() -> None:
    """A lost reply to a non-idempotent write raises OutcomeUnknownError after exactly one attempt."""
    attempt_once, attempts = failing(RetryableError("dropped", effect_possible=True))
    expected = r"Partner POST /order: no usable reply \(dropped\); the write may have happened, look"
    with pytest.raises(OutcomeUnknownError, match=expected):
        sender()[0].send("POST /order", "k", Safety.UNSAFE, attempt_once)
    assert attempts == [1]


@pytest.mark.parametrize("safety", [Safety.READ, Safety.IDEMPOTENT])
def test_repeatable_calls_are_retried_after_a_lost_reply(safety: Safety) -> None:
    """Reads and idempotent writes are repeated after a fault that may have reached the partner."""
    attempt_once, attempts = failing(RetryableError("dropped", effect_possible=True))
    assert sender()[0].send("GET /order", "k", safety, attempt_once) == "ok"
    assert attempts == [1, 2]


def test_unsafe_write_is_retried_when_it_certainly_did_not_arrive() -> None:
    """A connect failure or a 429 had no effect, so even a create is repeated."""
    attempt_once, attempts = failing(RetryableError("refused"), RateLimitedError("slow", retry_after=1.0))
    assert sender()[0].send("POST /order", "k", Safety.UNSAFE, attempt_once) == "ok"
    assert attempts == [1, 2, 3]


def test_giving_up_raises_the_last_error() -> None:
    """When the attempts run out the partner's error itself reaches the caller."""
    error = RetryableError("503")
    attempt_once, attempts = failing(*[error] * 4)
    with pytest.raises(RetryableError) as raised:
        sender()[0].send("GET /x", "k", Safety.READ, attempt_once)
    assert raised.value is error and attempts == [1, 2, 3, 4]


def test_an_unreadable_reply_is_read_again_then_reported_malformed() -> None:
    """A 2xx that could not be parsed is retried; when the attempts run out it is a MalformedResponseError."""
    attempt_once, attempts = failing(*[UnreadableReplyError("not JSON")] * 4)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        sender()[0].send("GET /x", "k", Safety.READ, attempt_once)
    assert attempts == [1, 2, 3, 4]


def test_a_rate_limit_defers_the_pacer_and_sleeps_in_real_seconds() -> None:
    """Against a partner ten times faster a 20 s Retry-After waits 2 real seconds, for every caller."""
    pacer = Recorder()
    loop, sleeps = sender(pacer, time_scale=10.0)
    attempt_once, _ = failing(RateLimitedError("slow", retry_after=20.0))
    loop.send("GET /x", "shipbob", Safety.READ, attempt_once)
    assert sleeps == [2.0] and pacer.deferred == [("shipbob", 2.0)]


def test_other_faults_do_not_defer_the_pacer() -> None:
    """Only the partner's "slow down" holds back other callers; a 503 waits in this caller alone."""
    pacer = Recorder()
    loop, sleeps = sender(pacer)
    loop.send("GET /x", "k", Safety.READ, failing(RetryableError("503"))[0])
    assert len(sleeps) == 1 and pacer.deferred == []


def test_the_total_time_cap_counts_partner_seconds() -> None:
    """A wait that would pass max_total_seconds (in the partner's time) is not taken: the error is raised."""
    loop, sleeps = sender(time_scale=10.0, max_total_seconds=15.0)
    with pytest.raises(RateLimitedError):
        loop.send("GET /x", "k", Safety.READ, failing(RateLimitedError("slow", retry_after=20.0))[0])
    assert sleeps == []
