"""Client-side pacing below a partner's per-minute limit, shared by every HTTP client.

``Pacer.acquire(key, per_minute)`` is the one seam: it blocks until a call under ``key`` may go;
``Pacer.defer(key, seconds)`` pushes every later call under ``key`` back after the partner answered 429.
What a key stands for is the client's choice: Linnworks limits each API method on its own (key = method
name), ShipBob counts every call in one budget (one key). A Prefect global-concurrency-limit pacer, shared
by every worker of an account, can replace the in-process one through the same protocol.

``SpacingPacer`` hands out slots ``60 / (limit * headroom)`` seconds apart in arrival order, so no rolling
minute can hold more than the limit and the achieved rate is ``headroom`` of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["NoPacer", "Pacer", "SpacingPacer"]

_MINUTE = 60.0


class Pacer(Protocol):
    """Blocks until one call under ``key`` may be sent without exceeding ``per_minute``."""

    def acquire(self, key: str, per_minute: int) -> None:
        """Wait for a slot under ``key`` (e.g. ``"Orders/GetOrdersById"`` or ``"shipbob"``)."""
        ...

    def defer(self, key: str, seconds: float) -> None:
        """Hold every later call under ``key`` for ``seconds`` (real time): the partner said to wait."""
        ...


class NoPacer:
    """No pacing at all (limits off: benchmarks, or when something else paces)."""

    def acquire(self, key: str, per_minute: int) -> None:
        """Return at once."""

    def defer(self, key: str, seconds: float) -> None:
        """Nothing to push back: the retry loop's own wait still applies."""


class SpacingPacer:
    """Evenly spaced slots per key, held in this process; thread-safe, slots go in arrival order.

    Args:
        clock: monotonic seconds.
        sleep: how to wait (tests pass a fake that advances the fake clock).
        time_scale: how many times faster than real time the partner's minute runs (a sandbox with
            ``time_scale=60`` has one-second minutes).
        headroom: share of the limit to use; below 1.0 so jitter between us and the server cannot push a
            window over the limit.

    Example:
        >>> pacer = SpacingPacer()
        >>> pacer.acquire("Orders/GetOrdersById", 250)  # returns at once: first call of the minute
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        time_scale: float = 1.0,
        headroom: float = 0.97,
    ) -> None:
        if time_scale <= 0 or not 0 < headroom <= 1:
            raise ValueError("time_scale must be > 0 and headroom in (0, 1]")
        self._clock = clock
        self._sleep = sleep
        self._minute = _MINUTE / time_scale
        self._headroom = headroom
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def interval(self, per_minute: int) -> float:
        """Seconds between two calls under a limit of ``per_minute``."""
        return self._minute / (per_minute * self._headroom)

    def acquire(self, key: str, per_minute: int) -> None:
        """Reserve the next free slot of ``key`` and wait until it comes."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(key, now))
            self._next_slot[key] = slot + self.interval(per_minute)
        if slot > now:
            self._sleep(slot - now)

    def defer(self, key: str, seconds: float) -> None:
        """Push every later slot of ``key`` back: the server told us to wait (a 429 with a retry-after)."""
        with self._lock:
            self._next_slot[key] = max(self._next_slot.get(key, 0.0), self._clock() + seconds)
