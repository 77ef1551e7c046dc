"""Reliability scenarios: sandboxes on loopback, a ledger, the Prefect test API, flow subprocesses to kill.

The Prefect API is the session's test server: the flow tests' one when they started it, else one started here.
``rel_env`` is a :class:`tests.flows.conftest.FlowEnv` (SQLite ledger unless a test parametrizes
``ledger_url`` with ``"postgres"``); ``run_driver`` runs flows in a subprocess with a crash point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_CLIENT_MAX_RETRIES,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_RESULTS_LOCAL_STORAGE_PATH,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness
from pydantic import SecretStr

from lw3pl.core.settings import Settings
from sandbox.warehouse import WarehouseConfig
from tests.conftest import PREFECT_STARTUP_TIMEOUT
from tests.flows.conftest import FlowEnv, running_flow_env

REPO = Path(__file__).resolve().parents[2]
DRIVER_TIMEOUT = 120


@pytest.fixture(autouse=True, scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(API URL, results folder): the running test server if a flow test started one, else a new one."""
    results = tmp_path_factory.mktemp("reliability-results")
    with ExitStack() as stack:
        running = SubprocessASGIServer._instances.get(None)
        if running is None or not running.running:
            stack.enter_context(prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_TIMEOUT))
        stack.enter_context(
            temporary_settings(
                {
                    PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                    PREFECT_RESULTS_LOCAL_STORAGE_PATH: results,
                    PREFECT_CLIENT_MAX_RETRIES: 12,  # the test server's SQLite answers 503 while busy
                }
            )
        )
        yield str(PREFECT_API_URL.value()), results


@pytest.fixture
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file ledger, or a fresh PostgreSQL database when parametrized with ``"postgres"``."""
    if getattr(request, "param", "sqlite") == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Extra settings for ``rel_env`` (override in a test module or parametrize)."""
    return {}


@pytest.fixture
def rel_env(ledger_url: str, settings_overrides: dict[str, Any]) -> Iterator[FlowEnv]:
    """Linnworks + ShipBob sandboxes, a warehouse shipping one hour after acceptance, setup done."""
    config = WarehouseConfig.deterministic(timedelta(hours=1))
    with running_flow_env(ledger_url, config, seed=11, lease_seconds=60, **settings_overrides) as env:
        yield env


@dataclass
class DriverRun:
    """What a flow subprocess did: exit code, the JSON lines it printed, and everything it wrote."""

    returncode: int
    results: list[dict[str, Any]]
    output: str


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that rebuild ``settings`` in another process (secrets unwrapped)."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return env


def worker_env(settings: Settings, api_url: str, results: Path) -> dict[str, str]:
    """The environment of a worker process: ``settings`` and the Prefect server at ``api_url``, nothing of
    the test's own PREFECT_*, LW3PL_* or LINNWORKS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LW3PL_", "LINNWORKS_"))}
    env.update(settings_env(settings))
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(results),
            "PYTHONPATH": str(REPO),
        }
    )
    return env


@pytest.fixture
def run_driver(prefect_api: tuple[str, Path]) -> Callable[..., DriverRun]:
    """Run flows (``"export"``, ``"reconcile"``) in a subprocess with ``settings``, optionally crashing;
    ``run_driver.start(...)`` starts one without waiting (finish it with :func:`finish_driver`)."""
    api_url, results = prefect_api

    def run(settings: Settings, *flows: str, crashpoint: str | None = None) -> DriverRun:
        return finish_driver(start_driver(settings, *flows, crashpoint=crashpoint))

    def start_driver(settings: Settings, *flows: str, crashpoint: str | None = None) -> subprocess.Popen[str]:
        env = worker_env(settings, api_url, results)
        env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = "86400"
        if crashpoint:
            env["LW3PL_CRASHPOINT"] = crashpoint
        return subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.driver", *flows],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    run.start = start_driver  # type: ignore[attr-defined]
    return run


def finish_driver(process: subprocess.Popen[str]) -> DriverRun:
    """Wait for a driver started with ``run_driver.start`` and collect what it printed."""
    try:
        out, err = process.communicate(timeout=DRIVER_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"flow"')]
    return DriverRun(process.returncode, lines, out + err)
