"""What the Prefect server spends on what a flow run sends it: task runs, progress updates, table artifacts.

Starts a dedicated ``prefect server start`` (as bench/cycle.py does) and runs small flows against it, each
alone: an empty flow (the baseline), a flow of 27 no-op task runs (two in flight, as a 5,000-order export at
200 orders a batch had), 50 updates of a progress artifact (one per batch), and two 5,000-row table
artifacts. For each it prints the server process's CPU from the flow's start until the server is idle again,
less the idle server's own CPU over the same span (measured first). The flows' figures set
``flows._common.BATCHES_PER_RUN`` and ``tasks.reporting.PROGRESS_INTERVAL``.

Run from the repository root: ``.venv/bin/python -m bench.server_cost``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cycle import flow_settings, prefect_server, process_cpu_seconds, wait_server_idle

TASK_RUNS = 27
PROGRESS_UPDATES = 50
TABLE_ROWS = 5_000


def _flows() -> list[tuple[str, Callable[[], Any]]]:
    from prefect import flow, task
    from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
    from prefect.task_runners import ThreadPoolTaskRunner

    @task
    def nothing(number: int) -> int:
        return number

    @flow
    def empty() -> None:
        return None

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def task_runs() -> None:
        for future in [nothing.submit(number) for number in range(TASK_RUNS)]:
            future.result()

    @flow
    def progress_updates() -> None:
        artifact = create_progress_artifact(0.0)
        for step in range(PROGRESS_UPDATES):
            update_progress_artifact(artifact, 100.0 * step / PROGRESS_UPDATES)

    @flow
    def tables() -> None:
        rows = [
            {
                "order": str(n),
                "number": f"N{n}",
                "3PL id": f"R{n}",
                "carrier": "UPS",
                "tracking": f"1Z{n:012d}",
            }
            for n in range(TABLE_ROWS)
        ]
        create_table_artifact(table=rows, key="one")
        create_table_artifact(table=rows, key="two")

    return [
        ("empty flow", empty),
        (f"{TASK_RUNS} task runs", task_runs),
        (f"{PROGRESS_UPDATES} progress updates", progress_updates),
        (f"2 tables of {TABLE_ROWS:,} rows", tables),
    ]


def _idle_cpu_per_second(pid: int, seconds: float = 5.0) -> float:
    before = process_cpu_seconds(pid)
    time.sleep(seconds)
    return (process_cpu_seconds(pid) - before) / seconds


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="lw3pl-server-cost-"))
    with prefect_server(home) as (api_url, pid), flow_settings(api_url, home):
        flows = _flows()
        flows[0][1]()  # the first flow run of a fresh server pays for its caches: not counted
        wait_server_idle(pid)
        idle = _idle_cpu_per_second(pid)
        print(
            f"Prefect server CPU per flow run (idle server: {1000 * idle:.0f} ms of CPU a second, subtracted)"
        )
        for name, run in flows:
            before, started = process_cpu_seconds(pid), time.monotonic()
            run()
            wait_server_idle(pid)
            spent = process_cpu_seconds(pid) - before - idle * (time.monotonic() - started)
            print(f"  {name:<28} {spent:6.2f} s")


if __name__ == "__main__":
    main()
