"""What a batch's ledger work costs beside another batch's creates (why export runs one batch at a time on
SQLite: flows/export.py, ``PARALLEL``).

Run from the repository root: ``.venv/bin/python -m bench.contention [--orders 3000] [--creates 8]``.
The sandboxes run in a child process (bench/cycle.py). In this process the export saga's ledger writes
(bench/ledger.py, per batch of 100: register, claim, three moves, release) run on a SQLite file three times:
alone, beside ``--creates`` threads sending ShipBob creates as fast as the sandbox answers, and alone again.
Printed for each: the ledger thread's CPU and wall time per order, and the same for 100-row inserts into a
bare sqlite3 table, as ``executemany`` (one step per row) and as one multi-row INSERT (one step).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import SecretStr

import ledger
from bench.cycle import UNPACED_SCALE, Sandboxes
from bench.ledger import orders, per_batch
from clients.shipbob.adapter import ShipBobAdapter, ShipBobConfig
from clients.threepl.models import Address, FulfilmentOrder, OrderLine

BATCH = 100


def _order(reference: str) -> FulfilmentOrder:
    line = OrderLine(line_ref="1", sku="SOCK-BLK", quantity=1, unit_price=Decimal("5.00"), title="Socks")
    address = Address(name="Ann Lee", line1="1 High St", city="Leeds", postcode="LS1 1AA", country_code="GB")
    return FulfilmentOrder(
        reference=reference, display_ref="1", service_code="Standard", ship_to=address, lines=[line],
        currency="GBP", received_at=datetime.now(UTC),
    )  # fmt: skip


def _timed(work: Callable[[], int]) -> str:
    """``work`` returns how many orders or rows it handled; its thread CPU and wall time per one, in us."""
    cpu, wall = time.thread_time(), time.perf_counter()
    count = work()
    spent_cpu, spent_wall = time.thread_time() - cpu, time.perf_counter() - wall
    return f"{1e6 * spent_cpu / count:7.1f} / {1e6 * spent_wall / count:7.1f}"


def _ledger_work(count: int) -> int:
    url = f"sqlite:///{tempfile.mkdtemp()}/ledger.db"
    ledger.migrate(url)
    todo = orders(count)
    with ledger.Ledger(url, account="bench") as book:
        for start in range(0, count, BATCH):
            per_batch(book, todo[start : start + BATCH])
    return count


def _raw_inserts(multi_row: bool, batches: int = 200) -> int:
    database = sqlite3.connect(f"{tempfile.mkdtemp()}/raw.db", isolation_level=None)
    database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, at TEXT, n INTEGER)")
    for batch in range(batches):
        rows = [(batch * BATCH + i, "x" * 20, "2026-01-01 00:00:00.000000", i) for i in range(BATCH)]
        database.execute("BEGIN IMMEDIATE")
        if multi_row:
            values = ",".join(["(?,?,?,?)"] * BATCH)
            database.execute(f"INSERT INTO t VALUES {values}", [value for row in rows for value in row])
        else:
            database.executemany("INSERT INTO t VALUES (?,?,?,?)", rows)
        database.execute("COMMIT")
    database.close()
    return batches * BATCH


def _measure(label: str, count: int) -> None:
    ledger_figure = _timed(lambda: _ledger_work(count))
    many, multi = _timed(lambda: _raw_inserts(False)), _timed(lambda: _raw_inserts(True))
    print(f"  {label:28s} {ledger_figure}   {many}   {multi}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=3000, help="orders through the ledger per measurement")
    parser.add_argument("--creates", type=int, default=8, help="threads sending creates beside it")
    args = parser.parse_args(argv)
    boxes = Sandboxes(limits=False, time_scale=UNPACED_SCALE)
    info = boxes.info
    config = ShipBobConfig(
        info["shipbob_url"], SecretStr(info["shipbob_token"]), int(info["shipbob_channel_id"]), pace=False
    )
    adapter = ShipBobAdapter(config)
    stop = threading.Event()

    def send_creates(thread: int) -> None:
        sent = 0
        while not stop.is_set():
            sent += 1
            adapter.submit_order(_order(f"contention-{thread}-{sent}-{time.time_ns()}"))

    print("CPU / wall, microseconds per order (ledger) or per row (sqlite3), in the measuring thread")
    print(f"  {'':28s} {'ledger saga':>17s}   {'executemany':>17s}   {'multi-row INSERT':>17s}")
    try:
        _measure("alone", args.orders)
        senders = [threading.Thread(target=send_creates, args=(i,)) for i in range(args.creates)]
        for sender in senders:
            sender.start()
        time.sleep(1.0)  # the senders are in full flow
        _measure(f"beside {args.creates} creates in flight", args.orders)
        stop.set()
        for sender in senders:
            sender.join()
        _measure("alone again", args.orders)
    finally:
        stop.set()
        adapter.close()
        boxes.close()


if __name__ == "__main__":
    main()
