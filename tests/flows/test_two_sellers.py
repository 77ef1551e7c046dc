"""Two sellers on one worker process, one Prefect server and one ledger database, running at the same time.

Each seller has its own Linnworks and ShipBob sandboxes and its own credentials block; the environment has no
partner credentials. Their setup and then two fulfilment cycles run side by side (the warehouses ship in
between; north's warehouse also books a delivery large enough to be held for review). Neither may see the
other's orders, cursors, stock levels, holds, rate budgets or artifacts: the sellers get different order
counts and stock levels, so any cross-talk shows in the numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from flows.cycle import fulfilment_cycle
from flows.setup import setup_fulfilment_centre
from tasks.context import close_runtimes
from tests.flows.sellers import (
    Seller,
    assert_own_artifacts_only,
    assert_own_orders_only,
    assert_own_stock_only,
    block_only_environment,
    receive_a_large_delivery,
    run_artifacts_with_subflows,
    running_seller,
)

ORDERS = {"north": 4, "south": 6}
ON_HAND = {"north": 100, "south": 200}


@dataclass
class Run:
    """What one seller's runs left: its orders and the artifacts of each cycle (by key)."""

    seller: Seller
    references: list[str] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    cycles: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def runs(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Run]]:
    """Seller ``north`` and seller ``south`` after setup and two cycles, all run side by side."""
    block_only_environment(monkeypatch, ledger_url, LINNWORKS_PACER="prefect")
    close_runtimes()
    try:
        with (
            running_seller("north", seed=41, on_hand=ON_HAND["north"]) as north,
            running_seller("south", seed=42, on_hand=ON_HAND["south"]) as south,
        ):
            yield _run_side_by_side({"north": Run(north), "south": Run(south)})
    finally:
        close_runtimes()


def _run_side_by_side(runs: dict[str, Run]) -> dict[str, Run]:
    _at_once(runs, setup_fulfilment_centre)
    for name, run in runs.items():
        run.references = run.seller.linnworks.create_orders(ORDERS[name], run.seller.location_id)
    for _ in range(2):
        for name, state in _at_once(runs, fulfilment_cycle).items():
            runs[name].cycles.append(run_artifacts_with_subflows(state.state_details.flow_run_id))
        if not runs["north"].held:
            runs["north"].held = {receive_a_large_delivery(runs["north"].seller)}  # north only: held
        for run in runs.values():
            run.seller.advance(hours=2)
    return runs


def _at_once(runs: dict[str, Run], flow: Callable[..., Any]) -> dict[str, Any]:
    """Run ``flow`` for every seller at the same moment, one thread each; the completed states by seller."""
    start = threading.Barrier(len(runs))

    def run_for(seller: Seller) -> Any:
        start.wait()
        return flow(credentials_block=seller.block, return_state=True)

    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {name: pool.submit(run_for, run.seller) for name, run in runs.items()}
        states = {name: future.result() for name, future in futures.items()}
    for name, state in states.items():
        assert state.is_completed(), f"{name}: {state.message}"
    return states


def test_two_sellers_at_once_never_see_each_others_orders_cursors_stock_holds_budgets_or_artifacts(
    runs: dict[str, Run], ledger_url: str
) -> None:
    """Orders, cursors, stock levels, holds, Linnworks rate limits and artifacts stay with their seller."""
    for name, run in runs.items():
        assert_own_orders_only(run.seller, run.references, ledger_url)
        assert_own_stock_only(run.seller, ledger_url, run.held)
        assert_own_artifacts_only(run.seller, run.cycles, ORDERS[name])
    limits = _rate_limit_names()
    assert any(limit.startswith("linnworks-north-") for limit in limits), limits
    assert any(limit.startswith("linnworks-south-") for limit in limits), limits


def _rate_limit_names() -> list[str]:
    with get_client(sync_client=True) as client:
        return [limit.name for limit in client.read_global_concurrency_limits(limit=200)]
