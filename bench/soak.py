"""Scenario 13 of RELIABILITY.md: a seeded soak of ``lw3pl run`` workers under faults and SIGKILLs.

For ``--minutes N`` it keeps adding paid orders and decoys (unpaid, parked, locked, at another location) to
the Linnworks sandbox, makes the warehouse behind the ShipBob sandbox ship (some partly, some in parcels)
and cancel, cancels some orders in Linnworks, arms faults on both partners (429 with every Retry-After form,
5xx, slow replies, connections dropped before and after the partner did the work), starts export-orders /
reconcile-shipments / sync-stock workers as real ``lw3pl run`` subprocesses (up to ``--workers`` at once),
each in its own process group, and SIGKILLs some of them at a random moment of their flow run. Then it drains
without faults (runs the flows until nothing is left to do) and checks C1-C5 and:

- every eligible order is at the 3PL exactly once (lost, duplicated), no decoy is (unexpected);
- every shipped order is processed in Linnworks with the first parcel's tracking number, written and read
  back before the process call (from the Linnworks sandbox's request log);
- every Linnworks cancellation of an order the 3PL had is carried (cancelled at the 3PL);
- Linnworks stock at the fulfilment centre equals the warehouse's on-hand.

It prints the seed, the schedule's fingerprint, kills, runs, orders, lost, duplicated, unexpected, how long a
killed worker's claims outlived it and the longest wait of its orders before another run moved them, and
exits 1 on any violation. The schedule (what happens at which tick: orders, faults, shipments, cancellations,
launches, kill delays) comes from the seed alone; which order an action picks and where a kill lands in the
worker's code depend on timing, so two runs of one seed differ in those details.

Prefect: one ``prefect server start`` (SQLite, temporary home) shared by every worker, unless
``--prefect-api-url`` names a running server. The sandboxes run in this process; the ledger is a SQLite file
(``--ledger sqlite``), a fresh PostgreSQL database (``--ledger postgres``, dropped after) or ``--ledger-url``.

Run: ``.venv/bin/python bench/soak.py --minutes 10 --seed 1 [--ledger postgres] [--orders-per-minute 120]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from bench.cycle import prefect_server  # noqa: E402
from ledger import Ledger, State  # noqa: E402
from sandbox.shipbob.server import ORDERS_PATH  # noqa: E402
from sandbox.warehouse import OrderStatus, Warehouse, WarehouseConfig  # noqa: E402
from tests.flows.conftest import FlowEnv, running_flow_env  # noqa: E402
from tests.reliability.checks import check_all, check_c5  # noqa: E402
from tests.reliability.conftest import settings_env  # noqa: E402

LW3PL = str(Path(sys.executable).with_name("lw3pl"))
TICK_SECONDS = 1.0
POLL_SECONDS = 0.1
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DRAIN_RUN_SECONDS = 3600
QUEUE = 4  # launches waiting for a free worker slot, at most
FLOWS = (("export-orders", 5), ("reconcile-shipments", 4), ("sync-stock", 1))
DECOYS = ("unpaid", "parked", "locked", "other_location")
LINNWORKS_METHODS = (
    "*",
    "Orders/GetOrdersById",
    "Orders/SetOrderShippingInfo",
    "Orders/ProcessOrdersInBatch",
    "Orders/ProcessFulfilmentCentreOrder",
    "Orders/GetAllOpenOrders",
    "Stock/SetStockLevel",
)
LINNWORKS_FAULTS = ("rate_limit", "server_error", "slow", "drop_before", "drop_after")
RETRY_AFTER_FORMS = ("seconds", "http_date", "missing", "garbage")
SHIPBOB_FAULTS = ("429", "500", "502", "503", "504", "slow", "drop", "accept_then_drop")
WAREHOUSE_OPEN = (
    OrderStatus.ACCEPTED,
    OrderStatus.ON_HOLD,
    OrderStatus.BACKORDERED,
    OrderStatus.PARTIALLY_SHIPPED,
)
READ_METHODS = ("orders/getordersbyid", "orders/getorderbyid")
PROCESS_METHODS = (
    "orders/processordersinbatch",
    "orders/processfulfilmentcentreorder",
    "orders/processorder",
)
# States a claimed order leaves on the next run of its flow (the others wait for the warehouse).
NEXT_RUN_MOVES = (
    State.PENDING,
    State.SUBMITTING,
    State.SHIPPED,
    State.TRACKING_WRITTEN,
    State.CANCEL_REQUESTED,
)
UNSETTLED = frozenset(State) - {State.PROCESSED, State.CANCELLED, State.ON_HOLD}


# --- the schedule: a pure function of the seed ------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    """When to SIGKILL a worker: ``delay`` s after its flow run has logged ``task_lines`` task-run lines.

    Counting the run's own task lines puts the kill inside its work (between or inside batches, during a
    partner call or a ledger write) however slow the machine is; the delay moves it off the log line.
    """

    task_lines: int
    delay: float


@dataclass(frozen=True)
class Launch:
    """Start a ``flow`` worker and SIGKILL its process group at ``kill`` (None: let it finish)."""

    flow: str
    kill: Kill | None


@dataclass(frozen=True)
class Tick:
    """What the soak does in one tick. ``picks`` are numbers in [0, 1) that choose among the candidates."""

    orders: int
    decoys: tuple[str, ...] = ()
    linnworks_faults: tuple[dict[str, Any], ...] = ()
    shipbob_faults: tuple[dict[str, Any], ...] = ()
    ships: tuple[tuple[float, int, bool], ...] = ()  # (pick, parcels, partial)
    warehouse_cancels: tuple[float, ...] = ()
    linnworks_cancels: tuple[float, ...] = ()
    launches: tuple[Launch, ...] = ()


def schedule(seed: int, ticks: int, orders_per_minute: float, kill_chance: float) -> list[Tick]:
    """The soak's plan for ``ticks`` ticks; the same seed gives the same plan."""
    rng = random.Random(seed)
    per_tick = orders_per_minute * TICK_SECONDS / 60
    return [_tick(rng, per_tick, kill_chance) for _ in range(ticks)]


def _tick(rng: random.Random, per_tick: float, kill_chance: float) -> Tick:
    orders = int(per_tick) + (rng.random() < per_tick % 1)
    return Tick(
        orders=orders,
        decoys=tuple(rng.choice(DECOYS) for _ in range(rng.random() < 0.2)),
        linnworks_faults=tuple(_linnworks_fault(rng) for _ in range(rng.random() < 0.25)),
        shipbob_faults=tuple(_shipbob_fault(rng) for _ in range(rng.random() < 0.2)),
        ships=tuple(
            (rng.random(), rng.choice((1, 1, 1, 2, 3)), rng.random() < 0.15)
            for _ in range(int(per_tick * 0.8) + (rng.random() < (per_tick * 0.8) % 1))
        ),
        warehouse_cancels=tuple(rng.random() for _ in range(rng.random() < 0.03)),
        linnworks_cancels=tuple(rng.random() for _ in range(rng.random() < 0.06)),
        launches=tuple(_launch(rng, kill_chance) for _ in range(rng.random() < 0.3)),
    )


def _linnworks_fault(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(LINNWORKS_FAULTS)
    fault: dict[str, Any] = {
        "kind": kind,
        "method": rng.choice(LINNWORKS_METHODS),
        "count": rng.randint(1, 3),
    }
    if kind == "rate_limit":
        fault.update(retry_after=rng.choice(RETRY_AFTER_FORMS), retry_after_seconds=rng.randint(1, 3))
    elif kind == "server_error":
        fault["status"] = rng.choice((500, 502, 503))
    elif kind == "slow":
        fault["delay_seconds"] = round(rng.uniform(0.5, 3.0), 2)
    return fault


def _shipbob_fault(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(SHIPBOB_FAULTS)
    fault: dict[str, Any] = {"kind": kind, "times": rng.randint(1, 2)}
    if rng.random() < 0.6:  # most on the order endpoints, the rest on any request
        fault.update(path=ORDERS_PATH)
    if kind == "slow":
        fault["delay_seconds"] = round(rng.uniform(0.5, 3.0), 2)
    if kind == "429":
        fault["retry_after"] = rng.randint(1, 3)
    return fault


def _launch(rng: random.Random, kill_chance: float) -> Launch:
    flow = rng.choices([name for name, _ in FLOWS], weights=[weight for _, weight in FLOWS])[0]
    if rng.random() >= kill_chance:
        return Launch(flow, None)
    return Launch(flow, Kill(task_lines=rng.randint(0, 6), delay=round(rng.uniform(0.0, 2.0), 2)))


def fingerprint(plan: list[Tick]) -> str:
    """A short hash of the plan: equal for equal seeds and options."""
    return hashlib.sha256(repr(plan).encode()).hexdigest()[:12]


# --- workers ----------------------------------------------------------------------------------------------


@dataclass
class Worker:
    """One ``lw3pl run`` subprocess and what became of it."""

    flow: str
    process: subprocess.Popen[bytes]
    log: Path
    kill: Kill | None
    launched: float = field(default_factory=time.monotonic)
    kill_due: float | None = None
    killed_at: datetime | None = None
    returncode: int | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Workers:
    """Starts, watches and kills the workers; keeps every one for the report."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self._env = env
        self._logs = logs
        self.all: list[Worker] = []

    @property
    def running(self) -> list[Worker]:
        return [w for w in self.all if w.returncode is None]

    def start(self, flow: str, kill: Kill | None = None) -> Worker:
        log = self._logs / f"{len(self.all):04d}-{flow}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [LW3PL, "run", flow],
                cwd=REPO,
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes every child with it
            )
        worker = Worker(flow, process, log, kill)
        self.all.append(worker)
        return worker

    def watch(self) -> list[Worker]:
        """Reap finished workers; SIGKILL those whose moment came; returns the workers killed now."""
        killed = []
        for worker in self.running:
            worker.returncode = worker.process.poll()
            if worker.returncode is not None:
                continue
            if worker.kill is not None and worker.kill_due is None and _reached(worker.output(), worker.kill):
                worker.kill_due = time.monotonic() + worker.kill.delay
            if worker.kill_due is not None and time.monotonic() >= worker.kill_due:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.killed_at = datetime.now(UTC)
                worker.returncode = worker.process.wait()  # reaped: its pid is gone, as after a real crash
                killed.append(worker)
        return killed

    def wait_all(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            self.watch()
            time.sleep(POLL_SECONDS)
        self.kill_all()  # stuck: report it as a failure, do not hang the soak

    def kill_all(self) -> None:
        """Stop every running worker (the soak is ending early)."""
        for worker in self.running:
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.returncode = worker.process.wait()

    def run(self, flow: str) -> Worker:
        """Run one worker to its end (drain: no kill; a cycle over a thousand shipped orders on a loaded
        machine took over 300 s)."""
        worker = self.start(flow)
        self.wait_all(timeout=DRAIN_RUN_SECONDS)
        return worker


def _reached(output: str, kill: Kill) -> bool:
    """The flow run began and has logged ``kill.task_lines`` task-run lines."""
    return "Beginning flow run" in output and output.count("| Task run '") >= kill.task_lines


def worker_env(env: FlowEnv, api_url: str, home: Path) -> dict[str, str]:
    """The environment of an ``lw3pl run`` worker: the soak's settings and Prefect server."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LW3PL_", "LINNWORKS_"))}
    base.update(settings_env(env.settings))
    base.update(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(home),
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(home / "results"),
        PREFECT_LOGGING_LEVEL="INFO",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_CLIENT_MAX_RETRIES="12",  # a busy SQLite-backed server answers 503 for a while
        PYTHONPATH=str(REPO),
    )
    return base


# --- what the soak does to the partners -------------------------------------------------------------------


@dataclass
class World:
    """The sandboxes and what the soak did to them (ground truth for the checks)."""

    env: FlowEnv
    eligible: list[str] = field(default_factory=list)
    decoys: list[str] = field(default_factory=list)
    linnworks_cancelled: set[str] = field(default_factory=set)
    warehouse_cancelled: set[str] = field(default_factory=set)
    other_location: str = ""

    @property
    def warehouse(self) -> Warehouse:
        return self.env.warehouse

    def apply(self, tick: Tick) -> None:
        self.eligible += self.env.create_orders(tick.orders) if tick.orders else []
        for kind in tick.decoys:
            self.decoys += self._decoy(kind)
        for fault in tick.linnworks_faults:
            self.env.linnworks.add_fault(**fault)
        for fault in tick.shipbob_faults:
            self.env.shipbob.inject(fault["kind"], **{k: v for k, v in fault.items() if k != "kind"})
        for pick, parcels, partial in tick.ships:
            self._ship(pick, parcels, partial)
        for pick in tick.warehouse_cancels:
            self._cancel_at_warehouse(pick)
        for pick in tick.linnworks_cancels:
            self._cancel_in_linnworks(pick)

    def _decoy(self, kind: str) -> list[str]:
        if kind == "other_location":
            return self.env.linnworks.create_orders(1, self.other_location)
        flags = {"unpaid": {"paid": False}, "parked": {"parked": True}, "locked": {"locked": True}}[kind]
        return self.env.create_orders(1, **flags)

    def shippable(self) -> list[str]:
        excluded = self.linnworks_cancelled | self.warehouse_cancelled
        return [
            o.reference
            for o in self.warehouse.list_orders(status=WAREHOUSE_OPEN)
            if o.reference not in excluded
        ]

    def _ship(self, pick: float, parcels: int, partial: bool) -> None:
        candidates = self.shippable()
        if candidates:
            self.warehouse.ship(candidates[int(pick * len(candidates))], packages=parcels, partial=partial)

    def _cancel_at_warehouse(self, pick: float) -> None:
        candidates = [
            o.reference
            for o in self.warehouse.list_orders(status=WAREHOUSE_OPEN)
            if not o.shipments and o.reference not in self.linnworks_cancelled | self.warehouse_cancelled
        ]
        if candidates:
            reference = candidates[int(pick * len(candidates))]
            self.warehouse.cancel(reference)
            self.warehouse_cancelled.add(reference)

    def _cancel_in_linnworks(self, pick: float) -> None:
        at_warehouse = {o.reference: o for o in self.warehouse.list_orders()}
        candidates = [
            reference
            for reference in self.eligible[-200:]  # recent orders: some not yet sent, some sent, none shipped
            if reference not in self.linnworks_cancelled | self.warehouse_cancelled
            and not (reference in at_warehouse and at_warehouse[reference].shipments)
        ]
        if candidates:
            reference = candidates[int(pick * len(candidates))]
            with self.env.linnworks._lock:
                self.env.linnworks.account.cancel(reference, self.env.location_id, "soak: customer cancelled")
            self.linnworks_cancelled.add(reference)

    def ship_everything(self) -> None:
        """Drain: the warehouse ships what it still has (whole, one parcel)."""
        for reference in self.shippable():
            self.warehouse.ship(reference)

    def quiet(self) -> None:
        self.env.linnworks.clear_faults()
        self.env.shipbob.clear_faults()


# --- the soak ---------------------------------------------------------------------------------------------


@dataclass
class Killed:
    """A killed worker: the claims it held, and when they were released."""

    worker: Worker
    held: dict[str, State]
    released_after: float | None = None


@dataclass
class Soak:
    options: argparse.Namespace
    world: World
    workers: Workers
    ledger: Ledger
    kills: list[Killed] = field(default_factory=list)
    queued: list[Launch] = field(default_factory=list)
    dropped: int = 0

    def chaos(self, plan: list[Tick]) -> None:
        for tick in plan:
            tick_end = time.monotonic() + TICK_SECONDS
            self.world.apply(tick)
            self.queued += tick.launches
            self.dropped += max(0, len(self.queued) - QUEUE)
            self.queued = self.queued[-QUEUE:]  # a backlog: the oldest launches are dropped, not run late
            while time.monotonic() < tick_end:
                for worker in self.workers.watch():
                    self.kills.append(Killed(worker, self._claims_of(worker)))
                while self.queued and len(self.workers.running) < self.options.workers:
                    launch = self.queued.pop(0)
                    self.workers.start(launch.flow, launch.kill)
                time.sleep(POLL_SECONDS)
            self._note_releases()
        self.workers.wait_all()
        self._note_releases()

    def _claims_of(self, worker: Worker) -> dict[str, State]:
        marker = f":{worker.process.pid}:"
        return {
            r.reference: r.state
            for r in self.ledger.in_states(list(State))
            if r.lease_owner is not None and marker in r.lease_owner
        }

    def _note_releases(self) -> None:
        owners = self.ledger.lease_owners()
        for kill in self.kills:
            if kill.released_after is not None or kill.worker.killed_at is None:
                continue
            marker = f":{kill.worker.process.pid}:"
            if not any(marker in owner for owner in owners):
                kill.released_after = (datetime.now(UTC) - kill.worker.killed_at).total_seconds()

    def drain(self) -> int:
        """Full cycles (export, reconcile, stock) without faults or kills, the warehouse shipping everything
        before each, until every order is settled; the passes it took."""
        self.world.quiet()
        passes = 0
        while passes < self.options.drain_passes:
            passes += 1
            self.world.ship_everything()
            self.workers.run("fulfilment-cycle")
            self._note_releases()
            if not self.world.shippable() and not self._unsettled() and not self._unknown():
                break
        return passes

    def _unknown(self) -> list[str]:
        """Orders to send that the ledger does not know yet."""
        wanted = [r for r in self.world.eligible if r not in self.world.linnworks_cancelled]
        known = self.ledger.get_many(wanted)
        return [r for r in wanted if r not in known]

    def _unsettled(self) -> list[str]:
        return [record.reference for record in self.ledger.in_states(list(UNSETTLED))]


# --- checks -----------------------------------------------------------------------------------------------


def verify(soak: Soak) -> dict[str, Any]:
    """Every figure the soak reports, and the list of violations."""
    world, env, ledger = soak.world, soak.world.env, soak.ledger
    at_3pl = Counter(o.reference for o in world.warehouse.list_orders())
    wanted = [r for r in world.eligible if r not in world.linnworks_cancelled]
    problems = check_all(
        env.linnworks, world.warehouse, ledger, env.location_id, env.settings.export_identifier_tag
    )
    problems += check_c5(env.settings.linnworks_application_secret.get_secret_value(), _captured(soak))
    lost = [r for r in wanted if at_3pl[r] == 0]
    duplicated = [r for r, n in at_3pl.items() if n > 1]
    unexpected = [r for r in world.decoys if at_3pl[r]]
    problems += [f"lost: {r} never reached the 3PL" for r in lost]
    problems += [f"duplicated: {r} is at the 3PL {at_3pl[r]} times" for r in duplicated]
    problems += [f"unexpected: decoy {r} reached the 3PL" for r in unexpected]
    problems += _cancellations(world)
    problems += _shipped(world)
    problems += _stock(world)
    problems += _settled(soak)
    return {
        "lost": len(lost),
        "duplicated": len(duplicated),
        "unexpected": len(unexpected),
        "problems": problems,
    }


def _captured(soak: Soak) -> list[str]:
    return [worker.output() for worker in soak.workers.all]


def _cancellations(world: World) -> list[str]:
    """Every Linnworks cancellation of an order the 3PL had is carried there."""
    orders = {o.reference: o for o in world.warehouse.list_orders()}
    return [
        f"cancellation not carried: {r} is {orders[r].status} at the 3PL"
        for r in sorted(world.linnworks_cancelled)
        if r in orders and orders[r].status is not OrderStatus.CANCELLED
    ]


def _shipped(world: World) -> list[str]:
    """Every shipped order processed with its first parcel's tracking, written and read back first."""
    calls = _calls_by_order(world.env.linnworks.requests())
    problems = []
    for order in world.warehouse.list_orders(status=OrderStatus.SHIPPED):
        tracking = order.shipments[0].packages[0].tracking_number
        linnworks = world.env.linnworks.order(order.reference)
        written = linnworks["ShippingInfo"]["TrackingNumber"]
        if not linnworks["Processed"]:
            problems.append(f"shipped order {order.reference} not processed in Linnworks")
        elif written != tracking:
            problems.append(f"{order.reference} processed with tracking {written}, shipped with {tracking}")
        elif not _written_and_read_before_processing(calls.get(order.reference.lower(), []), tracking):
            problems.append(f"{order.reference} processed before its tracking was written and read back")
    return problems


def _calls_by_order(log: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """(method, parameters as text) of each successful call, in order, under every order id it names."""
    by_order: dict[str, list[tuple[str, str]]] = {}
    for call in log:
        if call["status"] != 200:
            continue
        text = json.dumps(call["params"])
        for reference in set(GUID.findall(text.lower())):
            by_order.setdefault(reference, []).append(((call["method"] or "").lower(), text))
    return by_order


def _written_and_read_before_processing(calls: list[tuple[str, str]], tracking: str) -> bool:
    """A SetOrderShippingInfo with ``tracking``, then a read of the order, then the first process call."""
    written = read_back = False
    for method, text in calls:
        if method == "orders/setordershippinginfo" and tracking in text:
            written, read_back = True, False
        elif method in READ_METHODS and written:
            read_back = True
        elif method in PROCESS_METHODS:
            return read_back
    return False


def _stock(world: World) -> list[str]:
    """Linnworks' level at the fulfilment centre = the warehouse's on-hand, per SKU."""
    problems = []
    for product in world.warehouse.products():
        expected = world.warehouse.stock(product.sku).on_hand
        level = world.env.linnworks.stock_level(product.sku, world.env.location_id)
        if level != expected:
            problems.append(f"stock: {product.sku} is {level} in Linnworks, {expected} at the warehouse")
    return problems


def _settled(soak: Soak) -> list[str]:
    problems = [f"unsettled after the drain: {r}" for r in soak._unsettled()]
    quarantined = soak.ledger.in_states([State.QUARANTINED])
    problems += [f"quarantined: {r.reference}: {r.quarantine_reason}" for r in quarantined]
    if len(soak.world.env.linnworks.requests()) >= 50_000:
        problems.append("the Linnworks request log overflowed: the tracking check saw only its tail")
    return problems


def waits_after_kills(soak: Soak) -> tuple[float, float]:
    """(longest time a killed worker's claims outlived it, longest wait of its orders for another run)."""
    released = max((k.released_after or 0.0 for k in soak.kills if k.held), default=0.0)
    longest = 0.0
    for kill in soak.kills:
        assert kill.worker.killed_at is not None
        for reference, state in kill.held.items():
            if state not in NEXT_RUN_MOVES:
                continue  # e.g. an exported order: it moves when the warehouse ships, not when a run comes
            later = [_utc(s.at) for s in soak.ledger.history(reference) if _utc(s.at) > kill.worker.killed_at]
            if later:
                longest = max(longest, (min(later) - kill.worker.killed_at).total_seconds())
    return released, longest


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the command ------------------------------------------------------------------------------------------


@contextmanager
def ledger_database(choice: str, url: str | None, workdir: Path) -> Iterator[str]:
    if url:
        yield url
    elif choice == "postgres":
        from tests.conftest import fresh_postgres_database

        with fresh_postgres_database("lw3pl_soak") as fresh:
            yield fresh
    else:
        yield f"sqlite:///{workdir / 'ledger.db'}"


def prefect_settings(api_url: str, workdir: Path) -> AbstractContextManager[Any]:
    """This process's Prefect settings: the soak's server, results in the soak's folder, no heartbeats."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH,
        temporary_settings,
    )

    return temporary_settings(
        {
            PREFECT_API_URL: api_url,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_RESULTS_LOCAL_STORAGE_PATH: workdir / "results",
        }
    )


def soak_world(ledger_url: str, seed: int) -> AbstractContextManager[FlowEnv]:
    """The sandboxes: the warehouse ships only when the soak tells it to, with stock for every order."""
    config = WarehouseConfig.deterministic(ship_delay=timedelta(days=3650))
    return running_flow_env(
        ledger_url,
        config,
        seed=seed,
        export_batch_size=10,  # several batches per run: more moments for a kill to land between them
        stock_review_threshold=10**9,  # the soak checks the levels; holding them for review would hide that
    )


def run(options: argparse.Namespace) -> int:
    ticks = int(options.minutes * 60 / TICK_SECONDS)
    plan = schedule(options.seed, ticks, options.orders_per_minute, options.kill_chance)
    say(f"seed {options.seed}, {options.minutes:g} min, schedule {fingerprint(plan)}")
    started = time.monotonic()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lw3pl-soak-")))
        logs = Path(options.logs) if options.logs else workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        api_url = options.prefect_api_url or stack.enter_context(prefect_server(workdir))[0]
        say(f"Prefect server up after {time.monotonic() - started:.0f} s")
        stack.enter_context(prefect_settings(api_url, workdir))
        ledger_url = stack.enter_context(ledger_database(options.ledger, options.ledger_url, workdir))
        env = stack.enter_context(soak_world(ledger_url, options.seed))
        for product in env.warehouse.products():
            env.warehouse.set_on_hand(product.sku, 10**6)
        other = env.linnworks.add_location("Shop floor")["StockLocationId"]
        workers = Workers(worker_env(env, api_url, workdir), logs)
        stack.callback(workers.kill_all)
        soak = Soak(options, World(env, other_location=str(other)), workers, env.runtime.ledger)
        say(f"sandboxes and ledger ready after {time.monotonic() - started:.0f} s; faults and kills start")
        soak.chaos(plan)
        chaos_seconds = time.monotonic() - started
        say(f"fault phase over after {chaos_seconds:.0f} s ({len(soak.kills)} kills); draining")
        passes = soak.drain()
        say(f"drained after {time.monotonic() - started:.0f} s; checking")
        figures = verify(soak)
        report(soak, figures, passes, chaos_seconds, time.monotonic() - started)
        return 1 if figures["problems"] or len(soak.kills) < options.min_kills else 0


def say(line: str) -> None:
    print(f"soak: {datetime.now(UTC):%H:%M:%S} {line}", flush=True)


def report(soak: Soak, figures: dict[str, Any], passes: int, chaos: float, total: float) -> None:
    runs = soak.workers.all
    failed = [w for w in runs if w.killed_at is None and w.returncode != 0]
    released, waited = waits_after_kills(soak)
    summary = {
        "seed": soak.options.seed,
        "kills": len(soak.kills),
        "kills_holding_claims": sum(1 for k in soak.kills if k.held),
        "runs": len(runs),
        "runs_by_flow": dict(Counter(w.flow for w in runs)),
        "failed_runs": len(failed),
        "launches_dropped": soak.dropped + len(soak.queued),
        "orders": len(soak.world.eligible),
        "decoys": len(soak.world.decoys),
        "linnworks_cancellations": len(soak.world.linnworks_cancelled),
        "warehouse_cancellations": len(soak.world.warehouse_cancelled),
        "shipped": len(soak.world.warehouse.list_orders(status=OrderStatus.SHIPPED)),
        "lost": figures["lost"],
        "duplicated": figures["duplicated"],
        "unexpected": figures["unexpected"],
        "violations": len(figures["problems"]),
        "claims_released_after_s": round(released, 1),
        "longest_wait_after_kill_s": round(waited, 1),
        "drain_passes": passes,
        "chaos_s": round(chaos, 1),
        "total_s": round(total, 1),
    }
    for problem in figures["problems"][:50]:
        print(f"VIOLATION {problem}")
    for worker in failed[:10]:
        last = worker.output().strip().splitlines()[-1:] or [""]
        print(f"failed run {worker.flow} (exit {worker.returncode}): {last[0][:300]}")
    print("soak: " + json.dumps(summary), flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the fault phase (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ledger", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--ledger-url", default=None, help="an empty ledger database (overrides --ledger)")
    parser.add_argument("--orders-per-minute", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2, help="workers running at once, at most (default 2)")
    parser.add_argument("--kill-chance", type=float, default=0.6, help="share of workers SIGKILLed")
    parser.add_argument("--min-kills", type=int, default=1, help="fail unless at least this many kills")
    parser.add_argument("--logs", default=None, help="keep the workers' output in this folder")
    parser.add_argument("--drain-passes", type=int, default=6)
    parser.add_argument(
        "--prefect-api-url", default=None, help="use this Prefect server instead of starting one"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (and SIGINT, which a shell's background job ignores) stop the soak through its cleanup: the
    # Prefect server, the sandboxes and a PostgreSQL database it created go with it.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stop)
    return run(parse(argv))


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
