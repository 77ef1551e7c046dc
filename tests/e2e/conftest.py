"""End-to-end fixtures: sandboxes in this process, a PostgreSQL ledger, and a real Prefect stack.

``e2e_stack`` (session scope) is the one Prefect stack every e2e module shares: server (UI on), process
pool, prefect.yaml's deployments and a worker whose environment holds no lw3pl setting. Starting a stack
costs ~14 s of CPU and over a minute on a loaded 2-core machine, so the modules do not start one each; each
module brings its own sandboxes, ledger, blocks and copies of the deployments (``PrefectStack.deploy_for``,
its settings in the copies' job environment) and deletes its copies when done, so the modules pass in any
order and see only their own runs.

``e2e_cycle`` (module scope, started once) runs the whole story through deployments the way a person does
from the Prefect UI: setup -> seed orders -> export -> the warehouse ships -> reconcile. The tests then
assert on what it left behind (flow-run states, sandbox effects, deployments, artifacts, limits).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from sandbox.linnworks import LinnworksSandbox
from sandbox.shipbob.server import ShipBobSandbox
from sandbox.warehouse import ManualClock, Warehouse, WarehouseConfig
from tests.conftest import fresh_postgres_database
from tests.e2e.prefect_stack import FinishedRun, PrefectStack, prefect_stack

ORDER_COUNT = 12
RERUN = "export-orders (again)"
RERUN_RECONCILE = "reconcile-shipments (again)"
CYCLE_EXPORT = "fulfilment-cycle (exports)"
CYCLE_RECONCILE = "fulfilment-cycle (reconciles)"
CYCLE_ORDER_COUNT = 3
ON_HAND = 300  # below STOCK_REVIEW_THRESHOLD (500), so sync-stock writes instead of holding for review
ACCOUNT = "e2e"
FULFILMENT_CENTRE = "3PL Warehouse"


@dataclass
class E2ECycle:
    """What the module's deployment runs left behind."""

    stack: PrefectStack
    linnworks: LinnworksSandbox
    shipbob: ShipBobSandbox
    warehouse: Warehouse
    ledger_url: str
    deployments: dict[str, str] = field(default_factory=dict)
    """This module's copy of each deployed deployment, by the deployment's name."""
    location_id: str = ""
    order_ids: list[str] = field(default_factory=list)
    cycle_order_ids: list[str] = field(default_factory=list)
    runs: dict[str, FinishedRun] = field(default_factory=dict)


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectStack]:
    """The Prefect stack of every e2e module; its worker has no lw3pl setting (each deployment copy brings its
    module's settings)."""
    with prefect_stack(tmp_path_factory.mktemp("prefect-home"), {}, ui=True) as stack:
        yield stack


@contextmanager
def own_deployments(
    stack: PrefectStack,
    suffix: str,
    env: Mapping[str, str],
    parameters: Mapping[str, Any] | None = None,
    names: Collection[str] | None = None,
) -> Iterator[dict[str, str]]:
    """A copy ``flow/flow-<suffix>`` of each deployed deployment (or of ``names``) whose runs get ``env`` (and
    ``parameters``, else the original's); yields the copies' full names by deployment name and deletes them on
    exit."""
    copies: dict[str, str] = {}
    try:
        for name in names if names is not None else stack.deployed:
            original = f"{name}/{name}"
            given = dict(parameters) if parameters is not None else stack.deployment(original)["parameters"]
            copies[name] = stack.deploy_for(original, suffix, given, env)
        yield copies
    finally:
        for copy in copies.values():
            stack.delete_deployment(copy)


@pytest.fixture(scope="module")
def e2e_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the module (the worker's flow runs and the test share it)."""
    with fresh_postgres_database("lw3pl_e2e") as url:
        yield url


def worker_env(linnworks: LinnworksSandbox, shipbob: ShipBobSandbox, ledger_url: str) -> dict[str, str]:
    """The environment of the module's runs: lw3pl settings pointing at the sandboxes (as a seller would set
    them on a worker of its own)."""
    return {
        "LINNWORKS_AUTH_URL": linnworks.auth_url,
        "LINNWORKS_APPLICATION_ID": linnworks.application_id,
        "LINNWORKS_APPLICATION_SECRET": linnworks.application_secret,
        "LINNWORKS_INSTALLATION_TOKEN": linnworks.installation_token,
        "THREEPL_ADAPTER": "shipbob",
        "SHIPBOB_API_URL": shipbob.url,
        "SHIPBOB_API_TOKEN": shipbob.token,
        "SHIPBOB_CHANNEL_ID": str(shipbob.channel_id),
        "LEDGER_URL": ledger_url,
        "LW3PL_ACCOUNT": ACCOUNT,
        "FULFILMENT_CENTRE_NAME": FULFILMENT_CENTRE,
        "SHIPPING_SERVICE_MAP": json.dumps({"*": "Standard"}),
        "PARTNER_TIME_SCALE": "1000",
    }


def _run(cycle: E2ECycle, deployment: str, label: str = "") -> None:
    """Run a deployment if it is deployed (its flow committed); flow and deployment share the name."""
    if deployment in cycle.deployments:
        cycle.runs[label or deployment] = cycle.stack.run_deployment(cycle.deployments[deployment])


def _stock_the_warehouse(cycle: E2ECycle) -> None:
    """Put stock on every Linnworks SKU at the warehouse (products come from sync-catalogue when deployed)."""
    for item in cycle.linnworks.stock_items():
        sku = item["SKU"]
        if cycle.warehouse.product(sku) is None and "sync-catalogue" not in cycle.deployments:
            cycle.warehouse.upsert_product(sku, title=sku)
        if cycle.warehouse.product(sku) is not None:
            cycle.warehouse.set_on_hand(sku, ON_HAND)


def _centre_id(linnworks: LinnworksSandbox) -> str:
    for location in linnworks.account.locations.values():
        if location["LocationName"] == FULFILMENT_CENTRE:
            return str(location["StockLocationId"])
    return ""


@pytest.fixture(scope="module")
def e2e_cycle(e2e_stack: PrefectStack, e2e_postgres_url: str) -> Iterator[E2ECycle]:
    """Sandboxes + this module's copies of the deployments; the committed deployments run in a seller's order.

    setup -> sync-catalogue -> stock the warehouse -> 12 orders -> export-orders -> the warehouse ships ->
    reconcile-shipments -> sync-stock -> export and reconcile again (no-ops) -> 3 more orders ->
    fulfilment-cycle (exports them) -> the warehouse ships -> fulfilment-cycle (processes them).
    """
    clock = ManualClock()
    config = WarehouseConfig.deterministic(ship_delay=timedelta(hours=1))
    warehouse = Warehouse(seed=11, clock=clock, config=config)
    stack = e2e_stack
    with (
        LinnworksSandbox(seed=11, rate_limits=False) as linnworks,
        ShipBobSandbox(warehouse=warehouse, rate_limits=False, auto_advance=False) as shipbob,
        own_deployments(stack, ACCOUNT, worker_env(linnworks, shipbob, e2e_postgres_url)) as deployments,
    ):
        cycle = E2ECycle(stack, linnworks, shipbob, warehouse, e2e_postgres_url, deployments)
        _run(cycle, "setup-fulfilment-centre")
        cycle.location_id = _centre_id(linnworks)
        _run(cycle, "sync-catalogue")
        _stock_the_warehouse(cycle)
        if cycle.location_id:
            cycle.order_ids = linnworks.create_orders(ORDER_COUNT, cycle.location_id)
        _run(cycle, "export-orders")
        clock.now += timedelta(hours=2)
        warehouse.advance()
        _run(cycle, "reconcile-shipments")
        _run(cycle, "sync-stock")
        _run(cycle, "export-orders", RERUN)
        _run(cycle, "reconcile-shipments", RERUN_RECONCILE)
        if "fulfilment-cycle" in deployments and cycle.location_id:
            cycle.cycle_order_ids = linnworks.create_orders(CYCLE_ORDER_COUNT, cycle.location_id)
            _run(cycle, "fulfilment-cycle", CYCLE_EXPORT)
            clock.now += timedelta(hours=2)
            warehouse.advance()
            _run(cycle, "fulfilment-cycle", CYCLE_RECONCILE)
        yield cycle
