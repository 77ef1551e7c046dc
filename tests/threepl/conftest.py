"""The 3PL adapter contract suite: one set of tests, run over every adapter.

How an adapter plugs in
-----------------------
Write a factory
``make_<name>_harness(tmp_path: Path, warehouse: Warehouse) -> ContextManager[AdapterHarness]``
(see ``tests/threepl/harness.py`` for ``AdapterHarness``) and register it in ``_FACTORIES`` below. The
factory starts the adapter's sandbox on top of the given ``warehouse`` (already seeded: SKU-0001 ..
SKU-0010, 100 units each, deterministic config, ``ManualClock`` at ``harness.T0``), builds the adapter
with no pacing and no retry waits, yields the harness, and stops everything on exit.

The SFTP adapter's factory lives in ``tests/threepl/sftp_harness.py`` as ``make_sftp_harness``; it is
picked up automatically when that module exists.

The ``adapter_harness`` fixture is parametrized over the registered factories, so every test in this
package that takes it runs once per adapter (ids: ``[shipbob]``, ``[sftp]``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from clients.shipbob import RetryPolicy, ShipBobAdapter, ShipBobConfig
from sandbox.shipbob import ORDERS_PATH, ShipBobSandbox
from sandbox.warehouse import Warehouse, WarehouseConfig
from tests.threepl.harness import AdapterHarness, ManualClock

Factory = Callable[[Path, Warehouse], AbstractContextManager[AdapterHarness]]


@contextmanager
def make_shipbob_harness(tmp_path: Path, warehouse: Warehouse) -> Iterator[AdapterHarness]:
    """The ShipBob adapter against the ShipBob sandbox (rate limits off, no retry waits)."""
    with ShipBobSandbox(warehouse=warehouse, rate_limits=False) as sandbox:
        config = ShipBobConfig(
            base_url=sandbox.url,
            token=SecretStr(sandbox.token),
            channel_id=sandbox.channel_id,
            pace=False,
            timeout=5.0,
            retry=RetryPolicy(wait=False),
        )
        adapter = ShipBobAdapter(config, clock=warehouse.clock)
        try:
            yield AdapterHarness(
                name="shipbob",
                adapter=adapter,
                warehouse=warehouse,
                settle=lambda: None,  # the sandbox reads the warehouse live on every request
                lose_next_create_reply=lambda: sandbox.inject(
                    "accept_then_drop", method="POST", path=ORDERS_PATH
                ),
                corrupt_shipment=lambda reference: sandbox.corrupt_order(reference, "missing_tracking"),
            )
        finally:
            adapter.close()


def _factories() -> dict[str, Factory]:
    factories: dict[str, Factory] = {"shipbob": make_shipbob_harness}
    if importlib.util.find_spec("tests.threepl.sftp_harness") is not None:
        module = importlib.import_module("tests.threepl.sftp_harness")
        factories["sftp"] = module.make_sftp_harness
    return factories


_FACTORIES = _factories()


@pytest.fixture
def contract_warehouse() -> Warehouse:
    """A deterministic warehouse: 10 SKUs with 100 units each, on a manual clock."""
    warehouse = Warehouse(seed=11, clock=ManualClock(), config=WarehouseConfig.deterministic())
    warehouse.seed_catalogue(10, on_hand=(100, 100))
    return warehouse


@pytest.fixture(params=sorted(_FACTORIES))
def adapter_harness(
    request: pytest.FixtureRequest, tmp_path: Path, contract_warehouse: Warehouse
) -> Iterator[AdapterHarness]:
    """One harness per registered adapter."""
    with _FACTORIES[request.param](tmp_path, contract_warehouse) as harness:
        yield harness
