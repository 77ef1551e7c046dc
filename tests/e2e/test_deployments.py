"""The deployments of prefect.yaml, run by a real Prefect server and process worker against the sandboxes.

The stack deploys only deployments whose entrypoint file is in git (``prefect_stack.deployable``); the tests
require all six of prefect.yaml.
"""

from __future__ import annotations

from typing import Any

import pytest

from tasks.reporting import FLOW_OUTCOMES
from tests.e2e.conftest import (
    ACCOUNT,
    CYCLE_EXPORT,
    CYCLE_ORDER_COUNT,
    CYCLE_RECONCILE,
    ORDER_COUNT,
    RERUN,
    RERUN_RECONCILE,
    E2ECycle,
)
from tests.e2e.prefect_stack import deployable, project_deployments

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(600)]

STORY = (
    "setup-fulfilment-centre",
    "sync-catalogue",
    "export-orders",
    "reconcile-shipments",
    "sync-stock",
    RERUN,
    RERUN_RECONCILE,
    CYCLE_EXPORT,
    CYCLE_RECONCILE,
)


def _run_report(cycle: E2ECycle, deployment: str) -> str:
    run = cycle.runs[deployment]
    return f"{deployment}: {run.state_name}\n{cycle.stack.logs(run.id)}\n{cycle.stack.worker_log()}"


def test_every_triggered_run_completes(e2e_cycle: E2ECycle) -> None:
    """Every deployment of prefect.yaml, triggered like the UI's Run button, ends COMPLETED on the worker."""
    for deployment in STORY:
        assert deployment in e2e_cycle.runs, f"{deployment} is not deployed: {e2e_cycle.stack.deployed}"
        assert e2e_cycle.runs[deployment].state_type == "COMPLETED", _run_report(e2e_cycle, deployment)


def test_orders_are_exported_once_and_processed_with_their_tracking(e2e_cycle: E2ECycle) -> None:
    """Each seeded order reaches the warehouse once and ends processed in Linnworks with its tracking."""
    assert len(e2e_cycle.order_ids) == ORDER_COUNT, "setup did not create the fulfilment centre"
    assert len(e2e_cycle.cycle_order_ids) == CYCLE_ORDER_COUNT, "fulfilment-cycle is not deployed"
    at_warehouse = e2e_cycle.warehouse.list_orders()
    seeded = e2e_cycle.order_ids + e2e_cycle.cycle_order_ids
    assert sorted(order.reference for order in at_warehouse) == sorted(seeded)
    for remote in at_warehouse:
        order = e2e_cycle.linnworks.order(remote.reference)
        assert order["Processed"] is True
        assert order["ShippingInfo"]["TrackingNumber"] == remote.shipments[0].packages[0].tracking_number


def test_running_export_and_reconcile_again_changes_nothing(e2e_cycle: E2ECycle) -> None:
    """A second export and reconcile complete with zero of every outcome their summaries list."""
    for label, flow in ((RERUN, "export-orders"), (RERUN_RECONCILE, "reconcile-shipments")):
        run = e2e_cycle.runs[label]
        assert run.state_type == "COMPLETED", _run_report(e2e_cycle, label)
        summary = {a["key"]: a for a in e2e_cycle.stack.artifacts(run.id)}
        markdown = next(a["data"] for key, a in summary.items() if (key or "").endswith("-summary"))
        for outcome in FLOW_OUTCOMES[flow].values():
            assert f"| {outcome} | 0 |" in markdown, markdown


def test_catalogue_reaches_the_warehouse_and_stock_comes_back(e2e_cycle: E2ECycle) -> None:
    """sync-catalogue creates each non-composite SKU at the warehouse; sync-stock writes its on-hand back."""
    items = e2e_cycle.linnworks.stock_items()
    simple = sorted(str(item["SKU"]) for item in items if not item["IsCompositeParent"])
    kits = {str(item["SKU"]) for item in items if item["IsCompositeParent"]}
    products = {product.sku for product in e2e_cycle.warehouse.products()}
    assert products == set(simple), "COMPOSITE_ITEMS=components: kits are not products, components are"
    assert not kits & products
    for sku in simple:
        wanted = e2e_cycle.warehouse.stock(sku).on_hand
        assert e2e_cycle.linnworks.stock_level(sku, e2e_cycle.location_id) == wanted, sku


def _schedule_summary(schedule: dict[str, Any]) -> dict[str, Any]:
    inner = schedule["schedule"]
    if "interval" in inner:
        return {"interval": inner["interval"], "active": schedule["active"], "slug": schedule["slug"]}
    return {"cron": inner["cron"], "active": schedule["active"], "slug": schedule["slug"]}


def _expected_schedule(entry: dict[str, Any]) -> dict[str, Any]:
    kind = "interval" if "interval" in entry else "cron"
    return {kind: entry[kind], "active": entry.get("active", True), "slug": entry["slug"]}


def test_deployments_exist_with_the_schedules_of_prefect_yaml(e2e_cycle: E2ECycle) -> None:
    """Every committed deployment is on the server with prefect.yaml's schedules, pool, tags and limit."""
    entries = deployable()
    assert [entry["name"] for entry in entries] == [entry["name"] for entry in project_deployments()]
    for entry in entries:
        name = entry["name"]
        flow_name = entry["entrypoint"].split(":")[1].replace("_", "-")
        deployment = e2e_cycle.stack.deployment(f"{flow_name}/{name}")
        assert deployment["work_pool_name"] == entry["work_pool"]["name"]
        assert sorted(deployment["tags"]) == sorted(entry["tags"])
        assert deployment["global_concurrency_limit"]["limit"] == entry["concurrency_limit"]["limit"]
        assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        assert deployment["paused"] is entry.get("paused", False), name
        expected = sorted((_expected_schedule(s) for s in entry.get("schedules", [])), key=str)
        actual = sorted((_schedule_summary(s) for s in deployment["schedules"]), key=str)
        assert actual == expected, name


def test_export_schedule_is_every_five_minutes(e2e_cycle: E2ECycle) -> None:
    """export-orders is scheduled every 300 s and reconcile-shipments every 600 s, both active."""
    export = e2e_cycle.stack.deployment("export-orders/export-orders")
    reconcile = e2e_cycle.stack.deployment("reconcile-shipments/reconcile-shipments")
    assert [(s["schedule"]["interval"], s["active"]) for s in export["schedules"]] == [(300.0, True)]
    assert [(s["schedule"]["interval"], s["active"]) for s in reconcile["schedules"]] == [(600.0, True)]


def test_runs_leave_a_summary_and_outcome_tables(e2e_cycle: E2ECycle) -> None:
    """The export and reconcile runs publish a markdown summary and their outcome tables as artifacts."""
    export = {a["key"]: a for a in e2e_cycle.stack.artifacts(e2e_cycle.runs["export-orders"].id)}
    reconcile = {a["key"]: a for a in e2e_cycle.stack.artifacts(e2e_cycle.runs["reconcile-shipments"].id)}
    assert export[f"{ACCOUNT}-export-orders-summary"]["type"] == "markdown"
    assert "| exported | 12 |" in export[f"{ACCOUNT}-export-orders-summary"]["data"]
    assert export[f"{ACCOUNT}-export-orders-exported"]["type"] == "table"
    assert reconcile[f"{ACCOUNT}-reconcile-shipments-summary"]["type"] == "markdown"
    assert {f"{ACCOUNT}-reconcile-shipments-shipped", f"{ACCOUNT}-reconcile-shipments-processed"} <= set(
        reconcile
    )


def test_linnworks_calls_draw_on_prefect_global_rate_limits(e2e_cycle: E2ECycle) -> None:
    """The worker's runs create one global limit per Linnworks method, so every worker shares one budget."""
    limits = {limit["name"]: limit for limit in e2e_cycle.stack.concurrency_limits()}
    prefix = f"linnworks-{ACCOUNT}-"
    ours = {name: limit for name, limit in limits.items() if name.startswith(prefix)}
    for method in ("orders-getordersbyid", "orders-setordershippinginfo"):
        assert prefix + method in ours, sorted(limits)
    for limit in ours.values():
        assert limit["active"] is True
        assert limit["slot_decay_per_second"] > 0
