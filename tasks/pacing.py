"""One Linnworks budget per account, shared by every flow and worker: Prefect global concurrency limits.

Each Linnworks method has its own per-minute limit, so each gets a limit named
``linnworks-<account>-<controller>-<method>`` with ``slot_decay_per_second`` a little under
``per_minute / 60`` (a token bucket the Prefect server enforces across processes and hosts).

Tokens are taken in small blocks, not one server round trip per call: a worker takes ``block`` tokens at
once (the limit's whole burst) and spends them locally, spaced at the bucket's rate, so one worker alone
reaches ~95 % of the limit while several workers still share one bucket. The burst is kept at 3 % of the
per-minute limit so that burst + a minute of decay never exceeds the limit over any rolling minute (what
Linnworks counts).

A 429's ``Retry-After`` reaches every worker of the account through a Prefect variable per method
(``<limit name>-hold``, the wall-clock time until which no call may go): :meth:`defer` raises it, and every
worker reads it before taking its next block, so another worker sends at most the rest of its current block
(at most ``block - 1`` calls, already inside the budget) before it holds back too. Hosts need synchronised
clocks (NTP) for the hold to mean the same instant everywhere.

Without a Prefect server (the demo, the benchmarks) the client's own in-process pacer is used instead; see
``tasks.context.shared_pacer``.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
    VariableCreate,
    VariableUpdate,
)
from prefect.exceptions import ObjectAlreadyExists
from prefect.settings import PREFECT_API_URL

__all__ = [
    "HEADROOM",
    "PrefectRateLimitPacer",
    "block_size",
    "hold_variable_name",
    "limit_name",
    "prefect_server_configured",
]

HEADROOM = 0.97  # share of the limit the bucket refills at; the burst fits in the rest
_MAX_BLOCK = 5  # tokens per server round trip at most: more would let one worker starve the others longer
_DRAIN_MARGIN = 0.005  # seconds past our own block's drain before asking again (the server floors decay)
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def limit_name(account: str, method: str) -> str:
    """The global-concurrency-limit name for one Linnworks method of one account."""
    return _UNSAFE.sub("-", f"linnworks-{account}-{method}".lower()).strip("-")


def hold_variable_name(account: str, method: str) -> str:
    """The Prefect variable holding "no call before" (epoch seconds) for one method of one account."""
    return f"{limit_name(account, method)}-hold"


def block_size(per_minute: int) -> int:
    """Tokens taken per round trip: the bucket's burst, small enough that burst + a minute's decay
    (``HEADROOM`` of the limit) stays within ``per_minute``."""
    return max(1, min(_MAX_BLOCK, math.floor(per_minute * (1 - HEADROOM))))


def prefect_server_configured() -> bool:
    """True when a Prefect server is configured (PREFECT_API_URL), i.e. limits can be shared."""
    return bool(PREFECT_API_URL.value())


@dataclass
class _Block:
    """The tokens of one method this process holds, and when the next one may be spent."""

    tokens: int = 0
    next_slot: float = 0.0  # monotonic
    drained_at: float = 0.0  # monotonic: when the bucket has decayed our last block away


class PrefectRateLimitPacer:
    """The client's ``Pacer``: tokens from the method's server-side bucket, a block per round trip.

    Limits are created on first use (idempotently), so a new account or method needs no setup step.

    Args:
        account: the account whose budget is shared.
        time_scale: sandboxes only: their minute lasts ``60 / time_scale`` seconds.
        clock, wall_clock, sleep: monotonic seconds, epoch seconds and how to wait (tests pass fakes).
    """

    def __init__(
        self,
        account: str = "default",
        time_scale: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._account = account
        self._time_scale = time_scale
        self._clock, self._wall_clock, self._sleep = clock, wall_clock, sleep
        self._ensured: set[str] = set()
        self._blocks: dict[str, _Block] = {}
        self._locks: dict[str, threading.Lock] = {}  # per method: one thread takes a block, the rest queue
        self._locks_lock = threading.Lock()

    def interval(self, per_minute: int) -> float:
        """Seconds between two calls of one method: the bucket's refill rate."""
        return 60.0 / (per_minute * self._time_scale * HEADROOM)

    def acquire(self, method: str, per_minute: int) -> None:
        """Wait for the next call of ``method``: a local token, or a new block from the server."""
        with self._method_lock(method):
            block = self._blocks.setdefault(method, _Block())
            if block.tokens == 0:
                self._take_block(method, per_minute, block)
            now = self._clock()
            slot = max(now, block.next_slot)
            block.next_slot = slot + self.interval(per_minute)
            block.tokens -= 1
        if slot > now:
            self._sleep(slot - now)

    def defer(self, method: str, seconds: float) -> None:
        """The partner said wait ``seconds`` (real seconds): hold back this process and every other worker
        of the account for ``method`` until then."""
        until = self._wall_clock() + seconds
        with self._method_lock(method):
            block = self._blocks.setdefault(method, _Block())
            block.tokens = 0  # the rest of the block waits too: it is taken again after the hold
            block.next_slot = max(block.next_slot, self._clock() + seconds)
        with get_client(sync_client=True) as client:
            self._raise_hold(client, hold_variable_name(self._account, method), until)

    def _method_lock(self, method: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(method, threading.Lock())

    def _take_block(self, method: str, per_minute: int, block: _Block) -> None:
        name = limit_name(self._account, method)
        size = block_size(per_minute)
        with get_client(sync_client=True) as client:
            self._ensure(client, name, per_minute, size)
            self._wait_for_hold(client, hold_variable_name(self._account, method))
            self._sleep(max(0.0, block.drained_at - self._clock()))  # our last block cannot be back yet
            while not self._try_increment(client, name, size):
                self._sleep(self.interval(per_minute) / 2)  # another worker holds the bucket
        block.tokens = size
        block.drained_at = self._clock() + size * self.interval(per_minute) + _DRAIN_MARGIN

    def _try_increment(self, client: SyncPrefectClient, name: str, size: int) -> bool:
        try:
            client.increment_concurrency_slots(names=[name], slots=size, mode="rate_limit")
        except httpx.HTTPStatusError as error:
            if error.response.status_code == httpx.codes.LOCKED:
                return False
            raise
        return True

    def _wait_for_hold(self, client: SyncPrefectClient, variable: str) -> None:
        held = client.read_variable_by_name(variable)
        if held is not None and isinstance(held.value, int | float):
            wait = float(held.value) - self._wall_clock()
            if wait > 0:
                self._sleep(wait)

    def _raise_hold(self, client: SyncPrefectClient, variable: str, until: float) -> None:
        held = client.read_variable_by_name(variable)
        if held is None:
            with contextlib.suppress(ObjectAlreadyExists):
                client.create_variable(VariableCreate(name=variable, value=until))
                return
        elif isinstance(held.value, int | float) and held.value >= until:
            return  # a longer hold is already in force
        client.update_variable(VariableUpdate(name=variable, value=until))

    def _ensure(self, client: SyncPrefectClient, name: str, per_minute: int, size: int) -> None:
        if name in self._ensured:
            return
        spec = GlobalConcurrencyLimitCreate(
            name=name,
            limit=size,
            slot_decay_per_second=1.0 / self.interval(per_minute),
            active=True,
        )
        try:
            client.create_global_concurrency_limit(spec)
        except ObjectAlreadyExists:
            # Another worker (or an older release with another burst) created it: make it this shape.
            change = GlobalConcurrencyLimitUpdate(
                limit=size, slot_decay_per_second=spec.slot_decay_per_second
            )
            client.update_global_concurrency_limit(name, change)
        self._ensured.add(name)
