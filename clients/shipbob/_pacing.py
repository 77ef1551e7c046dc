"""Client-side pacing below ShipBob's 150 requests/minute sliding window.

ShipBob counts every call of a user + application in one rolling minute, so one budget covers all
endpoints. ``Pacer.acquire(key, per_minute)`` is the seam (the same shape as the Linnworks client's, so
a Prefect global-concurrency-limit pacer shared by several workers can be passed in). The default
``SpacingPacer`` hands out slots ``60 / (limit * headroom)`` seconds apart in arrival order: no rolling
minute can then hold more than the limit, and the achieved rate is ``headroom`` of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["NoPacer", "Pacer", "SpacingPacer"]

_MINUTE = 60.0


class Pacer(Protocol):
    """Blocks until one call under ``key`` may go without exceeding ``per_minute``."""

    def acquire(self, key: str, per_minute: int) -> None:
        """Wait for a slot."""
        ...


class NoPacer:
    """No pacing (limits off, or something else paces)."""

    def acquire(self, key: str, per_minute: int) -> None:
        """Return at once."""


class SpacingPacer:
    """Evenly spaced slots per key; thread-safe.

    Args:
        clock: monotonic seconds.
        sleep: how to wait (tests pass a fake that moves the fake clock).
        time_scale: how many times faster than real time the partner's minute runs (the sandbox's
            ``time_scale``).
        headroom: share of the limit to use; below 1 so jitter between us and the server cannot push a
            rolling minute over the limit.

    Example:
        >>> pacer = SpacingPacer()
        >>> pacer.acquire("shipbob", 150)  # the first call goes at once
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
        """Reserve the next free slot of ``key`` and wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(key, now))
            self._next_slot[key] = slot + self.interval(per_minute)
        if slot > now:
            self._sleep(slot - now)

    def defer(self, key: str, seconds: float) -> None:
        """Push every later slot of ``key`` back: the server told us to wait (429 ``x-retry-after``)."""
        with self._lock:
            self._next_slot[key] = max(self._next_slot.get(key, 0.0), self._clock() + seconds)
