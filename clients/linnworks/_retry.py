"""The one place that decides whether and when a failed Linnworks call is tried again.

Bounded by attempts and by total time, jittered exponential backoff, ``Retry-After`` honoured (capped). Which
errors may be repeated at all is decided by the caller's classification (see ``_client.py``): this policy
only answers "how long to wait, or give up".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from clients.errors import RateLimitedError, RetryableError

__all__ = ["RetryPolicy"]


@dataclass
class RetryPolicy:
    """Attempts, total time and backoff for retryable errors.

    Args:
        max_attempts: calls in total, the first included.
        max_total_seconds: give up rather than wait past this many seconds since the first attempt.
        base_delay: backoff before the second attempt; doubles each time up to ``max_delay``.
        max_delay: cap of one exponential backoff.
        max_retry_after: cap on a server's ``Retry-After`` (an absurd value is not obeyed literally).
        wait: False removes all waiting (the testing switch); decisions stay the same.
        rng: randomness for the jitter (seed it in tests).
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
