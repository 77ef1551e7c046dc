"""Client-side pacing below Linnworks' per-method limits.

``Pacer`` is the one seam: ``acquire(method, per_minute)`` blocks until a call of ``method`` may go. The
default ``InProcessPacer`` spaces calls of each method evenly (one slot every ``60 / limit`` seconds, a little
wider for headroom), so no 60-second window ever holds more than the limit. A Prefect global-concurrency-limit
pacer (shared by every worker of an account) can replace it through the same protocol.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["InProcessPacer", "NoPacer", "Pacer", "shared_pacer"]

_MINUTE = 60.0


class Pacer(Protocol):
    """Blocks until one call of ``method`` may be sent without exceeding ``per_minute``."""

    def acquire(self, method: str, per_minute: int) -> None:
        """Wait for a slot for ``method`` (e.g. ``"Orders/GetOrdersById"``)."""
        ...


class NoPacer:
    """No pacing at all (limits off: benchmarks, or when something else paces)."""

    def acquire(self, method: str, per_minute: int) -> None:
        """Return at once."""


class InProcessPacer:
    """Even spacing per method, thread-safe; slots are handed out in arrival order.

    Args:
        clock: monotonic seconds.
        sleep: how to wait (tests pass a fake that advances the fake clock).
        time_scale: how many times faster than real time the partner's minute runs (a sandbox with
            ``time_scale=60`` has one-second minutes).
        headroom: share of the limit to use; below 1.0 so jitter between us and the server cannot push a
            window over the limit.

    Example:
        >>> pacer = InProcessPacer()
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
        """Seconds between two calls of a method limited to ``per_minute``."""
        return self._minute / (per_minute * self._headroom)

    def acquire(self, method: str, per_minute: int) -> None:
        """Reserve the next free slot of ``method`` and wait until it comes."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(method, now))
            self._next_slot[method] = slot + self.interval(per_minute)
        if slot > now:
            self._sleep(slot - now)


_SHARED: dict[tuple[str, float], InProcessPacer] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacer(account_key: str, time_scale: float = 1.0) -> InProcessPacer:
    """The process-wide pacer of one Linnworks account (real clock), shared by every client built for it.

    Limits are per account, so two clients of the same account in one worker must not each get the whole
    budget. ``account_key`` is hashed; it may contain the installation token.
    """
    key = (hashlib.sha256(account_key.encode()).hexdigest(), time_scale)
    with _SHARED_LOCK:
        pacer = _SHARED.get(key)
        if pacer is None:
            pacer = _SHARED[key] = InProcessPacer(time_scale=time_scale)
        return pacer
