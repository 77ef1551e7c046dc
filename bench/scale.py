"""Cost per order as the open-order list grows: client CPU and peak memory per order at two or more sizes.

Each size runs in a fresh process of its own (its ledger, its sandboxes, its memory), all against one
Prefect server; limits are off. Per flow it prints orders/s, the flows process's CPU per order (every
thread: the flow, its tasks, Prefect's clients) and its peak memory per order: the peak RSS during the flow
(``VmHWM``, reset when the flow starts through ``/proc/self/clear_refs``) above the RSS when it started,
divided by the orders. ``--warm-up`` orders go through both flows first, unmeasured, so imports, pools and
caches filled on first use are not counted as per-order cost. The largest size's figures are then given as a
ratio of the smallest's (issue 10: within 1.3x). Sizes run in the order given; the default runs the small
size before and after the large one and compares with the mean of the two, because this machine's speed
drifts by 10-20 % over the minutes a large run takes.

Reconcile runs only up to ``--reconcile-up-to`` orders: on a loaded 2-core machine 50,000 orders through
both flows can take longer than a sitting; export is the flow that holds the open-order list.

``--postgres ADMIN_URL`` puts each size's ledger in a PostgreSQL database of its own, created through
``ADMIN_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and dropped afterwards: a new
ledger's statistics are those of an empty table, which once made each batch's lookups read the whole account.

Run from the repository root: ``.venv/bin/python -m bench.scale [--sizes 1000 50000 1000] [--warm-up 200]
[--reconcile-up-to 50000] [--postgres ADMIN_URL]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench.cycle import REPO, Phase, cycle, flow_settings, prefect_server, rss_mb
from bench.ledger import postgres_url


def _measure_one(
    orders: int, reconcile: bool, warm_up: int, api_url: str, workdir: Path, ledger_url: str | None
) -> dict[str, Any]:
    """One size in this process: the figures of each flow, as JSON-able numbers."""
    with flow_settings(api_url, workdir):
        baseline = rss_mb()
        export, reconciled, outcome = cycle(
            orders,
            False,
            10**6,
            ledger_url or f"sqlite:///{workdir / 'ledger.db'}",
            None,
            reconcile=reconcile,
            floor=False,
            warm_up=warm_up,
        )
    phases: list[Phase] = [export] + ([reconciled] if reconciled is not None else [])
    return {
        "orders": orders,
        "rss_before_mb": baseline,
        "outcome": outcome,
        "phases": {phase.name: _figures(phase) for phase in phases},
    }


def _figures(phase: Phase) -> dict[str, Any]:
    """Per order done (exported; processed): one reconcile run reads a bounded part of a long 3PL queue
    (ShipBob: 20 pages), so it may finish fewer orders than were shipped."""
    done = phase.counts.get("exported" if phase.name == "export" else "processed", 0) or phase.orders
    return {
        "done": done,
        "seconds": phase.seconds,
        "cpu_ms": 1000 * phase.client_cpu / done,
        "gc_ms": 1000 * phase.gc_seconds / done,
        "rss_kb": 1024 * phase.rss_growth_mb / done,
        "rss_mb": phase.rss_growth_mb,
        "statements": phase.statements / done,
        "result": {key: value for key, value in phase.counts.items() if value},
    }


def _run_size(
    orders: int, reconcile: bool, warm_up: int, api_url: str, workdir: Path, ledger_url: str | None
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.scale", "--one", str(orders), "--warm-up", str(warm_up)]
    command += ["--api-url", api_url, "--workdir", str(workdir)] + (["--reconcile"] if reconcile else [])
    command += ["--ledger-url", ledger_url] if ledger_url else []
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _print(results: list[dict[str, Any]]) -> None:
    for flow in ("export", "reconcile"):
        rows = [(r["phases"][flow]["done"], r["phases"][flow]) for r in results if flow in r["phases"]]
        if not rows:
            continue
        print(f"\n  {flow}")
        header = f"{'done':>7} {'s':>7} {'orders/s':>9} {'CPU ms/order':>13} {'GC ms':>6} {'RSS growth':>11}"
        print(f"    {header} {'KB/order':>9}")
        for done, f in rows:
            print(
                f"    {done:>7} {f['seconds']:>7.1f} {done / f['seconds']:>9.1f} {f['cpu_ms']:>13.2f} "
                f"{f['gc_ms']:>6.3f} "
                f"{f['rss_mb']:>8.1f} MB {f['rss_kb']:>9.2f}   {f['result']}"
            )
        sizes = sorted({done for done, _ in rows})
        if len(sizes) > 1:
            small, large = _mean_of(rows, sizes[0]), _mean_of(rows, sizes[-1])
            print(
                f"    {sizes[-1]} vs {sizes[0]}: CPU per order {large['cpu_ms'] / small['cpu_ms']:.2f}x, "
                f"peak RSS growth per order {large['rss_kb'] / small['rss_kb']:.2f}x (target: within 1.3x; "
                "a size run more than once counts as the mean of its runs)"
            )


def _mean_of(rows: list[tuple[int, dict[str, Any]]], size: int) -> dict[str, float]:
    """The per-order CPU and memory of ``size``, averaged over its runs (a small size run before and after
    the large one brackets the machine's drift over the minutes between)."""
    runs = [figures for done, figures in rows if done == size]
    return {key: sum(run[key] for run in runs) / len(runs) for key in ("cpu_ms", "rss_kb")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50_000, 1000])
    parser.add_argument(
        "--warm-up", type=int, default=200, help="orders through both flows first, unmeasured"
    )
    parser.add_argument("--reconcile-up-to", type=int, default=50_000)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="a PostgreSQL ledger per size (see above)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ledger-url", help=argparse.SUPPRESS)
    parser.add_argument("--reconcile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        figures = _measure_one(
            args.one, args.reconcile, args.warm_up, args.api_url, args.workdir, args.ledger_url
        )
        print(json.dumps(figures), flush=True)
        return
    print(
        f"Cost per order by size (limits off, {'PostgreSQL' if args.postgres else 'SQLite'} ledger, "
        f"warm-up {args.warm_up} orders, "
        "each size in its own process)"
    )
    with tempfile.TemporaryDirectory(prefix="lw3pl-scale-") as tmp, prefect_server(Path(tmp)) as (url, _):
        results = []
        for run, orders in enumerate(args.sizes):  # in the order given: 1000 50000 1000 brackets the drift
            workdir = Path(tmp) / f"{run}-{orders}"
            workdir.mkdir()
            reconcile = orders <= args.reconcile_up_to
            database = postgres_url(args.postgres) if args.postgres else nullcontext(None)
            with database as ledger_url:
                results.append(_run_size(orders, reconcile, args.warm_up, url, workdir, ledger_url))
            print(f"  {orders} orders done: {json.dumps(results[-1])}", flush=True)
        _print(results)


if __name__ == "__main__":
    main()
