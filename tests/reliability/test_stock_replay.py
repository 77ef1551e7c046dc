"""RELIABILITY.md scenario 12: stock snapshots replayed twice and out of order while orders are processed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clients.threepl import InventoryLevel, InventorySnapshot, ThreePLAdapter
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from flows.stock import sync_stock
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.helpers import with_settings

SKU = "MUG-LOGO"


class _Replaying:
    """A 3PL adapter whose inventory reads return the snapshots a test queues (replays), else the live one."""

    def __init__(self, inner: ThreePLAdapter) -> None:
        self._inner = inner
        self.queued: list[InventorySnapshot] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def fetch_inventory(self) -> InventorySnapshot:
        return self.queued.pop(0) if self.queued else self._inner.fetch_inventory()


def _level(env: FlowEnv) -> int:
    return env.linnworks.stock_level(SKU, env.location_id)


def test_replayed_and_older_snapshots_never_win_while_orders_are_processed(rel_env: FlowEnv) -> None:
    """Older snapshots replayed twice never overwrite the newest; shipped-unprocessed units are counted."""
    rel_env.warehouse.set_on_hand(SKU, 100)
    shipped, waiting = rel_env.create_orders(2, lines=[{"sku": SKU, "quantity": 3}])
    replaying = _Replaying(rel_env.runtime.threepl)
    with with_settings(rel_env.runtime, threepl=replaying, stock_review_threshold=1_000_000):
        export_orders()
        sync_stock()
        assert _level(rel_env) == 100
        rel_env.warehouse.ship(shipped)  # on-hand 97, Linnworks not processed yet
        newest = replaying.fetch_inventory()
        older = InventorySnapshot(
            as_of=newest.as_of - timedelta(minutes=30), levels=[InventoryLevel(sku=SKU, on_hand=100)]
        )
        replaying.queued = [newest, older, older]
        for _ in range(3):
            sync_stock()
            assert _level(rel_env) == 97 + 3  # on-hand + the shipped-but-unprocessed units, whatever replays
        assert reconcile_shipments()["processed"] == 1  # Linnworks deducts the 3 units itself
        assert _level(rel_env) == 97
        replaying.queued = [older]
        sync_stock()
        assert _level(rel_env) == 97
        sync_stock()  # a fresh read
        assert _level(rel_env) == rel_env.warehouse.stock(SKU).on_hand == 97
    assert rel_env.runtime.ledger.get(waiting) is not None
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip
