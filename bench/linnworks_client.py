"""Benchmark of the Linnworks client against the sandbox running in its own process.

Prints two tables:

1. Client overhead with limits off (no pacing, sandbox quotas off): calls per second and client CPU per call
   (``time.process_time`` of this process only; the sandbox's CPU is in the child process).
2. Pacing with limits on and time scaled (``--time-scale``, default 60: a minute lasts one second on both
   sides): the achieved rate of several methods called at once, as a share of each method's limit, and how
   many 429s the sandbox answered (target: >= 95 % of the limit with zero 429s).

Run: ``.venv/bin/python bench/linnworks_client.py [--calls 400] [--minutes 5] [--time-scale 60]``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from pydantic import SecretStr

from clients.linnworks import ENDPOINTS, LinnworksClient, NoPacer


@dataclass
class Sandbox:
    """The sandbox child process and what a client needs to reach it."""

    process: subprocess.Popen[str]
    info: dict[str, str]

    @property
    def admin(self) -> str:
        return f"{self.info['data_url']}/_admin"

    def admin_call(self, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
        response = httpx.request(method, f"{self.admin}/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def client(self, **options: Any) -> LinnworksClient:
        return LinnworksClient(
            self.info["application_id"],
            SecretStr(self.info["application_secret"]),
            SecretStr(self.info["installation_token"]),
            auth_url=self.info["auth_url"],
            **options,
        )


def start_sandbox(seed: int) -> Sandbox:
    """``python -u -m sandbox.linnworks`` in a child process; reads its URLs and credentials from stdout."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "sandbox.linnworks", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    info: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        match = re.match(r"^\s+(\w+)\s+(\S+)\s*$", line)
        if match:
            info[match[1]] = match[2]
        if "admin" in info:
            break
    return Sandbox(process, info)


def overhead(sandbox: Sandbox, calls: int) -> None:
    """Sequential calls with no pacing and sandbox quotas off."""
    sandbox.admin_call("settings", {"rate_limits": False, "time_scale": 1.0})
    order_ids = [UUID(i) for i in sandbox.admin_call("orders", {"count": 10})["OrderIds"]]
    cases: dict[str, Callable[[LinnworksClient], object]] = {
        "Inventory/GetStockLocations": lambda c: c.get_stock_locations(),
        "Orders/GetAllOpenOrders": lambda c: c.get_all_open_orders(fulfilment_center=UUID(int=0)),
        "Orders/GetOrdersById (10 orders)": lambda c: c.get_orders_by_id(order_ids),
    }
    print("\n1. Client overhead, limits off (sequential, one thread)")
    print(f"{'method':<36} {'calls':>6} {'calls/s':>9} {'client CPU ms/call':>19} {'wall ms/call':>13}")
    with sandbox.client(pacer=NoPacer()) as client:
        client.get_stock_locations()  # open the session outside the measurement
        for name, call in cases.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                call(client)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            per_call = f"{cpu / calls * 1000:>19.2f} {wall / calls * 1000:>13.2f}"
            print(f"{name:<36} {calls:>6} {calls / wall:>9.0f} {per_call}")


PACED: dict[str, Callable[[LinnworksClient], object]] = {
    "Inventory/GetStockLocations": lambda c: c.get_stock_locations(),
    "OpenOrders/GetIdentifiers": lambda c: c.get_identifiers(),
    "Orders/GetAllOpenOrders": lambda c: c.get_all_open_orders(fulfilment_center=UUID(int=0)),
    "Stock/GetStockItems": lambda c: c.get_stock_items(entries_per_page=5),
}


def paced(sandbox: Sandbox, minutes: float, time_scale: float, threads_per_method: int) -> None:
    """Several methods at once, each driven harder than its limit; the pacer must hold them just below."""
    sandbox.admin_call("settings", {"rate_limits": True, "time_scale": time_scale})
    sandbox.admin_call("requests", method="DELETE")
    minute = 60.0 / time_scale
    calls: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    with sandbox.client(time_scale=time_scale) as client:
        client.get_stock_locations()  # session first, so the measured window is pacing only
        sandbox.admin_call("requests", method="DELETE")
        stop_at = time.perf_counter() + minutes * minute

        def drive(method: str, call: Callable[[LinnworksClient], object]) -> None:
            while time.perf_counter() < stop_at:
                try:
                    call(client)
                    calls[method] += 1
                except Exception as error:  # noqa: BLE001 - a benchmark counts failures, it does not stop
                    errors[f"{method}: {type(error).__name__}"] += 1

        started = time.perf_counter()
        workers = [
            threading.Thread(target=drive, args=(method, call))
            for method, call in PACED.items()
            for _ in range(threads_per_method)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed_minutes = (time.perf_counter() - started) / minute
    log = sandbox.admin_call("requests", method="GET")
    statuses = Counter((entry["method"], entry["status"]) for entry in log)
    print(
        f"\n2. Pacing, limits on, time_scale={time_scale:g} (a minute = {minute:.2f} s), {minutes:g} minutes,"
    )
    print(f"   {threads_per_method} threads per method, {len(PACED)} methods at once")
    print(f"{'method':<30} {'limit/min':>9} {'achieved/min':>13} {'share':>7} {'429s':>5}")
    for method in PACED:
        limit = ENDPOINTS[method].per_minute
        rate = calls[method] / elapsed_minutes
        print(f"{method:<30} {limit:>9} {rate:>13.1f} {rate / limit:>7.1%} {statuses[(method, 429)]:>5}")
    if errors:
        print("client errors:", dict(errors))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=400, help="calls per method for the overhead table")
    parser.add_argument("--minutes", type=float, default=5.0, help="scaled minutes for the pacing table")
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2, help="threads per method in the pacing run")
    args = parser.parse_args()
    sandbox = start_sandbox(seed=0)
    try:
        print(f"sandbox process pid {sandbox.process.pid} at {sandbox.info['data_url']}")
        overhead(sandbox, args.calls)
        paced(sandbox, args.minutes, args.time_scale, args.threads)
    finally:
        sandbox.process.terminate()
        sandbox.process.wait(timeout=10)


if __name__ == "__main__":
    main()
