"""Fixtures for the ledger tests: every test runs on SQLite (a temporary file) and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import ledger
from ledger import ALLOWED, Ledger, NewOrder, OrderRecord, State

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class FakeClock:
    """A settable clock; thread-safe so that worker threads can share it."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database: a SQLite file in a directory not yet created, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('ledger')}/not-yet/ledger.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def clock() -> FakeClock:
    """The clock every ledger in a test shares."""
    return FakeClock()


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """``db_url`` with the schema at head."""
    ledger.migrate(db_url)
    return db_url


@pytest.fixture
def book(migrated_url: str, clock: FakeClock) -> Iterator[Ledger]:
    """A ledger for account ``acme`` at ShipBob on the fake clock."""
    with Ledger(migrated_url, account="acme", threepl="shipbob", clock=clock) as instance:
        yield instance


def new_order(reference: str, num: int | str = 1, payload_hash: str = "hash-1") -> NewOrder:
    """A NewOrder with sensible defaults."""
    return NewOrder(reference=reference, num_order_id=str(num), payload_hash=payload_hash)


def path_to(target: State) -> list[State]:
    """The shortest chain of allowed moves from pending to ``target`` (never via quarantine)."""
    queue: deque[list[State]] = deque([[State.PENDING]])
    while queue:
        path = queue.popleft()
        if path[-1] is target:
            return path[1:]
        for nxt in sorted(ALLOWED[path[-1]]):
            if nxt not in path and (nxt is not State.QUARANTINED or nxt is target):
                queue.append([*path, nxt])
    raise AssertionError(f"{target} is unreachable from pending")


def drive_to(book: Ledger, reference: str, target: State) -> OrderRecord:
    """Register ``reference`` (if needed) and move it to ``target`` through allowed transitions."""
    book.register([new_order(reference)])
    record = book.get(reference)
    assert record is not None
    for state in path_to(target):
        if state is State.QUARANTINED:
            record = book.quarantine(reference, "test: parked on purpose")
        else:
            record = book.transition(reference, state)
    return record
