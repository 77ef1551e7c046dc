"""Two sellers on one Prefect server, one worker and one ledger database, their runs at the same time.

Each seller has its own Linnworks and ShipBob sandboxes, its own credentials block and its own deployments
(the project's setup and fulfilment-cycle deployments, copied with ``credentials_block`` as parameter); the
runs' environment (the shared worker's, and the copies' job environment) holds no partner credentials.
Setup and two cycles run for both sellers at once (the warehouses ship in between; north's also books a
delivery large enough to be held for review). Neither may see the other's orders, cursors, stock levels,
holds, rate limits or artifacts; the sellers get different order counts and stock levels, so cross-talk
shows in the numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import own_deployments
from tests.e2e.prefect_stack import PrefectStack
from tests.flows.sellers import (
    FULFILMENT_CENTRE,
    Seller,
    assert_own_artifacts_only,
    assert_own_orders_only,
    assert_own_stock_only,
    receive_a_large_delivery,
    running_seller,
)

pytestmark = pytest.mark.e2e

FLOWS = ("setup-fulfilment-centre", "fulfilment-cycle")
ORDERS = {"north": 4, "south": 6}
ON_HAND = {"north": 100, "south": 200}


@dataclass
class SellerRuns:
    """One seller's deployments, orders and the artifacts of each of its cycles (by key)."""

    seller: Seller
    deployments: dict[str, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    cycles: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TwoSellers:
    stack: PrefectStack
    ledger_url: str
    sellers: dict[str, SellerRuns]


def _runs_env(ledger_url: str) -> dict[str, str]:
    """What every seller's runs share; no LINNWORKS_* or SHIPBOB_* (those are in the blocks)."""
    return {
        "LEDGER_URL": ledger_url,
        "THREEPL_ADAPTER": "shipbob",
        "LW3PL_ACCOUNT": "environment",
        "FULFILMENT_CENTRE_NAME": FULFILMENT_CENTRE,
        "SHIPPING_SERVICE_MAP": json.dumps({"*": "Standard"}),
        "PARTNER_TIME_SCALE": "1000",
    }


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_sellers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, e2e_stack: PrefectStack
) -> Iterator[TwoSellers]:
    """Both sellers' sandboxes, blocks and deployments on the shared stack, after setup and two cycles side
    by side. The sellers' accounts carry the ledger kind: the Prefect server (blocks, limits, artifacts) is
    shared with the other parameter's sellers, whose figures must not count for these."""
    with ExitStack() as started:
        if request.param == "sqlite":
            ledger_url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
        else:
            ledger_url = started.enter_context(fresh_postgres_database("lw3pl_e2e_sellers"))
        started.enter_context(
            temporary_settings({PREFECT_API_URL: e2e_stack.api_url})
        )  # blocks go to this server
        sellers = {
            name: SellerRuns(
                started.enter_context(
                    running_seller(f"{name}-{request.param}", seed=seed, on_hand=ON_HAND[name])
                )
            )
            for name, seed in (("north", 51), ("south", 52))
        }
        for runs in sellers.values():
            parameters = {"credentials_block": runs.seller.block}
            runs.deployments = started.enter_context(
                own_deployments(e2e_stack, runs.seller.account, _runs_env(ledger_url), parameters, FLOWS)
            )
        world = TwoSellers(e2e_stack, ledger_url, sellers)
        _run_side_by_side(world)
        yield world


def _run_side_by_side(world: TwoSellers) -> None:
    _at_once(world, "setup-fulfilment-centre")
    for name, runs in world.sellers.items():
        runs.references = runs.seller.linnworks.create_orders(ORDERS[name], runs.seller.location_id)
    for _ in range(2):
        for name, flow_run_id in _at_once(world, "fulfilment-cycle").items():
            world.sellers[name].cycles.append(_artifacts(world.stack, flow_run_id))
        north = world.sellers["north"]
        if not north.held:
            north.held = {receive_a_large_delivery(north.seller)}  # north only: held for review
        for runs in world.sellers.values():
            runs.seller.advance(hours=2)


def _at_once(world: TwoSellers, flow: str) -> dict[str, str]:
    """Trigger ``flow`` for every seller before waiting for any; the completed runs' ids by seller."""
    started = {
        name: world.stack.create_flow_run(runs.deployments[flow]) for name, runs in world.sellers.items()
    }
    for name, flow_run_id in started.items():
        run = world.stack.wait(flow_run_id, world.sellers[name].deployments[flow])
        assert run.state_type == "COMPLETED", f"{name} {flow}: {run.state_name}\n{world.stack.logs(run.id)}"
    return started


def _artifacts(stack: PrefectStack, flow_run_id: str) -> dict[str, Any]:
    runs = [flow_run_id, *stack.subflow_run_ids(flow_run_id)]
    return {a["key"]: a["data"] for run in runs for a in stack.artifacts(run) if a["key"]}


def test_two_sellers_runs_at_once_never_see_each_others_orders_stock_holds_limits_or_artifacts(
    two_sellers: TwoSellers,
) -> None:
    """Orders, cursors, stock levels, holds, Linnworks rate limits and artifacts stay with their seller."""
    for name, runs in two_sellers.sellers.items():
        assert_own_orders_only(runs.seller, runs.references, two_sellers.ledger_url)
        assert_own_stock_only(runs.seller, two_sellers.ledger_url, runs.held)
        assert_own_artifacts_only(runs.seller, runs.cycles, ORDERS[name])
    limits = [limit["name"] for limit in two_sellers.stack.concurrency_limits()]
    for runs in two_sellers.sellers.values():
        assert any(limit.startswith(f"linnworks-{runs.seller.account}-") for limit in limits), limits
