"""A real Prefect server, work pool, deployments and worker, each in its own process, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "lw3pl-process"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrefectStack:
    """Handles to the running server and worker, and helpers to drive deployments through the CLI."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.api_url = env["PREFECT_API_URL"]

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

    def run_deployment(self, name: str, timeout: float = 240) -> str:
        """Trigger a deployment as the UI's Run button does and wait for its final state; return it."""
        flow_run_id = self._create_flow_run(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self._flow_run_state(flow_run_id)
            if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                return state
            time.sleep(1)
        raise AssertionError(f"flow run of {name} did not finish within {timeout} s")

    def _create_flow_run(self, name: str) -> str:
        response = httpx.get(f"{self.api_url}/deployments/name/{name}", timeout=30)
        response.raise_for_status()
        deployment_id = response.json()["id"]
        created = httpx.post(f"{self.api_url}/deployments/{deployment_id}/create_flow_run", json={}, timeout=30)
        created.raise_for_status()
        flow_run_id: str = created.json()["id"]
        return flow_run_id

    def _flow_run_state(self, flow_run_id: str) -> str:
        response = httpx.get(f"{self.api_url}/flow_runs/{flow_run_id}", timeout=30)
        response.raise_for_status()
        state_type: str = response.json()["state_type"]
        return state_type

    def deployment(self, name: str) -> dict[str, object]:
        response = httpx.get(f"{self.api_url}/deployments/name/{name}", timeout=30)
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body


def _wait_healthy(api_url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
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


@contextmanager
def prefect_stack(home: Path, worker_env: Mapping[str, str]) -> Iterator[PrefectStack]:
    """Start server -> create the pool -> deploy prefect.yaml -> start a worker; stop all on exit."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="1",
        LW3PL_PROJECT_DIR=str(REPO),
    )
    env.update(worker_env)
    server_log = home / "server.log"
    worker_log = home / "worker.log"
    with open(server_log, "wb") as server_out:
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=server_out,
            stderr=subprocess.STDOUT,
        )
    worker: subprocess.Popen[bytes] | None = None
    try:
        _wait_healthy(env["PREFECT_API_URL"], server, server_log)
        stack = PrefectStack(home, env)
        stack.cli("work-pool", "create", POOL, "--type", "process", "--overwrite")
        stack.cli("block", "register", "-m", "lw3pl.blocks")
        stack.cli("deploy", "--all")
        with open(worker_log, "wb") as worker_out:
            worker = subprocess.Popen(
                [PREFECT, "worker", "start", "--pool", POOL],
                cwd=REPO,
                env=env,
                stdout=worker_out,
                stderr=subprocess.STDOUT,
            )
        yield stack
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
