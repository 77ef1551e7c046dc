"""Benchmark of the order cycle: export and then reconcile N orders through Prefect against the sandboxes.

Prints, for the export-orders and reconcile-shipments flows:

1. Limits off (sandbox limits off, client pacing scaled out of the way), ``--orders`` orders (default 10,000):
   orders/s per phase, Prefect task runs per 1,000 orders (counted on the Prefect server), API calls per
   order by method next to the minimum the APIs allow, the Prefect server's CPU, and peak memory; then the
   CPU of every process of the run (client, sandboxes, database, Prefect server) against the floor's, and
   the sandboxes' CPU for the floor's calls against lw3pl's (nearly the same calls, by endpoint and count).
2. Limits on, time scaled (``--time-scale``: a partner minute lasts ``60 / scale`` s on both the sandboxes
   and the clients), ``--limited-orders`` orders: each phase's throughput as a share of the limit that binds
   it (export: ShipBob's 150 requests/minute, one create per order; reconcile: Linnworks
   SetOrderShippingInfo, 250/minute, one call per order).

3. The Prefect global-limit pacer that deployed runs use for Linnworks (``--gcl-calls``, real time): its cost
   per call in the caller and on the server, and the rate one sequential caller achieves against 250/min.

Setup: the Linnworks and ShipBob sandboxes run in a child process (their CPU would otherwise count against
the flows); the warehouse behind ShipBob runs on a manual clock the benchmark moves. The ledger is SQLite
(a file in a temporary folder). Prefect is a dedicated ``prefect server start`` (SQLite, temporary
PREFECT_HOME) with flow heartbeats off; the flows run in this process with the runtime installed, so the
Linnworks client uses its in-process pacer (the Prefect global-limit pacer is proven by tests/e2e).
``--warm-up N`` sends N orders through both flows first, unmeasured (at least 20 when the floor runs: see
``cycle``): a fresh Prefect server took 0.37 s to create the first export flow run (the second flow's took
9 ms), most of the export's serial start.

Run: ``.venv/bin/python bench/cycle.py [--orders 10000] [--limited-orders 500] [--time-scale 10]
[--skip-limited] [--gcl-calls 100] [--warm-up 100] [--ledger-url postgresql+psycopg://.../empty_db]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere
PREFECT = str(Path(sys.executable).with_name("prefect"))
CENTRE = "3PL Warehouse"
SHIPBOB_CREATES_PER_MINUTE = 150
SHIPPING_INFO_PER_MINUTE = 250
BINDING = {"export": "ShipBob POST /2026-01/order", "reconcile": "Linnworks Orders/SetOrderShippingInfo"}
"""The call each phase makes once per order, under the limit that binds it (section 2)."""
BATCH = 100  # tasks.context.PART_SIZE: orders per Linnworks batch call in both flows
# Limits off: the clients' partner minute is this many times shorter, so their pacing is far above any rate
# reached (ShipBob 150/min -> 2,500/s). Not more: the Linnworks session's idle refresh scales with it too
# (18 min / scale), and at 10**6 (1 ms) every call under load re-authenticated, one at a time.
UNPACED_SCALE = 1000.0


# --- the child process: both sandboxes, driven by JSON lines on stdin -----------------------------------


def serve(limits: bool, time_scale: float) -> None:
    """Start the sandboxes, print how to reach them, then answer one JSON command per stdin line."""
    from sandbox.linnworks import LinnworksSandbox
    from sandbox.shipbob.server import ShipBobSandbox
    from sandbox.warehouse import ManualClock, Warehouse, WarehouseConfig

    clock = ManualClock()
    config = WarehouseConfig.deterministic(ship_delay=timedelta(hours=1))
    warehouse = Warehouse(seed=3, clock=clock, config=config)
    linnworks = LinnworksSandbox(seed=3, rate_limits=limits, time_scale=time_scale).start()
    shipbob = ShipBobSandbox(
        warehouse=warehouse, rate_limits=limits, time_scale=time_scale, auto_advance=False
    ).start()
    for item in linnworks.stock_items():
        warehouse.upsert_product(item["SKU"], title=item["SKU"])
        warehouse.set_on_hand(item["SKU"], 10**7)
    commands: dict[str, Callable[[dict[str, Any]], Any]] = {
        "seed": lambda c: len(linnworks.create_orders(int(c["count"]), _centre_id(linnworks))),
        "advance": lambda c: _advance(clock, warehouse, float(c["hours"])),
        "counts": lambda c: {
            "linnworks": linnworks.call_counts(),
            "shipbob": _shipbob_counts(shipbob),
            "throttled": _throttled(linnworks, shipbob),
        },
        "clear": lambda c: _clear(linnworks, shipbob),
        "pace": lambda c: _pace(_stamps(linnworks, shipbob, c["method"]), float(c["window"])),
        "outcome": lambda c: _outcome(linnworks, warehouse),
        "maxrss_mb": lambda c: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "centre": lambda c: _centre_id(linnworks),
    }
    info = {
        "auth_url": linnworks.auth_url,
        "application_id": linnworks.application_id,
        "application_secret": linnworks.application_secret,
        "installation_token": linnworks.installation_token,
        "shipbob_url": shipbob.url,
        "shipbob_token": shipbob.token,
        "shipbob_channel_id": shipbob.channel_id,
    }
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        print(json.dumps({"result": commands[command["cmd"]](command)}), flush=True)
    linnworks.stop()
    shipbob.stop()


def _centre_id(linnworks: Any) -> str:
    with linnworks._lock:
        locations = list(linnworks.account.locations.values())
    return str(next(loc["StockLocationId"] for loc in locations if loc["LocationName"] == CENTRE))


def _advance(clock: Any, warehouse: Any, hours: float) -> int:
    clock.now += timedelta(hours=hours)
    return len(warehouse.advance())


_ID = re.compile(r"/\d+(?=/|$)")


def _shipbob_counts(shipbob: Any) -> dict[str, int]:
    return dict(Counter(f"{r.method} {_ID.sub('/{id}', r.path)}" for r in list(shipbob.requests)))


def _throttled(linnworks: Any, shipbob: Any) -> dict[str, int]:
    """429 replies per API (the Linnworks log keeps the newest 50,000 calls)."""
    with linnworks._lock:
        linnworks_429 = sum(call.status == 429 for call in linnworks._log)
    return {"Linnworks": linnworks_429, "ShipBob": sum(r.status == 429 for r in list(shipbob.requests))}


def _stamps(linnworks: Any, shipbob: Any, method: str) -> list[float]:
    """When each successful call of ``method`` ("ShipBob POST /2026-01/order", "Linnworks Orders/...") was
    answered, in epoch seconds."""
    api, _, name = method.partition(" ")
    if api == "ShipBob":
        calls = list(shipbob.requests)
        return [r.at for r in calls if f"{r.method} {_ID.sub('/{id}', r.path)}" == name and r.status < 300]
    with linnworks._lock:
        log = list(linnworks._log)
    return [datetime.fromisoformat(c.time).timestamp() for c in log if c.method == name and c.status < 300]


def _pace(stamps: list[float], window: float) -> dict[str, float]:
    """The calls, the first and last (epoch seconds), the seconds between them, and the most in any rolling
    ``window``."""
    from bench.rates import most_in_window

    first, last = (min(stamps), max(stamps)) if stamps else (0.0, 0.0)
    most = most_in_window(stamps, window)
    return {"calls": len(stamps), "first": first, "last": last, "span": last - first, "most": most}


def _clear(linnworks: Any, shipbob: Any) -> bool:
    linnworks.clear_requests()
    shipbob.requests.clear()
    return True


def _outcome(linnworks: Any, warehouse: Any) -> dict[str, int]:
    """Orders at the warehouse, and Linnworks orders processed with the warehouse's tracking number."""
    remote = {order.reference: order for order in warehouse.list_orders()}
    processed_with_tracking = 0
    for order in linnworks.orders(state="processed"):
        shipped = remote.get(order["OrderId"])
        if shipped is not None and shipped.shipments:
            tracking = shipped.shipments[0].packages[0].tracking_number
            processed_with_tracking += order["ShippingInfo"]["TrackingNumber"] == tracking
    return {"at_warehouse": len(remote), "processed_with_tracking": processed_with_tracking}


class Sandboxes:
    """The child process and its command channel."""

    def __init__(self, limits: bool, time_scale: float) -> None:
        command = [sys.executable, __file__, "--serve", "--time-scale", str(time_scale)]
        if not limits:
            command.append("--no-limits")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        self.info: dict[str, Any] = json.loads(self._readline())

    def _readline(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox process exited")
        return line

    def call(self, cmd: str, **args: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        return json.loads(self._readline())["result"]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- Prefect server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def prefect_server(home: Path) -> Iterator[tuple[str, int]]:
    """A dedicated ``prefect server start`` on a temporary home; yields (API URL, server pid)."""
    url = f"http://127.0.0.1:{_free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
    )
    port = url.split(":")[2].split("/")[0]
    with open(home / "server.log", "wb") as log:
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300  # a loaded 2-core machine can take minutes to start it
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("prefect server did not start")
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children, from /proc."""
    return _stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())


def database_cpu_seconds() -> float:
    """CPU of every ``postgres`` process on the machine (the postmaster's waited-for children include the
    backends that have exited): the ledger's server side, which the flows process's own CPU leaves out."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended while the directory was read
        if text[text.find("(") + 1 : text.rfind(")")] == "postgres":
            total += _stat_cpu_seconds(text)
    return total


def _stat_cpu_seconds(stat: str) -> float:
    """utime + stime + cutime + cstime of a ``/proc/<pid>/stat`` line, in seconds (the fields after the
    command's closing parenthesis: the command itself may hold spaces)."""
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class HelperCpu:
    """CPU of the processes that work beside the client: the sandboxes and the database server. On two
    cores they share the machine with the client, so their CPU counts in the ratio too."""

    sandboxes: float
    database: float

    @classmethod
    def now(cls, boxes: Sandboxes) -> HelperCpu:
        return cls(process_cpu_seconds(boxes.process.pid), database_cpu_seconds())

    def since(self, before: HelperCpu) -> HelperCpu:
        return HelperCpu(self.sandboxes - before.sandboxes, self.database - before.database)


@dataclass(frozen=True)
class FloorRun:
    """One run of the bare client (bench/floor.py) over one phase: its time, its CPU and its helpers'."""

    seconds: float
    client: Usage
    helpers: HelperCpu

    @classmethod
    def mean(cls, runs: Sequence[FloorRun]) -> FloorRun:
        share = 1 / len(runs)
        return cls(
            share * sum(run.seconds for run in runs),
            Usage(
                share * sum(run.client.user for run in runs),
                share * sum(run.client.system for run in runs),
                round(share * sum(run.client.switches for run in runs)),
            ),
            HelperCpu(
                share * sum(run.helpers.sandboxes for run in runs),
                share * sum(run.helpers.database for run in runs),
            ),
        )


def task_run_count(api_url: str, flow_run_id: str) -> int:
    """Task runs of a flow run, once the server's count has stopped growing (it ingests events lazily)."""
    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 3:
        count = int(httpx.post(f"{api_url}/task_runs/count", json=body, timeout=30).json())
        if count != last:
            last, stable_since = count, time.monotonic()
        time.sleep(0.5)
    return last


def task_time_by_name(api_url: str, flow_run_id: str) -> dict[str, tuple[int, float]]:
    """Task runs of a flow run grouped by task name: (runs, seconds of run time)."""
    grouped: dict[str, tuple[int, float]] = {}
    offset = 0
    while True:
        body = {"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200, "offset": offset}
        runs = httpx.post(f"{api_url}/task_runs/filter", json=body, timeout=30).json()
        for run in runs:
            name = run["name"].rsplit("-", 1)[0]  # "export-batch-3f2" -> "export-batch"
            count, seconds = grouped.get(name, (0, 0.0))
            grouped[name] = (count + 1, seconds + float(run["total_run_time"]))
        if len(runs) < 200:
            return grouped
        offset += 200


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory in MB: ``VmRSS`` now, or ``VmHWM``, its peak since the last
    :func:`reset_peak_rss` (``ru_maxrss`` cannot be reset, so it only gives the whole process's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> None:
    """Start a new peak: Linux sets VmHWM to the current RSS when ``5`` is written to clear_refs."""
    Path("/proc/self/clear_refs").write_text("5")


def wait_server_idle(pid: int, quiet_seconds: float = 2.0, timeout: float = 300) -> float:
    """Wait until the server process stops using CPU (its event backlog is drained); seconds waited."""
    started = time.monotonic()
    previous = process_cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(quiet_seconds)
        current = process_cpu_seconds(pid)
        if current - previous < 0.1 * quiet_seconds:
            break
        previous = current
    return time.monotonic() - started


# --- one phase ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """This process's CPU split into user and kernel time, and its context switches: a thread that waits
    for the GIL or a lock switches out, so the switches show how much of the kernel time is threads
    handing work to each other rather than I/O."""

    user: float
    system: float
    switches: int

    @classmethod
    def now(cls) -> Usage:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(usage.ru_utime, usage.ru_stime, usage.ru_nvcsw + usage.ru_nivcsw)

    def since(self, before: Usage) -> Usage:
        return Usage(self.user - before.user, self.system - before.system, self.switches - before.switches)

    @property
    def cpu(self) -> float:
        return self.user + self.system

    def per_order(self, orders: int) -> str:
        return (
            f"{1000 * self.cpu / orders:.2f} ms (user {1000 * self.user / orders:.2f}, "
            f"kernel {1000 * self.system / orders:.2f}; {self.switches / orders:.1f} context switches)"
        )


@dataclass
class Phase:
    name: str
    orders: int
    seconds: float
    flow_run_id: str
    counts: dict[str, int]
    calls: dict[str, int]
    throttled: dict[str, int]
    server_cpu: float = 0.0
    client: Usage | None = None
    statements: int = 0
    commits: int = 0
    floor_runs: list[FloorRun] = field(default_factory=list)
    """The floor's runs of the same phase: one before lw3pl's and one after (the machine's speed drifts)."""
    helpers: HelperCpu | None = None
    task_runs: int = 0
    task_time: dict[str, tuple[int, float]] | None = None
    gc_seconds: float = 0.0
    """Time the flows process spent in Python's garbage collector during the flow (every thread)."""
    rss_growth_mb: float = 0.0
    """Peak RSS during the flow above the RSS when it started (this process)."""
    server_busy_after: float = 0.0
    """Seconds the Prefect server kept working on the flow's events after it ended (waited out, so the next
    phase, lw3pl's or the floor's, starts on a quiet machine)."""
    pace: dict[str, float] | None = None
    """Limits on: the binding call's count, first and last, first-to-last seconds and busiest rolling
    partner minute."""
    started_at: float = 0.0
    """When the flow was started (epoch seconds): the binding call's first minus this is the flow's serial
    start, the flow's end minus its last the tail."""

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds

    @property
    def client_cpu(self) -> float:
        return self.client.cpu if self.client else 0.0

    @property
    def floor(self) -> FloorRun | None:
        """The floor's runs averaged: what lw3pl's run is compared with."""
        return FloorRun.mean(self.floor_runs) if self.floor_runs else None


@contextmanager
def gc_timer() -> Iterator[list[float]]:
    """Seconds spent in garbage collections while the block runs (in ``[0]`` once it ends)."""
    spent, started = [0.0], [0.0]

    def on_collection(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(on_collection)
    try:
        yield spent
    finally:
        gc.callbacks.remove(on_collection)


def run_phase(
    name: str,
    orders: int,
    flow: Callable[..., Any],
    boxes: Sandboxes,
    server_pid: int | None,
    ledger: Any,
    minute: float | None = None,
) -> Phase:
    """Run ``flow`` once and measure it, with how the phase's binding call (BINDING) was spread over it
    (busiest rolling ``minute``: the partner's minute in real seconds, a real one with limits off)."""
    boxes.call("clear")
    cpu_before = process_cpu_seconds(server_pid) if server_pid else 0.0
    stats_before, client_before, helpers_before = ledger.stats(), Usage.now(), HelperCpu.now(boxes)
    reset_peak_rss()
    rss_before = rss_mb()
    started, started_at = time.perf_counter(), time.time()
    with gc_timer() as collecting:
        state = flow(return_state=True)
    elapsed = time.perf_counter() - started
    client, stats = Usage.now().since(client_before), ledger.stats()
    helpers = HelperCpu.now(boxes).since(helpers_before)
    rss_growth = rss_mb("VmHWM") - rss_before
    if not state.is_completed():
        raise RuntimeError(f"{name} ended {state.name}: {state.message}")
    counts = state.result()
    calls = boxes.call("counts")
    merged = {f"Linnworks {k}": v for k, v in calls["linnworks"].items()}
    merged |= {f"ShipBob {k}": v for k, v in calls["shipbob"].items()}
    flow_run_id = str(state.state_details.flow_run_id)
    phase = Phase(name, orders, elapsed, flow_run_id, counts, merged, calls["throttled"])
    phase.client, phase.started_at, phase.helpers = client, started_at, helpers
    phase.gc_seconds = collecting[0]
    phase.rss_growth_mb = rss_growth
    phase.pace = boxes.call("pace", method=BINDING[name], window=minute or 60.0)
    phase.statements = stats.statements - stats_before.statements
    phase.commits = stats.commits - stats_before.commits
    if server_pid:
        phase.server_cpu = process_cpu_seconds(server_pid) - cpu_before
        phase.server_busy_after = wait_server_idle(server_pid)
    return phase


# --- the scenario -----------------------------------------------------------------------------------------


def settings_for(boxes: Sandboxes, ledger_url: str, time_scale: float, account: str) -> Any:
    from pydantic import SecretStr

    from lw3pl.core.settings import Settings

    info = boxes.info
    return Settings(
        linnworks_auth_url=info["auth_url"],
        linnworks_application_id=info["application_id"],
        linnworks_application_secret=SecretStr(info["application_secret"]),
        linnworks_installation_token=SecretStr(info["installation_token"]),
        threepl_adapter="shipbob",
        shipbob_api_url=info["shipbob_url"],
        shipbob_api_token=SecretStr(info["shipbob_token"]),
        shipbob_channel_id=int(info["shipbob_channel_id"]),
        ledger_url=ledger_url,
        lw3pl_account=account,
        fulfilment_centre_name=CENTRE,
        shipping_service_map={"*": "Standard"},
        partner_time_scale=time_scale,
    )


def cycle(
    orders: int,
    limits: bool,
    time_scale: float,
    ledger_url: str,
    server_pid: int | None,
    *,
    reconcile: bool = True,
    floor: bool = True,
    warm_up: int = 0,
) -> tuple[Phase, Phase | None, dict[str, int]]:
    """Setup, seed ``orders``, export, ship them all, reconcile (unless not ``reconcile``); returns both
    phases and the outcome. With limits off, the floor runs too (unless not ``floor``). ``warm_up`` orders
    go through both flows first, unmeasured (bench/scale.py: first-use costs are not per-order costs)."""
    from flows.export import export_orders
    from flows.reconcile import reconcile_shipments
    from flows.setup import setup_fulfilment_centre
    from tasks.context import build_runtime, registered_runtime

    boxes = Sandboxes(limits, time_scale if limits else 1.0)  # sessions expire 1/scale faster
    try:
        account = f"bench-{'limited' if limits else 'unlimited'}-{orders}"
        settings = settings_for(boxes, ledger_url, time_scale, account)
        runtime = build_runtime(settings)
        reconciled = None
        try:
            with registered_runtime(runtime):
                setup_fulfilment_centre()
                floors = not limits and floor and reconcile
                before = run_floor(boxes, orders) if floors else {}  # before lw3pl's orders exist
                if before:
                    # The floor's orders are at ShipBob too. An hour on, lw3pl's warm-up run reads past them:
                    # its next pass starts 10 minutes (poll_overlap) before the warm-up's shipments, as a
                    # deployment's every-10-minutes schedule would, and re-reads none of the floor's.
                    boxes.call("advance", hours=1)
                    warm_up = max(warm_up, WARM_UP_AFTER_FLOOR)
                if warm_up:
                    boxes.call("seed", count=warm_up)
                    export_orders()
                    boxes.call("advance", hours=2)
                    reconcile_shipments()
                boxes.call("seed", count=orders)
                if server_pid:  # the setup flow's events drained: a busy server answers a new run 503
                    wait_server_idle(server_pid)
                minute = 60 / time_scale if limits else None
                ledger = runtime.ledger
                export = run_phase("export", orders, export_orders, boxes, server_pid, ledger, minute)
                boxes.call("advance", hours=2)
                if reconcile:
                    reconciled = run_phase(
                        "reconcile", orders, reconcile_shipments, boxes, server_pid, ledger, minute
                    )
        finally:
            runtime.close()
        if before and reconciled is not None:
            after = run_floor(boxes, orders)
            for phase in (export, reconciled):
                phase.floor_runs = [before[phase.name], after[phase.name]]
        return export, reconciled, boxes.call("outcome") | {"sandbox_maxrss_mb": boxes.call("maxrss_mb")}
    finally:
        boxes.close()


WARM_UP_AFTER_FLOOR = 20
"""Orders lw3pl sends through both flows, unmeasured, after the floor's first run (see ``cycle``)."""


def run_floor(boxes: Sandboxes, orders: int) -> dict[str, FloorRun]:
    """The bare exporter and reconciler (bench/floor.py) on ``orders`` fresh orders, same sandboxes; each
    phase's run by name. It runs once before lw3pl's flows and once after, and the two are averaged: on a
    shared machine whose speed drifts by a fifth from one minute to the next, one floor run on one side
    made the ratio swing with the drift."""
    from bench.floor import bare_export, bare_reconcile

    location = boxes.call("centre")
    boxes.call("seed", count=orders)
    runs: dict[str, FloorRun] = {}
    for name, run, hours in (("export", bare_export, 2.0), ("reconcile", bare_reconcile, 0.0)):
        usage, helpers, started = Usage.now(), HelperCpu.now(boxes), time.perf_counter()
        done = run(boxes.info, location)
        seconds = time.perf_counter() - started
        runs[name] = FloorRun(seconds, Usage.now().since(usage), HelperCpu.now(boxes).since(helpers))
        if done != orders:
            raise RuntimeError(f"the bare {name} did {done} of {orders} orders")
        boxes.call("advance", hours=hours)
    return runs


# --- reporting --------------------------------------------------------------------------------------------


def _per(count: int, size: int) -> int:
    return -(-count // size)


def minimum_calls(phase: str, orders: int, batch: int) -> list[tuple[str, int, str]]:
    """The fewest calls the APIs allow for ``orders`` orders (method, calls, why)."""
    if phase == "export":
        return [
            ("Linnworks Orders/GetAllOpenOrders", 1, "1 per run (every id in one reply)"),
            ("Linnworks Orders/GetOrdersById", _per(orders, batch), "1 per batch (details for the payload)"),
            ("Linnworks OpenOrders/AssignOrderIdentifier", _per(orders, batch), "1 per batch (the tag)"),
            ("ShipBob POST /2026-01/order", orders, "1 per order (ShipBob has no batch create)"),
        ]
    return [
        ("ShipBob GET /2026-01/order", _per(orders, 250) + 1, "1 per page of 250 queued orders + 1 empty"),
        (
            "ShipBob POST /2026-01/shipment:batchUpdateTrackingUpload",
            _per(orders, batch),
            "1 per batch (tracking acknowledged)",
        ),
        ("Linnworks Orders/SetOrderShippingInfo", orders, "1 per order (no batch form)"),
        ("Linnworks Orders/GetOrdersById", _per(orders, batch), "1 per batch (read-back; Processed in it)"),
        ("Linnworks Orders/ProcessOrdersInBatch", _per(orders, batch), "1 per batch"),
    ]


def print_phase(phase: Phase, batch: int) -> None:
    print(
        f"\n  {phase.name}: {phase.orders} orders in {phase.seconds:.1f} s = {phase.per_second:.1f} orders/s"
    )
    floor = phase.floor
    if floor is not None:
        each = ", ".join(f"{run.seconds:.1f} s" for run in phase.floor_runs)
        print(
            f"    floor (bare httpx, bench/floor.py): {phase.orders / floor.seconds:.1f} orders/s "
            f"(before and after lw3pl: {each}); lw3pl/floor time ratio {phase.seconds / floor.seconds:.2f}x"
        )
        if phase.client:
            print(f"    client CPU per order: lw3pl {phase.client.per_order(phase.orders)}")
            print(f"                          floor {floor.client.per_order(phase.orders)}")
        if phase.client and phase.helpers:
            print(f"    {machine_cpu(phase, floor)}")
    if phase.pace and phase.pace["span"]:
        print(f"    {serial_ends(phase)}")
    collecting = 1000 * phase.gc_seconds / phase.orders
    print(f"    garbage collection during the flow: {collecting:.3f} ms per order")
    print(
        f"    peak RSS growth during the flow: {phase.rss_growth_mb:.1f} MB = "
        f"{1024 * phase.rss_growth_mb / phase.orders:.2f} KB per order"
    )
    print(
        f"    ledger per order: {phase.statements / phase.orders:.2f} statements, "
        f"{phase.commits / phase.orders:.3f} commits"
    )
    nonzero = {key: value for key, value in phase.counts.items() if value}
    print(f"    flow result: {nonzero}")
    per_thousand = 1000 * phase.task_runs / phase.orders
    print(f"    Prefect task runs: {phase.task_runs} ({per_thousand:.1f} per 1,000 orders; target <= 20)")
    if phase.server_cpu:
        print(f"    Prefect server CPU during the flow: {phase.server_cpu:.1f} s")
    if phase.task_time:
        spent = ", ".join(f"{name} {runs}x {secs:.1f} s" for name, (runs, secs) in phase.task_time.items())
        print(f"    time in tasks (summed, tasks may overlap): {spent}")
    minimum = {method: (calls, why) for method, calls, why in minimum_calls(phase.name, phase.orders, batch)}
    print(f"    {'API calls by method':<44} {'calls':>7} {'per order':>9} {'minimum':>8}  why")
    total = least = 0
    for method in sorted(set(phase.calls) | set(minimum)):
        if method.startswith("Linnworks Auth/"):
            continue
        calls = phase.calls.get(method, 0)
        fewest, why = minimum.get(method, (0, ""))
        total, least = total + calls, least + fewest
        print(f"    {method:<44} {calls:>7} {calls / phase.orders:>9.3f} {fewest:>8}  {why}")
    print(
        f"    {'total':<44} {total:>7} {total / phase.orders:>9.3f} {least:>8}  "
        f"({total / least:.3f}x the minimum)"
    )


def machine_cpu(phase: Phase, floor: FloorRun) -> str:
    """The CPU every process of the run spent, lw3pl's run against the floor's: on two cores the sum, not
    the client's share alone, sets how fast either can go."""
    assert phase.client and phase.helpers
    ours, helpers = phase.client.cpu, phase.helpers
    lw3pl = ours + helpers.sandboxes + helpers.database + phase.server_cpu
    bare = floor.client.cpu + floor.helpers.sandboxes + floor.helpers.database
    # The sandboxes answer nearly the same calls in both runs (the call table: reconcile adds one
    # GetAllOpenOrders and one ShipBob page): their CPU would be nearly equal on a machine of steady speed.
    # Measured with the floor on both sides of lw3pl: about 1.0 for the export, 0.67-0.85 for the reconcile,
    # whose cause is not pinned down (in a profile, lw3pl's pull pages took the ShipBob sandbox longer to
    # render than the floor's queue pages).
    yardstick = floor.helpers.sandboxes / helpers.sandboxes if helpers.sandboxes else 0.0
    return (
        f"machine CPU: lw3pl {lw3pl:.1f} s (client {ours:.1f}, sandboxes {helpers.sandboxes:.1f}, database "
        f"{helpers.database:.1f}, Prefect server {phase.server_cpu:.1f}); floor {bare:.1f} s (client "
        f"{floor.client.cpu:.1f}, sandboxes {floor.helpers.sandboxes:.1f}); ratio {lw3pl / bare:.2f}x\n"
        f"    the sandboxes' CPU for the same calls, floor / lw3pl: {yardstick:.2f} (below 1.00: lw3pl's "
        f"requests cost them more, or the machine ran slower during lw3pl's run)"
    )


def serial_ends(phase: Phase) -> str:
    """How long the flow ran before its first binding call and after its last."""
    assert phase.pace is not None
    before = phase.pace["first"] - phase.started_at
    after = phase.started_at + phase.seconds - phase.pace["last"]
    first = BINDING[phase.name]
    return f"the flow's serial start {before:.2f} s (to the first {first}), its tail {after:.2f} s"


def unlimited(orders: int, ledger_url: str, api_url: str, server_pid: int, warm_up: int = 0) -> None:
    kind = ledger_url.split(":")[0]
    warm = f", after {warm_up} orders unmeasured" if warm_up else ""
    print(
        f"1. Limits off: {orders} orders (sandboxes in a child process, {kind} ledger, Prefect server{warm})"
    )
    export, reconcile, outcome = cycle(orders, False, UNPACED_SCALE, ledger_url, server_pid, warm_up=warm_up)
    assert reconcile is not None
    drained = export.server_busy_after + reconcile.server_busy_after
    for phase in (export, reconcile):
        phase.task_runs = task_run_count(api_url, phase.flow_run_id)
        phase.task_time = task_time_by_name(api_url, phase.flow_run_id)
        print_phase(phase, BATCH)
    total = export.seconds + reconcile.seconds
    print(
        f"\n  whole cycle: {orders / total:.1f} orders/s ({total:.1f} s); "
        f"server busy {drained:.0f} s after its flows"
    )
    print(f"  outcome: {outcome}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak memory (maxrss): flows process {rss:.0f} MB, "
        f"sandbox process {outcome['sandbox_maxrss_mb']:.0f} MB"
    )


def limited(orders: int, time_scale: float, ledger_url: str, server_pid: int, warm_up: int = 0) -> None:
    print(
        f"\n2. Limits on, time scale {time_scale:g} (a partner minute = {60 / time_scale:g} s): "
        f"{orders} orders"
    )
    export, reconcile, outcome = cycle(orders, True, time_scale, ledger_url, server_pid, warm_up=warm_up)
    assert reconcile is not None
    for phase, limit, what in (
        (export, SHIPBOB_CREATES_PER_MINUTE, "ShipBob 150 requests/min (1 create per order)"),
        (reconcile, SHIPPING_INFO_PER_MINUTE, "Linnworks SetOrderShippingInfo 250/min (1 per order)"),
    ):
        partner_minutes = phase.seconds * time_scale / 60
        rate = phase.orders / partner_minutes
        print(
            f"  {phase.name:<9} {phase.seconds:6.1f} s = {partner_minutes:5.2f} partner minutes, "
            f"{rate:6.1f} orders/partner-minute = {rate / limit:6.1%} of {what}"
        )
        if phase.pace and phase.pace["span"]:
            calls, span = int(phase.pace["calls"]), phase.pace["span"] * time_scale / 60
            steady = (calls - 1) / span
            print(
                f"    as the partner saw it: {calls} {BINDING[phase.name]} in {span:.2f} partner minutes "
                f"from the first to the last = {steady:.1f}/min = {steady / limit:.1%} of the limit; "
                f"busiest rolling minute {int(phase.pace['most'])} = {phase.pace['most'] / limit:.1%}"
            )
            print(f"    {serial_ends(phase)}")
        print(f"    429 replies: {phase.throttled}")
    print(f"  outcome: {outcome}")


def global_limit_pacer(server_pid: int, calls: int) -> None:
    """The pacer deployments use (tasks/pacing.py): its cost per call and the rate one caller achieves."""
    from tasks.pacing import PrefectRateLimitPacer

    print("\n3. Prefect global-limit pacer (tasks/pacing.py; every Linnworks call of a deployed flow run)")
    pacer = PrefectRateLimitPacer("bench-gcl")
    pacer.acquire("Orders/Unthrottled", 6_000_000)  # creates the limit
    cpu_before, started = process_cpu_seconds(server_pid), time.perf_counter()
    for _ in range(calls):
        pacer.acquire("Orders/Unthrottled", 6_000_000)
    elapsed = time.perf_counter() - started
    wait_server_idle(server_pid)
    server = process_cpu_seconds(server_pid) - cpu_before
    print(
        f"  unthrottled: {1000 * elapsed / calls:.1f} ms per acquire in the caller, "
        f"{1000 * server / calls:.1f} ms of Prefect server CPU per acquire"
    )
    per_minute = SHIPPING_INFO_PER_MINUTE
    pacer.acquire("Orders/Paced", per_minute)
    for _ in range(3):  # empty the burst, so the figure is the steady rate
        pacer.acquire("Orders/Paced", per_minute)
    started = time.perf_counter()
    for _ in range(calls):
        pacer.acquire("Orders/Paced", per_minute)
    rate = calls / (time.perf_counter() - started) * 60
    print(f"  one caller, limit {per_minute}/min: {rate:.0f}/min = {rate / per_minute:.1%} of the limit")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--limited-orders", type=int, default=500)
    parser.add_argument("--time-scale", type=float, default=3.0)
    parser.add_argument(
        "--ledger-url", help="an empty ledger database (default: a SQLite file in a temp dir)"
    )
    parser.add_argument("--warm-up", type=int, default=0, help="orders through both flows first, unmeasured")
    parser.add_argument("--skip-limited", action="store_true")
    parser.add_argument("--skip-unlimited", action="store_true")
    parser.add_argument("--gcl-calls", type=int, default=100, help="calls for section 3 (0: skip it)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-limits", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(limits=not args.no_limits, time_scale=args.time_scale)
        return
    with tempfile.TemporaryDirectory(prefix="lw3pl-bench-") as tmp:
        workdir = Path(tmp)
        with prefect_server(workdir) as (api_url, server_pid), flow_settings(api_url, workdir):
            ledger_url = args.ledger_url or f"sqlite:///{workdir / 'ledger.db'}"
            if not args.skip_unlimited:
                unlimited(args.orders, ledger_url, api_url, server_pid, args.warm_up)
            if not args.skip_limited:
                limited(args.limited_orders, args.time_scale, ledger_url, server_pid, args.warm_up)
            if args.gcl_calls:
                global_limit_pacer(server_pid, args.gcl_calls)


@contextmanager
def flow_settings(api_url: str, workdir: Path) -> Iterator[None]:
    """Run flows in this process against the server at ``api_url``: heartbeats off, results in ``workdir``."""
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_HOME"] = str(workdir)
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH,
        temporary_settings,
    )

    with temporary_settings(
        {
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_RESULTS_LOCAL_STORAGE_PATH: workdir / "results",
        }
    ):
        yield


if __name__ == "__main__":
    main()
