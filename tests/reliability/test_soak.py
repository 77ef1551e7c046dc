"""Scenario 13: two-minute seeded soaks (``bench/soak.py``) with SIGKILLed ``lw3pl run`` workers.

The soak runs as the command a person runs, in its own process with its own sandboxes and Prefect server;
the ledger is this test's (a SQLite file, or a fresh PostgreSQL database). Select with ``-m soak``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import REPO

SOAK_MINUTES = 2
MIN_KILLS = 3
KILL_CHANCE = 0.8  # two minutes hold few runs on a loaded 2-core machine: kill most of them
TIMEOUT = 900  # the fault phase, the drain and a loaded machine's slow worker starts


def run_soak(seed: int, ledger_url: str, prefect_api_url: str) -> tuple[int, dict[str, Any], str]:
    """Run the soak command on the session's Prefect server; (exit code, its summary, all it printed)."""
    command = [
        sys.executable,
        str(REPO / "bench" / "soak.py"),
        f"--minutes={SOAK_MINUTES}",
        f"--seed={seed}",
        f"--ledger-url={ledger_url}",
        f"--min-kills={MIN_KILLS}",
        f"--kill-chance={KILL_CHANCE}",
        "--orders-per-minute=60",
        f"--prefect-api-url={prefect_api_url}",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    output = done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("soak: {")]
    summary = json.loads(lines[-1].removeprefix("soak: ")) if lines else {}
    return done.returncode, summary, output


@pytest.mark.soak
@pytest.mark.timeout(TIMEOUT + 60)
@pytest.mark.parametrize(
    ("ledger_url", "seed"),
    [("sqlite", 13), pytest.param("postgres", 31, marks=pytest.mark.postgres)],
    indirect=["ledger_url"],
)
def test_soak_with_sigkilled_workers_loses_and_duplicates_nothing(
    ledger_url: str, seed: int, prefect_api: tuple[str, Path]
) -> None:
    """Faults on both partners and SIGKILLed workers: lost 0, duplicated 0, unexpected 0, no violation."""
    returncode, summary, output = run_soak(seed, ledger_url, prefect_api[0])
    print(json.dumps(summary))  # the figures, for -rA / -s
    assert summary, output[-4000:]
    assert (summary["lost"], summary["duplicated"], summary["unexpected"]) == (0, 0, 0), output[-4000:]
    assert summary["violations"] == 0, output[-4000:]
    assert summary["kills"] >= MIN_KILLS, summary
    assert returncode == 0, output[-4000:]


def test_the_schedule_comes_from_the_seed() -> None:
    """Same seed, same plan (orders, faults, shipments, cancellations, launches, kill delays)."""
    from bench.soak import fingerprint, schedule

    first, again, other = (schedule(seed, 120, 120.0, 0.6) for seed in (5, 5, 6))
    assert first == again and fingerprint(first) == fingerprint(again)
    assert fingerprint(first) != fingerprint(other)
    launches = [launch for tick in first for launch in tick.launches]
    assert any(launch.kill is not None for launch in launches)
    kinds = {fault["kind"] for tick in first for fault in tick.linnworks_faults}
    assert kinds >= {"rate_limit", "drop_after"}
