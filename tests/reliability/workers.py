"""``lw3pl run FLOW`` as a seller's scheduler starts it: its own process, settings from the environment,
pointed at a test's own Prefect server (tests/e2e/prefect_stack.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lw3pl.core.settings import Settings
from tests.e2e.prefect_stack import PrefectServer
from tests.reliability.conftest import worker_env

REPO = Path(__file__).resolve().parents[2]
LW3PL = str(Path(sys.executable).with_name("lw3pl"))
RUN_TIMEOUT = 240.0


@dataclass(frozen=True)
class FinishedWorker:
    """What an ``lw3pl run`` process did: exit code and everything it printed."""

    returncode: int
    output: str


def start_lw3pl_run(
    settings: Settings, server: PrefectServer, flow: str, extra_env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``lw3pl run flow`` with ``settings`` against ``server``; finish it with :func:`finish`."""
    env = worker_env(settings, server.api_url, server.home / "results")
    env["PREFECT_HOME"] = str(server.home)
    env.update(extra_env or {})
    return subprocess.Popen(
        [LW3PL, "run", flow],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = RUN_TIMEOUT) -> FinishedWorker:
    """Wait for an ``lw3pl run`` process (killed after ``timeout``) and collect what it printed."""
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        out += f"\n(killed after {timeout} s)"
    return FinishedWorker(process.returncode, out)
