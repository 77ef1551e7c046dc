"""The one place that decides whether and when a failed partner call is tried again.

Bounded by attempts and by total time, jittered exponential backoff, a server's retry-after honoured (capped).
Which errors may be repeated at all is the client's classification: this policy only answers "how long to
wait, or give up". Times are in the partner's seconds; a client talking to a sped-up sandbox divides by its
time scale before sleeping.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from clients.errors import RateLimitedError, RetryableError

__all__ = ["RetryPolicy", "capped_retry_after", "parse_retry_after"]


@dataclass
class RetryPolicy:
    """Attempts, total time and backoff for retryable errors.

    Args:
        max_attempts: calls in total, the first included.
        max_total_seconds: give up rather than wait past this many seconds since the first attempt.
        base_delay: backoff before the second attempt; doubles each time up to ``max_delay``.
        max_delay: cap of one exponential backoff.
        max_retry_after: cap on a server's retry-after (an absurd value is not obeyed literally).
        wait: False removes all waiting (the testing switch); decisions stay the same.
        rng: randomness for the jitter (seed it in tests).

    Example:
        >>> RetryPolicy.no_wait(max_attempts=3).next_delay(RetryableError("x"), 1, 0.0)
        0.0
    """

    max_attempts: int = 5
    max_total_seconds: float = 180.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    wait: bool = True
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def no_wait(cls, max_attempts: int = 5) -> RetryPolicy:
        """A policy that decides like the default but never sleeps (for tests)."""
        return cls(max_attempts=max_attempts, wait=False)

    def next_delay(self, error: RetryableError, attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up and raise ``error``."""
        if attempt >= self.max_attempts:
            return None
        delay = self._delay_for(error, attempt)
        if elapsed + delay > self.max_total_seconds:
            return None
        return delay if self.wait else 0.0

    def _delay_for(self, error: RetryableError, attempt: int) -> float:
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        return self._jitter(min(self.base_delay * 2 ** (attempt - 1), self.max_delay))

    def _jitter(self, delay: float) -> float:
        """Full jitter in [delay / 2, delay]: spreads clients that failed together."""
        return delay * (0.5 + self.rng.random() / 2)


def parse_retry_after(
    value: str | None, date_header: str | None = None, now: datetime | None = None
) -> float | None:
    """A retry-after header as seconds: a number, or an HTTP date (measured from the reply's ``Date``).

    A date already past means "now" (0.0). Returns None when the header is missing or unusable (empty, not
    a number or date, negative, infinite, NaN); the retry policy then backs off on its own.

    Example:
        >>> parse_retry_after("12"), parse_retry_after("-3"), parse_retry_after("soon")
        (12.0, None, None)
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, date_header, now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def capped_retry_after(headers: Mapping[str, str], name: str, cap: float) -> float | None:
    """A reply's retry-after header ``name`` in seconds, at most ``cap``: callers never see an absurd wait.

    An HTTP date is measured from the reply's ``Date`` header. None when the header is missing or unusable.
    """
    seconds = parse_retry_after(headers.get(name), headers.get("Date"))
    return None if seconds is None else min(seconds, cap)


def _seconds_until(text: str, date_header: str | None, now: datetime | None) -> float | None:
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(date_header) if date_header else None
    reference = reference or now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
