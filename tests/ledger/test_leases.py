"""Claims, leases and compare-and-set under concurrency: no two workers ever hold the same order."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import ledger
from ledger import LeaseLostError, Ledger, State, StateConflictError

from .conftest import FakeClock, drive_to, new_order

WORKERS = 4


def register_many(book: Ledger, count: int) -> list[str]:
    references = [f"order-{i:04d}" for i in range(count)]
    book.register([new_order(ref, num=i) for i, ref in enumerate(references)])
    return references


def drain(book: Ledger, owner: str, start: threading.Barrier, batch: int) -> list[str]:
    """Claim batches until nothing is left; what a worker of the export flow does."""
    start.wait()
    mine: list[str] = []
    while claimed := book.claim([State.PENDING], owner, limit=batch, lease_seconds=600):
        mine.extend(order.reference for order in claimed)
    return mine


def assert_claimed_exactly_once(references: list[str], per_worker: list[list[str]]) -> None:
    counts = Counter(ref for claimed in per_worker for ref in claimed)
    assert sorted(counts) == sorted(references)
    assert set(counts.values()) == {1}, [ref for ref, n in counts.items() if n > 1]


def test_claim_leases_rows_and_skips_held_ones(book: Ledger) -> None:
    """A claim leases free rows in the given states; a second claim does not see them."""
    register_many(book, 3)
    first = book.claim([State.PENDING], "w1", limit=2, lease_seconds=60)
    second = book.claim([State.PENDING], "w2", limit=5, lease_seconds=60)
    assert len(first) == 2 and len(second) == 1
    assert {o.lease_owner for o in first} == {"w1"} and second[0].lease_owner == "w2"
    assert not {o.reference for o in first} & {o.reference for o in second}
    assert book.claim([State.PENDING], "w3", limit=5, lease_seconds=60) == []


def test_a_claim_reads_orders_in_claim_order_from_an_index(book: Ledger, migrated_url: str) -> None:
    """The claim's query is answered by walking an index in claim order, not by sorting every order in the
    state (a reconcile of 50,000 shipped orders sorted them all for each part of 100); on PostgreSQL with
    sorts and sequential scans priced out, so the plan shows whether an index can serve the order at all."""
    register_many(book, 30)
    statements: list[tuple[str, Any]] = []

    def keep_claim(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "FOR UPDATE" in statement or ("ORDER BY" in statement and "lease_expires_at" in statement):
            statements.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", keep_claim)
    try:
        assert len(book.claim([State.PENDING], "w", limit=5, lease_seconds=60)) == 5
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", keep_claim)
    [(claim, parameters)] = [
        (text, params) for text, params in statements if text.lstrip().startswith("SELECT")
    ]
    engine = sa.create_engine(migrated_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET enable_sort = off")
                connection.exec_driver_sql("SET enable_seqscan = off")
                plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {claim}", parameters)]
                assert not any("Sort" in line for line in plan), plan
            else:
                plan = [
                    row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {claim}", parameters)
                ]
                assert not any("TEMP B-TREE" in line for line in plan), plan
    finally:
        engine.dispose()


def test_lease_owners_names_a_holder_in_every_state(book: Ledger) -> None:
    """Every claim first asks who holds leases (to free the dead ones' claims); the query names the states
    so an index serves it, and it must still see a holder whatever state its order is in."""
    for state in State:
        drive_to(book, f"order-{state}", state)
        assert book.claim([state], f"owner-{state}", limit=1, lease_seconds=60, references=[f"order-{state}"])
    assert book.lease_owners() == sorted(f"owner-{state}" for state in State)


def test_claim_filters_by_state_and_reference(book: Ledger) -> None:
    """Only rows in the named states, and among the named references when given, are claimed."""
    refs = register_many(book, 4)
    book.transition(refs[0], State.SUBMITTING, expected_from=[State.PENDING], owner=None)
    assert [o.reference for o in book.claim([State.SUBMITTING], "w", limit=9, lease_seconds=60)] == [refs[0]]
    claimed = book.claim([State.PENDING], "w", limit=9, lease_seconds=60, references=[refs[2], "unknown"])
    assert [o.reference for o in claimed] == [refs[2]]


def test_expired_lease_can_be_reclaimed(book: Ledger, clock: FakeClock) -> None:
    """A worker that died after claiming loses the row when the lease expires; another claims it."""
    register_many(book, 1)
    book.claim([State.PENDING], "dead", limit=1, lease_seconds=30)
    clock.advance(29)
    assert book.claim([State.PENDING], "w2", limit=1, lease_seconds=30) == []
    clock.advance(1)
    [order] = book.claim([State.PENDING], "w2", limit=1, lease_seconds=30)
    assert order.lease_owner == "w2"
    with pytest.raises(LeaseLostError, match="held by 'w2'"):
        book.transition(order.reference, State.SUBMITTING, expected_from=[State.PENDING], owner="dead")


def test_transition_with_a_lost_lease_changes_nothing(book: Ledger, clock: FakeClock) -> None:
    """With owner given, an expired, released or foreign lease raises LeaseLostError and writes nothing."""
    [ref] = register_many(book, 1)
    book.claim([State.PENDING], "w1", limit=1, lease_seconds=10)
    clock.advance(10)
    with pytest.raises(LeaseLostError, match="expired"):
        book.transition(ref, State.SUBMITTING, expected_from=[State.PENDING], owner="w1", count_attempt=True)
    book.claim([State.PENDING], "w1", limit=1, lease_seconds=10)
    assert book.release([ref], "w1") == [ref]
    with pytest.raises(LeaseLostError, match="no one holds it"):
        book.transition(ref, State.SUBMITTING, expected_from=[State.PENDING], owner="w1")
    record = book.get(ref)
    assert record is not None and record.state is State.PENDING and record.attempts == 0


def test_renew_extends_only_live_leases(book: Ledger, clock: FakeClock) -> None:
    """Renewing keeps a live lease; an expired or foreign one is not renewed and is reported missing."""
    a, b = register_many(book, 2)
    book.claim([State.PENDING], "w1", limit=2, lease_seconds=10)
    clock.advance(5)
    assert book.renew([a, b], "w2", lease_seconds=10) == []
    assert sorted(book.renew([a], "w1", lease_seconds=10)) == [a]
    clock.advance(7)
    assert book.renew([a, b], "w1", lease_seconds=10) == [a]
    book.transition(a, State.SUBMITTING, expected_from=[State.PENDING], owner="w1")


def test_release_lets_others_claim_at_once_and_released_rows_go_last(book: Ledger) -> None:
    """Released rows are claimable at once, after never-claimed ones (no starving the others)."""
    refs = register_many(book, 3)
    book.claim([State.PENDING], "w1", limit=1, lease_seconds=600)
    assert book.release([refs[0]], "w2") == []
    assert book.release([refs[0]], "w1") == [refs[0]]
    order = [o.reference for o in book.claim([State.PENDING], "w2", limit=3, lease_seconds=60)]
    assert order == [refs[1], refs[2], refs[0]]


def test_concurrent_claimers_never_overlap(book: Ledger) -> None:
    """Several threads draining one queue: every order is claimed exactly once."""
    references = register_many(book, 240)
    start = threading.Barrier(WORKERS)
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(drain, book, f"w{i}", start, 7) for i in range(WORKERS)]
        per_worker = [f.result() for f in futures]
    assert_claimed_exactly_once(references, per_worker)


def test_claimers_on_separate_engines_never_overlap(
    migrated_url: str, account: str, clock: FakeClock
) -> None:
    """Two Ledger instances (separate connection pools, as two processes would have) never share a row."""
    with (
        Ledger(migrated_url, account=account, clock=clock) as one,
        Ledger(migrated_url, account=account, clock=clock) as two,
    ):
        references = register_many(one, 200)
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(drain, one, "p1", start, 5), pool.submit(drain, two, "p2", start, 5)]
            per_worker = [f.result() for f in futures]
    assert_claimed_exactly_once(references, per_worker)


def test_competing_compare_and_set_has_one_winner(book: Ledger) -> None:
    """Two workers moving the same order from pending at once: exactly one succeeds, one gets a conflict."""
    for round_ in range(20):
        ref = f"race-{round_}"
        book.register([new_order(ref)])
        start = threading.Barrier(2)

        def attempt(ref: str = ref, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                book.transition(
                    ref, State.SUBMITTING, expected_from=[State.PENDING], owner=None, count_attempt=True
                )
            except StateConflictError:
                return "conflict"
            return "won"

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(lambda _: attempt(), range(2)))
        assert outcomes == ["conflict", "won"]
        record = book.get(ref)
        assert record is not None and record.attempts == 1


@pytest.mark.postgres
def test_postgres_claim_skips_rows_locked_by_another_transaction(postgres_url: str, clock: FakeClock) -> None:
    """While another connection holds row locks mid-claim, a claim returns the other rows without waiting."""
    ledger.migrate(postgres_url)
    engine = sa.create_engine(postgres_url)
    with Ledger(postgres_url, account="acme", clock=clock) as book, ThreadPoolExecutor(1) as pool:
        references = register_many(book, 6)
        try:
            with engine.begin() as other:
                locked = other.execute(
                    sa.text("SELECT reference FROM ledger_orders WHERE reference = ANY(:refs) FOR UPDATE"),
                    {"refs": references[:3]},
                ).scalars()
                assert sorted(locked) == references[:3]
                # Waiting on the locks would block until this transaction ends: bound it instead of hanging.
                claiming = pool.submit(book.claim, [State.PENDING], "w", limit=10, lease_seconds=60)
                claimed = claiming.result(timeout=20)
            assert sorted(o.reference for o in claimed) == references[3:]
        finally:
            engine.dispose()


def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path, clock: FakeClock) -> None:
    """While another process holds the SQLite write lock, reads still answer (WAL, deferred reads)."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    ledger.migrate(url)
    with Ledger(url, account="acme", clock=clock) as book, ThreadPoolExecutor(1) as pool:
        register_many(book, 2)
        writer = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            reading = pool.submit(lambda: (book.get("order-0000"), book.counts_by_state()))
            record, counts = reading.result(timeout=20)
            assert record is not None and counts[State.PENDING] == 2
        finally:
            writer.execute("ROLLBACK")
            writer.close()
