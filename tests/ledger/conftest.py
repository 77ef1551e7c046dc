"""Fixtures for the ledger tests: every test runs on SQLite (a temporary file) and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import ledger
from ledger import ALLOWED, Ledger, NewOrder, OrderRecord, State

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


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


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def shared_postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole ledger test session, dropped afterwards.

    Creating a database costs about 0.3 s, so the tests share this one and stay apart by account name
    (every ledger query is scoped by account and 3PL; ``test_accounts_and_threepls_do_not_see_each_other``
    checks that scoping). Tests that need an empty database use ``postgres_url``.
    """
    name = f"lw3pl_ledger_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        ledger.migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database: a SQLite file in a directory not yet created, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('ledger')}/not-yet/ledger.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the schema at head: a new SQLite file, or the shared PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("shared_postgres_url")
        return url
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger')}/ledger.db"
    ledger.migrate(url)
    return url


@pytest.fixture
def account() -> str:
    """An account name no other test uses (tests share the PostgreSQL database)."""
    return f"acme-{secrets.token_hex(6)}"


@pytest.fixture
def clock() -> FakeClock:
    """The clock every ledger in a test shares."""
    return FakeClock()


@pytest.fixture
def book(migrated_url: str, account: str, clock: FakeClock) -> Iterator[Ledger]:
    """A ledger for a fresh account at ShipBob on the fake clock."""
    with Ledger(migrated_url, account=account, threepl="shipbob", clock=clock) as instance:
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
            record = book.quarantine(
                reference, "test: parked on purpose", expected_from=[record.state], owner=None
            )
        else:
            record = book.transition(reference, state, expected_from=[record.state], owner=None)
    return record


def run_killed_worker(script: str, url: str, account: str) -> str:
    """Run ``script`` (given the ledger URL and account) as a worker process that SIGKILLs itself; its
    standard output."""
    result = subprocess.run(
        [sys.executable, "-c", script, url, account],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    return result.stdout.decode()
