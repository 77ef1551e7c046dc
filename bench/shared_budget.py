"""The shared Linnworks budget (tasks/pacing.py): the rate one worker reaches alone, and several together.

Run from the repository root: ``.venv/bin/python -m bench.shared_budget [--workers 3] [--minutes 2]``.
A dedicated Prefect server is started; each worker is its own process with its own
``PrefectRateLimitPacer`` for one account, calling ``acquire`` as fast as it is allowed for one method.
The partner's minute is time-scaled (``--time-scale``). Printed: calls per partner minute as a share of
the limit, for one worker alone and for the workers together, and the most calls any rolling partner
minute held (must not exceed the limit: that is what Linnworks counts).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from bench.cycle import prefect_server
from bench.rates import most_in_window


def _worker(
    account: str, method: str, per_minute: int, time_scale: float, start: float, until: float
) -> list[float]:
    from tasks.pacing import PrefectRateLimitPacer

    pacer = PrefectRateLimitPacer(account, time_scale)
    time.sleep(max(0.0, start - time.time()))  # every worker starts together, imports done
    stamps: list[float] = []
    while time.time() < until:
        pacer.acquire(method, per_minute)
        stamps.append(time.time())
    return stamps


def _measure(workers: int, per_minute: int, time_scale: float, minutes: float, account: str) -> None:
    seconds = minutes * 60 / time_scale
    start = time.time() + 30  # a loaded machine needs a while to start the processes and import Prefect
    args = [
        (account, "Orders/SetOrderShippingInfo", per_minute, time_scale, start, start + seconds)
    ] * workers
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(_worker, args)
    stamps = sorted(stamp for result in results for stamp in result)
    steady = [s for s in stamps if s >= start + 60 / time_scale / 10]  # the first blocks are a burst
    span_minutes = (steady[-1] - steady[0]) * time_scale / 60
    rate = (len(steady) - 1) / span_minutes
    most = most_in_window(stamps, 60 / time_scale)
    shares = ", ".join(str(len(result)) for result in results)
    print(
        f"  {workers} worker(s): {rate:6.1f} calls/partner-minute = {rate / per_minute:6.1%} "
        f"of {per_minute}; most in a rolling minute {most} (limit {per_minute}); calls per worker {shares}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=3.0, help="partner minutes per measurement")
    parser.add_argument("--time-scale", type=float, default=6.0)
    parser.add_argument("--per-minute", type=int, default=250)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lw3pl-budget-") as tmp, prefect_server(Path(tmp)) as (url, _):
        os.environ["PREFECT_API_URL"] = url
        os.environ["PREFECT_HOME"] = tmp
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
        print(f"Shared Linnworks budget, limit {args.per_minute}/min, time scale {args.time_scale:g}")
        _measure(1, args.per_minute, args.time_scale, args.minutes, "alone")
        _measure(args.workers, args.per_minute, args.time_scale, args.minutes, "shared")


if __name__ == "__main__":
    main()
