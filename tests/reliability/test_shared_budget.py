"""The Linnworks budget shared through Prefect's global limits (tasks/pacing.py), against the test server.

Several workers of one account are several ``PrefectRateLimitPacer`` instances (one per process in
production); the server's bucket is what they share. Waits are recorded, not slept (but in the
round-trip count), and no test times anything: what is asserted is who the server let through, and how
many round trips the tokens cost.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client

from tasks.pacing import SLOTS_PER_CALL, PrefectRateLimitPacer, block_size, limit_name

METHOD = "Orders/SetOrderShippingInfo"
PER_MINUTE = 250


class HeldBack(Exception):
    """Raised by the fake sleep of a worker that must not wait in these tests."""


def refusing_sleep(waits: list[float]) -> Any:
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if seconds > 0:
            raise HeldBack(seconds)

    return sleep


@pytest.fixture
def account() -> str:
    """A fresh account per test, so no bucket is shared with another test."""
    return f"budget-{uuid.uuid4().hex[:8]}"


def test_a_retry_after_one_worker_receives_holds_back_the_other_workers(account: str) -> None:
    """Worker A is told to wait 30 s; worker B, which has no tokens yet, is refused by the server."""
    first = PrefectRateLimitPacer(account)
    first.acquire(METHOD, PER_MINUTE)
    first.defer(METHOD, 30.0)

    waits: list[float] = []
    other = PrefectRateLimitPacer(account, sleep=refusing_sleep(waits))
    with pytest.raises(HeldBack):
        other.acquire(METHOD, PER_MINUTE)
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(limit_name(account, METHOD))
    assert limit.active_slots > limit.limit  # the hold: ~30 s of refill above the burst
    first.close()
    other.close()


def test_a_hold_is_per_account_and_per_method(account: str) -> None:
    """A 429 on one method of one account does not hold back another method or another account."""
    first = PrefectRateLimitPacer(account)
    first.acquire(METHOD, PER_MINUTE)
    first.defer(METHOD, 30.0)

    waits: list[float] = []
    same_account = PrefectRateLimitPacer(account, sleep=refusing_sleep(waits))
    same_account.acquire("Orders/GetOrdersById", PER_MINUTE)
    other_account = PrefectRateLimitPacer(f"{account}-x", sleep=refusing_sleep(waits))
    other_account.acquire(METHOD, PER_MINUTE)
    assert waits == []
    for pacer in (first, same_account, other_account):
        pacer.close()


def test_the_deferring_worker_holds_back_too(account: str) -> None:
    """The worker that got the 429 drops the tokens it held: its next call asks the server and is refused."""
    waits: list[float] = []
    pacer = PrefectRateLimitPacer(account, sleep=waits.append)
    pacer.acquire(METHOD, PER_MINUTE)
    pacer._sleep = refusing_sleep(waits)
    pacer.defer(METHOD, 30.0)
    with pytest.raises(HeldBack):
        pacer.acquire(METHOD, PER_MINUTE)
    pacer.close()


def test_tokens_are_taken_a_block_per_round_trip(account: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker's calls cost one server round trip per block of tokens, not one per call."""
    asks: list[int] = []
    increment = SyncPrefectClient.increment_concurrency_slots

    def counting(self: SyncPrefectClient, names: list[str], slots: int, mode: str) -> Any:
        asks.append(slots)
        return increment(self, names=names, slots=slots, mode=mode)

    monkeypatch.setattr(SyncPrefectClient, "increment_concurrency_slots", counting)
    pacer = PrefectRateLimitPacer(account)  # real waits (~3 s): the server's bucket decays in real time
    calls = 4 * block_size(PER_MINUTE)
    for _ in range(calls):
        pacer.acquire(METHOD, PER_MINUTE)
    pacer.close()
    assert block_size(PER_MINUTE) > 1
    assert set(asks) == {block_size(PER_MINUTE) * SLOTS_PER_CALL}
    assert len(asks) == calls // block_size(PER_MINUTE)  # and none refused


def test_an_older_limit_shape_is_brought_to_this_one(account: str) -> None:
    """A limit created by an older release (burst 3) is reshaped, so a block fits in it."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    name = limit_name(account, METHOD)
    with get_client(sync_client=True) as client:
        old = GlobalConcurrencyLimitCreate(name=name, limit=3, slot_decay_per_second=PER_MINUTE / 60)
        client.create_global_concurrency_limit(old)
    pacer = PrefectRateLimitPacer(account)
    pacer.acquire(METHOD, PER_MINUTE)
    pacer.close()
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(name)
    assert limit.limit == 2 * block_size(PER_MINUTE) * SLOTS_PER_CALL


def test_the_room_a_worker_waits_for_is_the_servers_decayed_count() -> None:
    """The server answers a read with the slots still active after its decay: a bucket read as full is
    full, however long ago it was last updated (subtracting the decay again made workers ask into a full
    bucket, and each refused ask restarts the bucket's decay for every worker), and the wait is the time
    the server's decay takes to make room for one block."""
    from datetime import UTC, datetime, timedelta

    from prefect.client.schemas.responses import GlobalConcurrencyLimitResponse

    size = block_size(PER_MINUTE)
    decay = 400.0  # slots per second
    full = GlobalConcurrencyLimitResponse(
        id=uuid.uuid4(),
        created=datetime.now(UTC) - timedelta(hours=1),
        updated=datetime.now(UTC) - timedelta(seconds=10),
        name="full",
        limit=2 * size * SLOTS_PER_CALL,
        active=True,
        active_slots=2 * size * SLOTS_PER_CALL,
        slot_decay_per_second=decay,
    )

    class Server:
        def read_global_concurrency_limit_by_name(self, name: str) -> GlobalConcurrencyLimitResponse:
            return full

    pacer = PrefectRateLimitPacer("unit")
    assert pacer._wait_for_room(Server(), "full", size) == pytest.approx(size * SLOTS_PER_CALL / decay)  # type: ignore[arg-type]
    full.active_slots = size * SLOTS_PER_CALL
    assert pacer._wait_for_room(Server(), "full", size) == 0.0  # type: ignore[arg-type]
