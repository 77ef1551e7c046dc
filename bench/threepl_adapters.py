"""Benchmark of the 3PL adapters against their sandboxes (each sandbox in its own process).

Per adapter it prints:

1. Limits off (no pacing, sandbox limits off): orders submitted per second, with 1 and with ``--threads``
   threads.
2. Limits on, time scaled (``--time-scale``, default 20: a ShipBob minute lasts 3 s on both sides), with
   ``--threads`` threads submitting as fast as the adapter lets them for ``--minutes`` partner minutes:
   the achieved request rate as a share of the published limit, and how many 429s came back (target:
   >= 95 % of the limit and no 429 caused by us).

Run: ``.venv/bin/python bench/threepl_adapters.py [--orders 400] [--minutes 3] [--time-scale 20]
[--threads 4] [--only shipbob]``

Adding an adapter: write a ``BenchTarget`` (``serve`` runs in the child process and returns what the
parent needs to connect; ``connect`` builds the adapter in the parent) and add it to ``TARGETS``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

import httpx
from pydantic import SecretStr

from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig
from clients.threepl import Address, FulfilmentOrder, OrderLine, SubmitOutcome, ThreePLAdapter


@dataclass(frozen=True)
class RunOptions:
    limits: bool
    time_scale: float


@dataclass(frozen=True)
class Connection:
    """An adapter plus a counter of the rate-limit replies it has seen (None: not measurable)."""

    adapter: ThreePLAdapter
    rate_limited: Callable[[], int] | None
    requests: Callable[[], int] | None


@dataclass(frozen=True)
class BenchTarget:
    """How to benchmark one adapter.

    Attributes:
        serve: runs in the child process: start the sandbox (with ``options``), return connection info
            (JSON-able strings); the child then serves until its stdin closes.
        connect: runs in the parent: build the adapter from that info for ``options``.
        per_minute: the published request limit the adapter paces to (None: no limit to measure).
        skus: SKUs the sandbox stocks plenty of (orders cycle through them).
    """

    serve: Callable[[RunOptions], dict[str, str]]
    connect: Callable[[dict[str, str], RunOptions], Connection]
    per_minute: int | None
    skus: tuple[str, ...]


# --- ShipBob -------------------------------------------------------------------------------------------


def serve_shipbob(options: RunOptions) -> dict[str, str]:
    from sandbox.shipbob import ShipBobSandbox
    from sandbox.warehouse import Warehouse, WarehouseConfig

    warehouse = Warehouse(seed=1, config=WarehouseConfig.deterministic())
    warehouse.seed_catalogue(10, on_hand=(10**7, 10**7))
    box = ShipBobSandbox(
        warehouse=warehouse, time_scale=options.time_scale, rate_limits=options.limits
    ).start()
    return {"url": box.url, "token": box.token, "channel_id": str(box.channel_id)}


class CountingTransport(httpx.BaseTransport):
    """Counts requests and 429 replies on their way through."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=32))
        self.requests = 0
        self.limited = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        with self._lock:
            self.requests += 1
            self.limited += response.status_code == 429
        return response

    def close(self) -> None:
        self.inner.close()


def connect_shipbob(info: dict[str, str], options: RunOptions) -> Connection:
    config = ShipBobConfig(
        base_url=info["url"],
        token=SecretStr(info["token"]),
        channel_id=int(info["channel_id"]),
        pace=options.limits,
        time_scale=options.time_scale,
        retry=RetryPolicy(max_attempts=8),
    )
    transport = CountingTransport()
    adapter = ShipBobAdapter(config, transport=transport)
    return Connection(adapter, lambda: transport.limited, lambda: transport.requests)


# --- SFTP ----------------------------------------------------------------------------------------------


_SERVING: list[object] = []


def serve_sftp(options: RunOptions) -> dict[str, str]:
    from sandbox.sftp import SftpSandbox
    from sandbox.warehouse import Warehouse, WarehouseConfig

    warehouse = Warehouse(seed=1, config=WarehouseConfig.deterministic())
    warehouse.seed_catalogue(10, on_hand=(10**7, 10**7))
    box = SftpSandbox(warehouse=warehouse).start()  # a file exchange has no rate limit to switch
    _SERVING.append(box)  # keep it (and its temporary root) alive while the child serves
    return {
        "host": box.host,
        "port": str(box.port),
        "username": box.username,
        "password": box.password,
        "host_key": box.host_public_key,
    }


def connect_sftp(info: dict[str, str], options: RunOptions) -> Connection:
    from clients.sftp import SftpAdapter, SftpConfig

    config = SftpConfig(
        host=info["host"],
        port=int(info["port"]),
        username=info["username"],
        password=SecretStr(info["password"]),
        host_public_key=info["host_key"],
    )
    return Connection(SftpAdapter(config), rate_limited=None, requests=None)


TARGETS: dict[str, BenchTarget] = {
    "shipbob": BenchTarget(
        serve_shipbob, connect_shipbob, per_minute=150, skus=tuple(f"SKU-{i:04d}" for i in range(1, 11))
    ),
    "sftp": BenchTarget(
        serve_sftp, connect_sftp, per_minute=None, skus=tuple(f"SKU-{i:04d}" for i in range(1, 11))
    ),
}


# --- the child process ------------------------------------------------------------------------------


def serve(name: str, options: RunOptions) -> None:
    info = TARGETS[name].serve(options)
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin


class Child:
    """A sandbox in its own process, so its CPU does not count against the adapter's."""

    def __init__(self, name: str, options: RunOptions) -> None:
        command = [sys.executable, __file__, "--serve", name, "--time-scale", str(options.time_scale)]
        if not options.limits:
            command.append("--no-limits")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.info: dict[str, str] = json.loads(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- measurements -------------------------------------------------------------------------------------


_references = count(1)


def make_order(skus: tuple[str, ...]) -> FulfilmentOrder:
    number = next(_references)
    return FulfilmentOrder(
        reference=f"BENCH-{time.time_ns()}-{number}",
        display_ref=str(number),
        ship_to=Address(
            name="Bench Buyer", line1="1 Test Road", city="Leeds", postcode="LS1 1AA", country_code="GB"
        ),
        service_code="Standard",
        lines=[OrderLine(line_ref=f"L{number}", sku=skus[number % len(skus)], quantity=1)],
    )


def submit_many(
    adapter: ThreePLAdapter, skus: tuple[str, ...], threads: int, *, orders: int | None, seconds: float | None
) -> tuple[int, float, int]:
    """Submit orders from ``threads`` threads until ``orders`` are done or ``seconds`` passed.

    Returns (orders accepted, elapsed seconds, failures).
    """
    accepted = failures = 0
    lock = threading.Lock()
    started = time.perf_counter()
    budget = [orders]

    def more() -> bool:
        with lock:
            if seconds is not None:
                return time.perf_counter() - started < seconds
            if budget[0] is None or budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def work() -> None:
        nonlocal accepted, failures
        while more():
            try:
                ok = adapter.submit_order(make_order(skus)).outcome is SubmitOutcome.ACCEPTED
            except Exception:  # noqa: BLE001 - the bench counts failures of any kind
                ok = False
            with lock:
                accepted += ok
                failures += not ok

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return accepted, time.perf_counter() - started, failures


def bench_unlimited(name: str, target: BenchTarget, orders: int, threads: int) -> list[str]:
    options = RunOptions(limits=False, time_scale=1.0)
    child = Child(name, options)
    rows = []
    try:
        for thread_count in (1, threads):
            connection = target.connect(child.info, options)
            done, elapsed, failed = submit_many(
                connection.adapter, target.skus, thread_count, orders=orders, seconds=None
            )
            connection.adapter.close()
            rows.append(
                f"{name:<10} {thread_count:>7} {done:>8} {failed:>6} {elapsed:>8.2f} {done / elapsed:>10.1f}"
            )
    finally:
        child.close()
    return rows


def bench_limited(name: str, target: BenchTarget, minutes: float, time_scale: float, threads: int) -> str:
    options = RunOptions(limits=True, time_scale=time_scale)
    child = Child(name, options)
    try:
        connection = target.connect(child.info, options)
        seconds = minutes * 60.0 / time_scale
        done, elapsed, failed = submit_many(
            connection.adapter, target.skus, threads, orders=None, seconds=seconds
        )
        connection.adapter.close()
    finally:
        child.close()
    requests = connection.requests() if connection.requests else done
    per_partner_minute = requests / (elapsed * time_scale / 60.0)
    share = f"{per_partner_minute / target.per_minute:>7.1%}" if target.per_minute else "    n/a"
    limited = connection.rate_limited() if connection.rate_limited else "n/a"
    numbers = f"{elapsed:>8.2f} {requests:>9} {failed:>6} {per_partner_minute:>12.1f}"
    return f"{name:<10} {time_scale:>6g} {numbers} {share} {limited!s:>6}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", action="append", choices=sorted(TARGETS))
    parser.add_argument("--serve", choices=sorted(TARGETS), help=argparse.SUPPRESS)
    parser.add_argument("--no-limits", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, RunOptions(limits=not args.no_limits, time_scale=args.time_scale))
        return
    names = args.only or sorted(TARGETS)
    print("1. Limits off: orders submitted per second")
    print(f"{'adapter':<10} {'threads':>7} {'orders':>8} {'failed':>6} {'seconds':>8} {'orders/s':>10}")
    for name in names:
        for row in bench_unlimited(name, TARGETS[name], args.orders, args.threads):
            print(row, flush=True)
    print(f"\n2. Limits on, time scaled: {args.minutes:g} partner minutes, {args.threads} threads")
    columns = ("seconds", 8), ("requests", 9), ("failed", 6), ("req/p-minute", 12), ("share", 7), ("429s", 6)
    print(f"{'adapter':<10} {'scale':>6} " + " ".join(f"{title:>{width}}" for title, width in columns))
    for name in names:
        print(bench_limited(name, TARGETS[name], args.minutes, args.time_scale, args.threads), flush=True)


if __name__ == "__main__":
    main()
