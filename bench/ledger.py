"""Benchmark of the ledger's group commit: one transaction per order and step vs one per batch.

Moves ``--orders`` orders (default 5,000) through register -> submitting -> submitted (with a 3PL id) ->
exported, the export saga's ledger writes, two ways, on SQLite (a file in a temporary folder) and on
PostgreSQL (a fresh database, dropped afterwards):

- per order (the old way): ``register([order])`` and ``transition(...)`` once per order and step;
- per batch (the new way): ``register(batch)`` and ``transition_each(moves)`` once per batch and step.

Both claim and release per batch of ``--batch`` (default 100), as the export flow does. Prints orders/s,
statements/order and commits/order (counted by the ledger's engine listeners, ``Ledger.stats()``).

Run: ``.venv/bin/python bench/ledger.py [--orders 5000] [--batch 100] [--skip-postgres]
[--postgres-admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]``
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from anywhere; also puts the ledger package before this file

import ledger  # noqa: E402
from ledger import Changes, Ledger, Move, MoveStatus, NewOrder, State  # noqa: E402

OWNER = "bench:0:worker"
STEPS = (
    (State.SUBMITTING, State.PENDING),
    (State.SUBMITTED, State.SUBMITTING),
    (State.EXPORTED, State.SUBMITTED),
)


def orders(count: int) -> list[NewOrder]:
    return [NewOrder(reference=f"order-{i:06d}", num_order_id=str(i), payload_hash="h") for i in range(count)]


def claim(book: Ledger, state: State, batch: list[NewOrder]) -> list[str]:
    references = [order.reference for order in batch]
    claimed = book.claim([state], OWNER, limit=len(batch), lease_seconds=600, references=references)
    assert len(claimed) == len(batch)
    return references


def per_order(book: Ledger, batch: list[NewOrder]) -> None:
    for order in batch:
        book.register([order])
    references = claim(book, State.PENDING, batch)
    for to, expected in STEPS:
        for reference in references:
            changes: Changes = {"remote_id": f"R-{reference}"} if to is State.SUBMITTED else {}
            book.transition(reference, to, expected_from=[expected], owner=OWNER, **changes)
    book.release(references, OWNER)


def per_batch(book: Ledger, batch: list[NewOrder]) -> None:
    book.register(batch)
    references = claim(book, State.PENDING, batch)
    for to, expected in STEPS:
        moves = [
            Move(
                reference=reference,
                to=to,
                expected_from={expected},
                changes={"remote_id": f"R-{reference}"} if to is State.SUBMITTED else {},
            )
            for reference in references
        ]
        outcomes = book.transition_each(moves, owner=OWNER)
        assert all(outcome.status is MoveStatus.MOVED for outcome in outcomes)
    book.release(references, OWNER)


def run(url: str, way: Callable[[Ledger, list[NewOrder]], None], count: int, size: int) -> str:
    ledger.migrate(url)
    todo = orders(count)
    with Ledger(url, account="bench") as book:
        before = book.stats()
        start = time.perf_counter()
        for first in range(0, count, size):
            way(book, todo[first : first + size])
        elapsed = time.perf_counter() - start
        spent = book.stats()
        assert book.counts_by_state()[State.EXPORTED] == count
    statements = (spent.statements - before.statements) / count
    commits = (spent.commits - before.commits) / count
    return f"{count / elapsed:10.0f} {statements:16.2f} {commits:13.2f}"


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/ledger.db"


@contextmanager
def postgres_url(admin_url: str) -> Iterator[str]:
    name = f"lw3pl_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--postgres-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    databases: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [("sqlite", sqlite_url)]
    if not args.skip_postgres:
        databases.append(("postgres", lambda: postgres_url(args.postgres_admin_url)))
    print(f"{args.orders} orders, register -> submitting -> submitted -> exported, batches of {args.batch}")
    print(f"{'database':10} {'way':10} {'orders/s':>10} {'statements/order':>16} {'commits/order':>13}")
    for name, database in databases:
        for label, way in (("per order", per_order), ("per batch", per_batch)):
            with database() as url:
                print(f"{name:10} {label:10} {run(url, way, args.orders, args.batch)}", flush=True)


if __name__ == "__main__":
    main()
