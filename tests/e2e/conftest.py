"""End-to-end fixtures: sandboxes in this process, a PostgreSQL ledger, and a real Prefect stack.

``e2e_cycle`` (module scope, started once) runs the whole story through deployments the way a person does
from the Prefect UI: setup -> seed orders -> export -> the warehouse ships -> reconcile. The tests then
assert on what it left behind (flow-run states, sandbox effects, deployments, artifacts, limits).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

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
    location_id: str = ""
    order_ids: list[str] = field(default_factory=list)
    cycle_order_ids: list[str] = field(default_factory=list)
    runs: dict[str, FinishedRun] = field(default_factory=dict)


@pytest.fixture(scope="module")
def e2e_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the module (the worker's flow runs and the test share it)."""
    with fresh_postgres_database("lw3pl_e2e") as url:
        yield url


def worker_env(linnworks: LinnworksSandbox, shipbob: ShipBobSandbox, ledger_url: str) -> dict[str, str]:
    """The worker's environment: lw3pl settings pointing at the sandboxes (as a seller would set them)."""
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
    if deployment in cycle.stack.deployed:
        cycle.runs[label or deployment] = cycle.stack.run_deployment(f"{deployment}/{deployment}")


def _stock_the_warehouse(cycle: E2ECycle) -> None:
    """Put stock on every Linnworks SKU at the warehouse (products come from sync-catalogue when deployed)."""
    for item in cycle.linnworks.stock_items():
        sku = item["SKU"]
        if cycle.warehouse.product(sku) is None and "sync-catalogue" not in cycle.stack.deployed:
            cycle.warehouse.upsert_product(sku, title=sku)
        if cycle.warehouse.product(sku) is not None:
            cycle.warehouse.set_on_hand(sku, ON_HAND)


def _centre_id(linnworks: LinnworksSandbox) -> str:
    for location in linnworks.account.locations.values():
        if location["LocationName"] == FULFILMENT_CENTRE:
            return str(location["StockLocationId"])
    return ""


@pytest.fixture(scope="module")
def e2e_cycle(tmp_path_factory: pytest.TempPathFactory, e2e_postgres_url: str) -> Iterator[E2ECycle]:
    """Sandboxes + Prefect server + worker; the committed deployments run in a seller's order.

    setup -> sync-catalogue -> stock the warehouse -> 12 orders -> export-orders -> the warehouse ships ->
    reconcile-shipments -> sync-stock -> export and reconcile again (no-ops) -> 3 more orders ->
    fulfilment-cycle (exports them) -> the warehouse ships -> fulfilment-cycle (processes them).
    """
    clock = ManualClock()
    config = WarehouseConfig.deterministic(ship_delay=timedelta(hours=1))
    warehouse = Warehouse(seed=11, clock=clock, config=config)
    home: Path = tmp_path_factory.mktemp("prefect-home")
    with (
        LinnworksSandbox(seed=11, rate_limits=False) as linnworks,
        ShipBobSandbox(warehouse=warehouse, rate_limits=False, auto_advance=False) as shipbob,
        prefect_stack(home, worker_env(linnworks, shipbob, e2e_postgres_url)) as stack,
    ):
        cycle = E2ECycle(stack, linnworks, shipbob, warehouse, e2e_postgres_url)
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
        if "fulfilment-cycle" in stack.deployed and cycle.location_id:
            cycle.cycle_order_ids = linnworks.create_orders(CYCLE_ORDER_COUNT, cycle.location_id)
            _run(cycle, "fulfilment-cycle", CYCLE_EXPORT)
            clock.now += timedelta(hours=2)
            warehouse.advance()
            _run(cycle, "fulfilment-cycle", CYCLE_RECONCILE)
        yield cycle
