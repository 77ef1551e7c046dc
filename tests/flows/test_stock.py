"""The sync-stock flow: Linnworks stock at the fulfilment centre equals what the warehouse holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clients.threepl import InventoryLevel, InventorySnapshot
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from flows.stock import sync_stock
from ledger import HoldStatus
from tasks.stock import StockChange, record_holds_and_plan_stock_writes, write_stock_levels
from tests.flows.conftest import FlowEnv
from tests.reliability.helpers import run_artifacts, with_settings

SET_STOCK = "Stock/SetStockLevel"


def _linnworks_level(env: FlowEnv, sku: str) -> int:
    return env.linnworks.stock_level(sku, env.location_id)


def _set_stock_calls(env: FlowEnv) -> int:
    return env.linnworks.call_counts().get(SET_STOCK, 0)


def _skus(env: FlowEnv) -> list[str]:
    return [str(item["SKU"]) for item in env.linnworks.stock_items()]


def _stock_everywhere(env: FlowEnv, on_hand: int) -> None:
    for sku in _skus(env):
        env.warehouse.set_on_hand(sku, on_hand)


def test_levels_equal_warehouse_on_hand_and_a_rerun_writes_nothing(flow_env: FlowEnv) -> None:
    """Each SKU's level at the centre becomes the warehouse's usable on-hand; a second run sends no write."""
    skus = _skus(flow_env)
    for index, sku in enumerate(skus):
        flow_env.warehouse.set_on_hand(sku, 100 + index)
    assert sync_stock()["stock_changes"] == len(skus)
    for sku in skus:
        assert _linnworks_level(flow_env, sku) == flow_env.warehouse.stock(sku).on_hand
    calls = _set_stock_calls(flow_env)
    assert calls >= 1
    assert sync_stock()["stock_changes"] == 0
    assert _set_stock_calls(flow_env) == calls


def test_shipped_but_unprocessed_units_are_added_back_until_linnworks_processes_them(
    flow_env: FlowEnv,
) -> None:
    """While shipped orders await processing the level is on-hand + their units; after processing, on-hand."""
    _stock_everywhere(flow_env, 100)
    sync_stock()
    flow_env.create_orders(4)
    assert export_orders()["exported"] == 4
    flow_env.advance(hours=2)  # the warehouse ships everything: on-hand drops, Linnworks has not processed
    shipped = {sku for sku in _skus(flow_env) if flow_env.warehouse.stock(sku).on_hand < 100}
    assert shipped
    calls = _set_stock_calls(flow_env)
    assert sync_stock()["stock_changes"] == 0  # the stock flow pulls the shipments itself
    unprocessed = flow_env.runtime.ledger.shipped_unprocessed_units()
    for sku in _skus(flow_env):
        expected = flow_env.warehouse.stock(sku).on_hand + unprocessed.get(sku, 0)
        assert _linnworks_level(flow_env, sku) == expected == 100
    assert _set_stock_calls(flow_env) == calls
    assert reconcile_shipments()["processed"] == 4  # Linnworks deducts the shipped units now
    sync_stock()
    assert flow_env.runtime.ledger.shipped_unprocessed_units() == {}
    for sku in _skus(flow_env):
        assert _linnworks_level(flow_env, sku) == flow_env.warehouse.stock(sku).on_hand
    assert {sku for sku in _skus(flow_env) if _linnworks_level(flow_env, sku) < 100} == shipped


def test_an_older_snapshot_never_overwrites_a_newer_one(flow_env: FlowEnv) -> None:
    """Snapshots replayed out of order leave the newest level in Linnworks and in the ledger."""
    first = _skus(flow_env)[0]
    location = flow_env.location_uuid
    newer_at = datetime.now(UTC)
    older_at = newer_at - timedelta(hours=1)
    newer = InventorySnapshot(as_of=newer_at, levels=[InventoryLevel(sku=first, on_hand=40)])
    older = InventorySnapshot(as_of=older_at, levels=[InventoryLevel(sku=first, on_hand=30)])
    write_stock_levels.fn(
        flow_env.account,
        record_holds_and_plan_stock_writes.fn(flow_env.account, newer, location).writes,
        location,
    )
    assert _linnworks_level(flow_env, first) == 40
    replay = record_holds_and_plan_stock_writes.fn(flow_env.account, older, location)
    assert replay.writes == []
    assert any("newer snapshot" in note for note in replay.report.notes)
    calls = _set_stock_calls(flow_env)
    late = StockChange(sku=first, previous=40, level=30, as_of=older_at)
    report = write_stock_levels.fn(
        flow_env.account, [late], location
    )  # a write planned before the newer one was recorded
    assert report.stock_changes == [] and _set_stock_calls(flow_env) == calls
    assert _linnworks_level(flow_env, first) == 40
    state = flow_env.runtime.ledger.stock_state([first])[first]
    assert (state.level, state.as_of) == (40, newer_at)


def test_a_partial_snapshot_writes_only_the_skus_it_carries(flow_env: FlowEnv) -> None:
    """A snapshot marked incomplete updates the SKUs it lists, leaves the others alone, and says so."""
    first, second = _skus(flow_env)[:2]
    location = flow_env.location_uuid
    flow_env.linnworks.set_stock_level(second, flow_env.location_id, 77)
    partial = InventorySnapshot(
        as_of=datetime.now(UTC), levels=[InventoryLevel(sku=first, on_hand=12)], complete=False
    )
    plan = record_holds_and_plan_stock_writes.fn(flow_env.account, partial, location)
    assert [(change.sku, change.level) for change in plan.writes] == [(first, 12)]
    assert any("partial" in note for note in plan.report.notes)
    write_stock_levels.fn(flow_env.account, plan.writes, location)
    assert _linnworks_level(flow_env, first) == 12
    assert _linnworks_level(flow_env, second) == 77


def test_a_large_change_is_held_then_written_once_approved(flow_env: FlowEnv) -> None:
    """A change above STOCK_REVIEW_THRESHOLD waits for a person: approved, it is written; rejected, never."""
    second, third = _skus(flow_env)[1:3]
    _stock_everywhere(flow_env, 100)
    sync_stock()
    flow_env.warehouse.set_on_hand(second, 0)
    flow_env.warehouse.set_on_hand(third, 400)
    ledger = flow_env.runtime.ledger
    with with_settings(flow_env.runtime, stock_review_threshold=50):
        state = sync_stock(return_state=True)
        assert (_linnworks_level(flow_env, second), _linnworks_level(flow_env, third)) == (100, 100)
        holds = {hold.sku: hold for hold in ledger.held_stock_changes(HoldStatus.HELD)}
        assert {sku: (h.current, h.proposed) for sku, h in holds.items()} == {
            second: (100, 0),
            third: (100, 400),
        }
        rows = run_artifacts(state)["default-sync-stock-stock-changes"]
        assert sorted((row["SKU"], row["level"]) for row in rows) == sorted(
            [(second, "100 -> 0"), (third, "100 -> 400")]
        )
        assert all(row["detail"].startswith("held for review") for row in rows)
        ledger.resolve_held(holds[third].id, approve=True, note="counted: 400 is right")
        ledger.resolve_held(holds[second].id, approve=False, note="miscount at the warehouse")
        assert sync_stock()["stock_changes"] == 2  # one written, one reported as rejected
        assert (_linnworks_level(flow_env, second), _linnworks_level(flow_env, third)) == (100, 400)
        statuses = {hold.sku: hold.status for hold in ledger.held_stock_changes(None)}
        assert statuses == {second: HoldStatus.REJECTED, third: HoldStatus.APPLIED}
        calls = _set_stock_calls(flow_env)
        assert sync_stock()["stock_changes"] == 1  # the rejected change, still not written
        assert _set_stock_calls(flow_env) == calls
        assert ledger.held_stock_changes(HoldStatus.HELD) == []


def test_a_drop_linnworks_made_itself_by_processing_is_not_held(flow_env: FlowEnv) -> None:
    """Units Linnworks deducted when processing a large order are not taken for a suspicious change."""
    sku = _skus(flow_env)[0]
    _stock_everywhere(flow_env, 100)
    sync_stock()
    flow_env.create_orders(1, lines=[{"sku": sku, "quantity": 30}])
    export_orders()
    flow_env.advance(hours=2)
    assert reconcile_shipments()["processed"] == 1
    assert _linnworks_level(flow_env, sku) == flow_env.warehouse.stock(sku).on_hand == 70
    with with_settings(flow_env.runtime, stock_review_threshold=10):
        sync_stock()
    assert flow_env.runtime.ledger.held_stock_changes(None) == []
    assert flow_env.runtime.ledger.stock_state([sku])[sku].level == 70
    assert _linnworks_level(flow_env, sku) == 70


def test_a_sku_linnworks_does_not_know_is_reported_and_the_others_are_written(flow_env: FlowEnv) -> None:
    """An unknown SKU at the 3PL, or one Linnworks refuses in a write, stops only itself."""
    first, second = _skus(flow_env)[:2]
    flow_env.warehouse.upsert_product("GHOST-1", title="not in Linnworks")
    flow_env.warehouse.set_on_hand("GHOST-1", 5)
    _stock_everywhere(flow_env, 60)
    state = sync_stock(return_state=True)
    assert all(_linnworks_level(flow_env, sku) == 60 for sku in _skus(flow_env))
    [row] = run_artifacts(state)["default-sync-stock-quarantined"]
    assert row["Linnworks order id or SKU"] == "GHOST-1" and "no stock item" in row["reason"]
    location = flow_env.location_uuid
    now = datetime.now(UTC)
    changes = [
        StockChange(sku=first, previous=60, level=61, as_of=now),
        StockChange(sku="GHOST-2", previous=None, level=3, as_of=now),
        StockChange(sku=second, previous=60, level=62, as_of=now),
    ]
    report = write_stock_levels.fn(
        flow_env.account, changes, location
    )  # Linnworks refuses the call with GHOST-2 in it
    assert [r.reference for r in report.stock_changes] == [first, second]
    assert [r.reference for r in report.quarantined] == ["GHOST-2"]
    assert (_linnworks_level(flow_env, first), _linnworks_level(flow_env, second)) == (61, 62)
    assert set(flow_env.runtime.ledger.stock_state()) == set(_skus(flow_env))
