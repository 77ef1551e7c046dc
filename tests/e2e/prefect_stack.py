"""A real Prefect server, work pool, deployments and worker, each in its own process, for end-to-end tests.

``prefect_server(home, env)`` starts ``prefect server start`` on a free loopback port with its own fresh
PostgreSQL database (the SQLite-backed server showed "database is locked" flakes under load); the returned
:class:`PrefectServer` can be stopped and started again on the same port and database (the orchestrator
going away). ``prefect_stack(home, worker_env)`` starts one, creates the process work pool, registers the
block types, runs ``prefect deploy`` for every deployment of prefect.yaml whose entrypoint file exists in
this checkout, and starts ``prefect worker start`` with ``worker_env`` (and no lw3pl setting of the test's
own environment). The returned :class:`PrefectStack` triggers deployments as the UI's Run button does and
reads the REST API.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from lw3pl.core.settings import Settings
from tests.conftest import fresh_postgres_database

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "lw3pl-process"
RETRIES = 6
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
LW3PL_SETTINGS = frozenset(name.upper() for name in Settings.model_fields)
"""Never inherited from the test's shell: a worker has only the lw3pl settings its test gives it."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def project_deployments() -> list[dict[str, Any]]:
    """The deployment entries of prefect.yaml."""
    document = yaml.safe_load((REPO / "prefect.yaml").read_text())
    deployments: list[dict[str, Any]] = document["deployments"]
    return deployments


def _committed(path: str) -> bool:
    """True if ``path`` is in git (work in progress of others in a shared checkout does not count)."""
    listed = subprocess.run(
        ["git", "ls-files", "--error-unmatch", path],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    return listed.returncode == 0 if (REPO / ".git").exists() else (REPO / path).is_file()


def deployable() -> list[dict[str, Any]]:
    """Deployments of prefect.yaml whose entrypoint file is committed (flows still being written are left
    out rather than failing the whole ``deploy``)."""
    return [d for d in project_deployments() if _committed(d["entrypoint"].split(":")[0])]


@dataclass(frozen=True)
class FinishedRun:
    """A flow run that reached a final state."""

    id: str
    deployment: str
    state_type: str
    state_name: str
    seconds: float


class PrefectStack:
    """Handles to the running server and worker, and helpers to drive deployments and read the API."""

    def __init__(self, home: Path, env: dict[str, str], deployed: list[str], server: PrefectServer) -> None:
        self.home = home
        self.server = server
        self.env = env
        self.api_url = env["PREFECT_API_URL"]
        self.ui_url = self.api_url.removesuffix("/api")
        self.deployed = deployed
        self._http = httpx.Client(base_url=self.api_url, timeout=30)

    def close(self) -> None:
        self._http.close()

    def cli(self, *args: str, timeout: float = 240, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PREFECT, "--no-prompt", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"prefect {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self._request("POST", path, dict(body or {}))

    def set_parameters(self, name: str, parameters: Mapping[str, Any]) -> None:
        """Give deployment ``name`` default ``parameters`` (what ``parameters:`` in prefect.yaml sets): its
        schedules and Quick run use them, and the Custom run form starts from them."""
        self.update_deployment(name, {"parameters": dict(parameters)})

    def set_environment(self, name: str, env: Mapping[str, str]) -> None:
        """Give deployment ``name``'s runs ``env`` on top of the worker's environment (what ``job_variables:
        {env: ...}`` in prefect.yaml sets)."""
        self.update_deployment(name, {"job_variables": {"env": dict(env)}})

    def update_deployment(self, name: str, fields: Mapping[str, Any]) -> None:
        deployment_id = self.deployment(name)["id"]
        self._request("PATCH", f"/deployments/{deployment_id}", dict(fields))

    def delete_deployment(self, name: str) -> None:
        """Delete deployment ``name`` (its flow runs stay)."""
        deployment_id = self.deployment(name)["id"]
        self._request("DELETE", f"/deployments/{deployment_id}", None)

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        """One API call; a 503 (the server was busy: nothing was written) is retried, as
        Prefect's own client does."""
        for attempt in range(RETRIES):
            response = self._http.request(method, path, json=body)
            if response.status_code != 503 or attempt == RETRIES - 1:
                break
            time.sleep(min(0.5 * 2**attempt, 4.0))
        response.raise_for_status()
        return response.json() if response.content else None

    def run_deployment(self, name: str, timeout: float = 240) -> FinishedRun:
        """Trigger ``flow/deployment`` as the UI's Run button does; wait for the run's final state."""
        return self.wait(self.create_flow_run(name), name, timeout)

    def wait(self, flow_run_id: str, name: str, timeout: float = 240) -> FinishedRun:
        """Wait for a flow run of deployment ``name`` to reach its final state."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/flow_runs/{flow_run_id}")
            if run["state_type"] in FINAL_STATES:
                return FinishedRun(
                    flow_run_id, name, run["state_type"], run["state_name"], time.monotonic() - started
                )
            time.sleep(0.5)
        raise AssertionError(f"flow run of {name} did not finish within {timeout} s\n{self.worker_log()}")

    def deploy_for(
        self, name: str, suffix: str, parameters: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> str:
        """A copy of deployment ``flow/flow`` named ``flow/flow-<suffix>`` with its own ``parameters`` and
        its runs' ``env`` on top of the worker's (what a second seller's deployment in prefect.yaml would be,
        with ``job_variables: {env: ...}``); returns the new deployment's full name."""
        flow_name = name.split("/")[0]
        original = self.deployment(name)
        copied = ("flow_id", "entrypoint", "path", "pull_steps", "work_pool_name", "work_queue_name", "tags")
        body = {key: original[key] for key in copied}
        body |= {
            "name": f"{flow_name}-{suffix}",
            "parameters": dict(parameters),
            "concurrency_limit": original["concurrency_limit"],
            "concurrency_options": original["concurrency_options"],
            "paused": False,
            "job_variables": {"env": dict(env or {})},
        }
        self.post("/deployments/", body)
        return f"{flow_name}/{flow_name}-{suffix}"

    def create_flow_run(self, name: str) -> str:
        """A new flow run of deployment ``name`` with its default parameters (what "Quick run" does)."""
        deployment_id = self.deployment(name)["id"]
        created = self.post(f"/deployments/{deployment_id}/create_flow_run", {})
        flow_run_id: str = created["id"]
        return flow_run_id

    def deployment(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get(f"/deployments/name/{name}")
        return body

    def artifacts(self, flow_run_id: str) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self.post(
            "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}
        )
        return body

    def subflow_run_ids(self, flow_run_id: str) -> list[str]:
        """The flow runs started inside ``flow_run_id`` (the steps of fulfilment-cycle)."""
        runs = self.post("/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [flow_run_id]}}})
        return [run["id"] for run in runs]

    def concurrency_limits(self) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self.post("/v2/concurrency_limits/filter", {"limit": 200})
        return body

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self.post(
            "/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200}
        )
        return body

    def logs(self, flow_run_id: str) -> str:
        entries = self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200})
        return "\n".join(f"{entry['level']} {entry['message']}" for entry in entries)

    def worker_log(self) -> str:
        path = self.home / "worker.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else "(no worker log)"


def _wait_healthy(api_url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> None:
    # A cold server takes minutes to answer when the 2 cores run several test suites (seen: >120 s).
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"prefect server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def prefect_database_url(url: str) -> str:
    """The URL of a test PostgreSQL database as Prefect's server opens it (asyncpg)."""
    return url.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)


class PrefectServer:
    """``prefect server start`` on one port and one database; :meth:`stop` and :meth:`start` keep both."""

    def __init__(self, home: Path, env: dict[str, str], port: int, database_url: str) -> None:
        self.home = home
        self.env = env  # what a client needs; the database URL is only in the server's environment
        self.port = port
        self._server_env = env | {"PREFECT_API_DATABASE_CONNECTION_URL": prefect_database_url(database_url)}
        self.api_url = env["PREFECT_API_URL"]
        self.log = home / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (again) and wait until it answers; its log is appended to."""
        with open(self.log, "ab") as out:
            self._process = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self._server_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_healthy(self.api_url, self._process, self.log)

    def stop(self) -> None:
        """Stop the server process (SIGTERM, then SIGKILL); the database stays."""
        _stop(self._process)

    @contextmanager
    def away(self) -> Iterator[None]:
        """The orchestrator is gone for the block, then back on the same port and database."""
        self.stop()
        try:
            yield
        finally:
            self.start()


@contextmanager
def prefect_server(
    home: Path, extra_env: Mapping[str, str] | None = None, *, ui: bool = False
) -> Iterator[PrefectServer]:
    """A running Prefect server on a free loopback port and a fresh PostgreSQL database; both gone on exit.

    Its ``env`` is what a client of it needs (``PREFECT_API_URL``, ``PREFECT_HOME``) plus ``extra_env``.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k not in LW3PL_SETTINGS}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="true" if ui else "false",
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",  # only runs the test triggers
        LW3PL_PROJECT_DIR=str(REPO),
    )
    env.update(extra_env or {})
    with fresh_postgres_database("prefect_server") as database_url:
        server = PrefectServer(home, env, port, database_url)
        try:
            server.start()
            yield server
        finally:
            server.stop()


@contextmanager
def prefect_stack(home: Path, worker_env: Mapping[str, str], *, ui: bool = False) -> Iterator[PrefectStack]:
    """Start server -> create the pool -> deploy prefect.yaml -> start a worker; stop all on exit.

    ``ui``: the server also serves the Prefect UI (at the API URL without ``/api``), for the browser test.
    """
    worker_settings = {"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1"}
    worker_log = home / "worker.log"
    with prefect_server(home, worker_settings | dict(worker_env), ui=ui) as server:
        worker: subprocess.Popen[bytes] | None = None
        stack: PrefectStack | None = None
        try:
            names = [entry["name"] for entry in deployable()]
            stack = PrefectStack(home, server.env, names, server)
            stack.cli("work-pool", "create", POOL, "--type", "process", "--overwrite")
            stack.cli("block", "register", "-m", "lw3pl.core.blocks")
            stack.cli("deploy", *[arg for name in names for arg in ("-n", name)])
            with open(worker_log, "wb") as worker_out:
                worker = subprocess.Popen(
                    [PREFECT, "worker", "start", "--pool", POOL],
                    cwd=REPO,
                    env=server.env,
                    stdout=worker_out,
                    stderr=subprocess.STDOUT,
                )
            yield stack
        finally:
            if stack is not None:
                stack.close()
            _stop(worker)
