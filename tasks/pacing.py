"""One Linnworks budget per account, shared by every flow and worker: Prefect global concurrency limits.

Each Linnworks method has its own per-minute limit, so each gets a limit named
``linnworks-<account>-<controller>-<method>`` with ``slot_decay_per_second`` a little under
``per_minute / 60`` (a token bucket the Prefect server enforces across processes and hosts).

Tokens are taken in small blocks, not one server round trip per call: a worker takes ``block_size`` tokens
at once and spends them locally, spaced at the partner's limit, asking for the next block while the current
one lasts, so one worker alone reaches ~94 % of the limit (the bucket's refill) and several workers still
share one bucket. The burst (two blocks) is kept within 6 % of the per-minute limit so that burst + a minute
of refill never exceeds the limit over any rolling minute (what Linnworks counts).

A call is ``SLOTS_PER_CALL`` of the bucket's slots, because Prefect decays a bucket in whole slots and drops
the fraction at every update: at one slot per call each grant lost up to a call's refill (one worker reached
~80 % of the limit); at 100 it loses at most a hundredth of a call. A worker that finds the bucket full waits
as long as the server's own figures say it takes to make room for a block (not a blind back-off that left
the bucket idle while every worker slept).

A 429's ``Retry-After`` reaches every worker of the account through the limit itself: :meth:`defer` sets
the bucket's active slots above its limit by ``seconds`` worth of decay, so the server refuses every
worker's next block until the hold has decayed away. Another worker sends at most the tokens it already
holds (at most two blocks, inside the budget) before it holds back too. No clock is shared: the server's
own decay times the hold. A shorter hold written at the same moment as a longer one may replace it (the
next 429 restores it).

The budget lives on the Prefect server, so a call waits while the server is unreachable (a restart, an
upgrade): up to ``patience`` seconds (PREFECT_OUTAGE_SECONDS), with one warning, then the run stops with
one message (:class:`PrefectUnreachableError`); the orders stay where they are for the next run.

Without a Prefect server (the demo, the benchmarks) the client's own in-process pacer is used instead; see
``tasks.context.shared_pacer``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.exceptions import ObjectAlreadyExists
from prefect.settings import PREFECT_API_URL

from clients.errors import StopError

__all__ = [
    "HEADROOM",
    "SLOTS_PER_CALL",
    "PrefectRateLimitPacer",
    "PrefectUnreachableError",
    "block_size",
    "limit_name",
    "prefect_server_configured",
]

T = TypeVar("T")
logger = logging.getLogger("lw3pl.pacing")

HEADROOM = 0.94  # share of the limit the bucket refills at; the bursts fit in the rest
SLOTS_PER_CALL = 100  # server slots per call: the server's whole-slot decay loses <= 1/100 call per update
_MAX_BLOCK = 6  # tokens per round trip at most: more would let one worker hold the budget longer
_MAX_BACKOFF = 2.0  # real seconds between two asks while the bucket is held (a 429's hold, other workers)
_UNSAFE = re.compile(r"[^a-z0-9-]+")
_MAX_RECONNECT_WAIT = 5.0  # real seconds between two tries to reach an unreachable server


class PrefectUnreachableError(StopError):
    """The Prefect server, which holds the account's shared Linnworks budget, stayed unreachable."""


def limit_name(account: str, method: str) -> str:
    """The global-concurrency-limit name for one Linnworks method of one account."""
    return _UNSAFE.sub("-", f"linnworks-{account}-{method}".lower()).strip("-")


def block_size(per_minute: int) -> int:
    """Tokens taken per round trip. The bucket's burst is two blocks (one spent while the next is asked
    for) and a token is spent within two blocks' time of its grant, so any rolling minute holds at most
    four blocks more than a minute's refill: four blocks fit in ``(1 - HEADROOM)`` of the limit."""
    return max(1, min(_MAX_BLOCK, math.floor(per_minute * (1 - HEADROOM) / 4)))


def prefect_server_configured() -> bool:
    """True when a Prefect server is configured (PREFECT_API_URL), i.e. limits can be shared."""
    return bool(PREFECT_API_URL.value())


def _close_all(clients: list[SyncPrefectClient]) -> None:
    while clients:
        clients.pop().__exit__(None, None, None)


@dataclass
class _Block:
    """The tokens of one method this process holds, and when the next one may be spent."""

    tokens: int = 0
    next_slot: float = 0.0  # monotonic
    next_ask: float = 0.0  # monotonic: no top-up asked before (the bucket has no room for a block until then)
    granted_at: float = 0.0  # monotonic: the last grant; older tokens have decayed for the others to take
    occupied: float = 0.0  # calls our grants still occupy in the server's bucket at ``granted_at``


class PrefectRateLimitPacer:
    """The client's ``Pacer``: tokens from the method's server-side bucket, a block per round trip.

    Limits are created on first use (idempotently), so a new account or method needs no setup step.

    Args:
        account: the account whose budget is shared.
        time_scale: sandboxes only: their minute lasts ``60 / time_scale`` seconds.
        patience: real seconds a call waits for an unreachable Prefect server before the run stops.
        clock, sleep: monotonic seconds and how to wait (tests pass fakes).
    """

    def __init__(
        self,
        account: str = "default",
        time_scale: float = 1.0,
        *,
        patience: float = 180.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._account = account
        self._time_scale = time_scale
        self._patience = patience
        self._clock, self._sleep = clock, sleep
        self._ensured: set[str] = set()
        self._blocks: dict[str, _Block] = {}
        self._locks: dict[str, threading.Lock] = {}  # per method: one thread asks the server, the rest queue
        self._locks_lock = threading.Lock()
        # One client for the pacer's life (opening one costs ~60 ms); closed with the pacer or at exit.
        self._clients: list[SyncPrefectClient] = []
        weakref.finalize(self, _close_all, self._clients)

    def close(self) -> None:
        """Close the connection to the Prefect server (a later call opens a new one)."""
        with self._locks_lock:
            _close_all(self._clients)

    def _server(self) -> SyncPrefectClient:
        with self._locks_lock:
            if not self._clients:
                self._clients.append(get_client(sync_client=True).__enter__())
            return self._clients[0]

    def interval(self, per_minute: int) -> float:
        """Seconds per call at the bucket's refill rate (HEADROOM of the limit)."""
        return 60.0 / (per_minute * self._time_scale * HEADROOM)

    def spacing(self, per_minute: int) -> float:
        """Seconds between two calls of this process: the partner's own rate. A little faster than the
        refill, so a late round trip is caught up from the burst; the server's bucket holds the average."""
        return self.interval(per_minute) * HEADROOM

    def acquire(self, method: str, per_minute: int) -> None:
        """Wait for the next call of ``method``: a local token, topped up from the server by blocks."""
        with self._method_lock(method):
            block = self._blocks.setdefault(method, _Block())
            size = block_size(per_minute)
            if self._clock() - block.granted_at > 2 * size * self.interval(per_minute):
                block.tokens = 0  # left unspent: the server has handed them on by now
            if block.tokens == 0:
                self._take_block(method, per_minute, block)
            slot = max(self._clock(), block.next_slot)
            block.next_slot = slot + self.spacing(per_minute)
            block.tokens -= 1
            if block.tokens <= size and self._room_for_block(block, per_minute):
                self._top_up(method, per_minute, block)  # the round trip overlaps the wait for ``slot``
        wait = slot - self._clock()
        if wait > 0:
            self._sleep(wait)

    def defer(self, method: str, seconds: float) -> None:
        """The partner said wait ``seconds`` (real seconds): hold back this process and every other worker
        of the account for ``method`` until then, by filling the shared bucket past its limit."""
        with self._method_lock(method):
            block = self._blocks.setdefault(method, _Block())
            block.tokens = 0  # the tokens in hand wait too: the next call asks the server again
            block.next_slot = max(block.next_slot, self._clock() + seconds)
            name = limit_name(self._account, method)
            limit = self._api(lambda client: client.read_global_concurrency_limit_by_name(name))
            held = GlobalConcurrencyLimitUpdate(
                active_slots=limit.limit + math.ceil(seconds * limit.slot_decay_per_second)
            )
            self._api(lambda client: client.update_global_concurrency_limit(name, held))

    def _api(self, call: Callable[[SyncPrefectClient], T]) -> T:
        """``call`` with the server's client; while the server cannot be reached, wait for it (a restart)
        up to ``patience`` seconds, then stop the run. Prefect's client retries a busy server itself but
        gives up at once on a refused connection."""
        give_up_at: float | None = None
        wait = 0.5
        while True:
            try:
                return call(self._server())
            except httpx.TransportError as error:
                now = self._clock()
                if give_up_at is None:
                    give_up_at = now + self._patience
                    logger.warning(
                        "the Prefect server at %s is unreachable (%s): the shared Linnworks budget waits for "
                        "it, up to %.0f s",
                        PREFECT_API_URL.value(),
                        error,
                        self._patience,
                    )
                if now >= give_up_at:
                    raise PrefectUnreachableError(
                        f"the Prefect server at {PREFECT_API_URL.value()} was unreachable for "
                        f"{self._patience:.0f} s ({error}); it holds the account's shared Linnworks budget, "
                        "so the run stops and its orders wait for the next run. Check the server and "
                        "PREFECT_API_URL (LINNWORKS_PACER=local runs without it, one worker per account; "
                        "PREFECT_OUTAGE_SECONDS sets the wait)"
                    ) from error
                self._sleep(min(wait, give_up_at - now))
                wait = min(wait * 2, _MAX_RECONNECT_WAIT)

    def _method_lock(self, method: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(method, threading.Lock())

    def _room_for_block(self, block: _Block, per_minute: int) -> bool:
        """Whether our own grants have decayed enough for one more block (asking sooner would be refused,
        and Prefect restarts a bucket's decay on every refused ask: 3.x updates the row)."""
        now = self._clock()
        return now >= block.next_ask and self._occupied(block, per_minute, now) <= block_size(per_minute) - 1

    def _occupied(self, block: _Block, per_minute: int, now: float) -> float:
        return max(0.0, block.occupied - (now - block.granted_at) / self.interval(per_minute))

    def _take_block(self, method: str, per_minute: int, block: _Block) -> None:
        """Wait until the server grants a block (others hold the bucket, or a 429's hold decays)."""
        while True:
            now = self._clock()
            excess = self._occupied(block, per_minute, now) - (block_size(per_minute) - 1)
            wait = max(block.next_ask - now, excess * self.interval(per_minute))
            if wait > 0:
                self._sleep(wait)
            if self._top_up(method, per_minute, block):
                return

    def _top_up(self, method: str, per_minute: int, block: _Block) -> bool:
        """Ask for a block if the bucket has room for one; when it has not, ``block.next_ask`` is set to
        when it will (by the server's figures, at most _MAX_BACKOFF ahead, so a changed limit is seen)."""
        name, size = limit_name(self._account, method), block_size(per_minute)
        self._api(lambda client: self._ensure(client, name, per_minute, size))
        wait = self._api(lambda client: self._wait_for_room(client, name, size))
        if wait > 0:
            block.next_ask = self._clock() + min(wait, _MAX_BACKOFF)
            return False
        try:
            self._api(
                lambda client: client.increment_concurrency_slots(
                    names=[name], slots=size * SLOTS_PER_CALL, mode="rate_limit"
                )
            )
        except httpx.HTTPStatusError as error:
            if error.response.status_code != httpx.codes.LOCKED:
                raise
            # Another worker took the room between our read and our ask: read again a call's time later.
            block.next_ask = self._clock() + self.interval(per_minute)
            return False
        now = self._clock()
        block.tokens += size
        # The server floors decay at every update, so a part-decayed slot still counts as occupied.
        decayed = math.ceil(self._occupied(block, per_minute, now) * SLOTS_PER_CALL) / SLOTS_PER_CALL
        block.occupied = decayed + size
        block.granted_at = now
        return True

    def _wait_for_room(self, client: SyncPrefectClient, name: str, size: int) -> float:
        """Seconds until the bucket has room for a block (0: now). A read changes nothing, so it goes before
        the ask: a refused ask restarts the bucket's decay for every worker of the account (Prefect 3.x
        updates the row). The server answers with the slots still active after its decay."""
        limit = client.read_global_concurrency_limit_by_name(name)
        excess = limit.active_slots + size * SLOTS_PER_CALL - limit.limit
        return max(0.0, excess / limit.slot_decay_per_second)

    def _ensure(self, client: SyncPrefectClient, name: str, per_minute: int, size: int) -> None:
        if name in self._ensured:
            return
        spec = GlobalConcurrencyLimitCreate(
            name=name,
            limit=2 * size * SLOTS_PER_CALL,
            slot_decay_per_second=SLOTS_PER_CALL / self.interval(per_minute),
            active=True,
        )
        try:
            client.create_global_concurrency_limit(spec)
        except ObjectAlreadyExists:
            # Another worker (or an older release with another burst) created it: make it this shape.
            shape = GlobalConcurrencyLimitUpdate(
                limit=spec.limit, slot_decay_per_second=spec.slot_decay_per_second
            )
            client.update_global_concurrency_limit(name, shape)
        self._ensured.add(name)
