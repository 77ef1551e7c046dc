"""The sync-catalogue flow: Linnworks stock items reach the 3PL's product list, changed items only."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from clients.threepl import CatalogueItem, ItemResult
from flows.catalogue import sync_catalogue
from tests.flows.conftest import FlowEnv
from tests.reliability.helpers import run_artifacts, shipbob_writes

FULL_PAGES = "Stock/GetStockItemsFull"


def _sellable(env: FlowEnv) -> dict[str, dict[str, object]]:
    """Linnworks items the 3PL should know with COMPOSITE_ITEMS=components (composite parents are kits)."""
    return {str(item["SKU"]): item for item in env.linnworks.stock_items() if not item["IsCompositeParent"]}


def _rename(env: FlowEnv, sku: str, title: str) -> None:
    """Change an item's title as a person editing it in Linnworks would."""
    with env.linnworks._lock:
        env.linnworks.account.items_by_sku[sku.upper()].title = title


def test_every_item_reaches_the_warehouse_and_a_rerun_upserts_nothing(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sellable item, read in pages until an empty one, is at the 3PL with its title and barcode."""
    monkeypatch.setattr("tasks.catalogue.CATALOGUE_PAGE_SIZE", 7)
    monkeypatch.setattr("flows.catalogue.CATALOGUE_PAGE_SIZE", 7)
    flow_env.linnworks.add_stock_item("KETTLE-NEW", "Kettle, brushed steel")
    expected = _sellable(flow_env)
    calls_before = flow_env.linnworks.call_counts().get(FULL_PAGES, 0)
    counts = sync_catalogue()
    assert counts["catalogue"] == len(expected) and counts["quarantined"] == 0
    pages = -(-len(expected) // 7)
    assert flow_env.linnworks.call_counts()[FULL_PAGES] - calls_before == pages + 1  # the last one empty
    for sku, item in expected.items():
        product = flow_env.warehouse.product(sku)
        assert product is not None, sku
        assert (product.title, product.barcode) == (item["Title"], item["Barcode"])
    writes = shipbob_writes(flow_env.shipbob)
    assert sync_catalogue()["catalogue"] == 0
    assert shipbob_writes(flow_env.shipbob) == writes


def test_a_title_changed_in_linnworks_is_upserted_once(flow_env: FlowEnv) -> None:
    """After a rename in Linnworks the next run updates that one product, and the run after does nothing."""
    sync_catalogue()
    sku = next(iter(_sellable(flow_env)))
    _rename(flow_env, sku, "Renamed in Linnworks")
    writes = shipbob_writes(flow_env.shipbob)
    assert sync_catalogue()["catalogue"] == 1
    assert shipbob_writes(flow_env.shipbob) == writes + 1
    product = flow_env.warehouse.product(sku)
    assert product is not None and product.title == "Renamed in Linnworks"
    assert sync_catalogue()["catalogue"] == 0
    assert shipbob_writes(flow_env.shipbob) == writes + 1


def test_an_item_the_3pl_refuses_is_reported_and_sent_again_next_run(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused item shows in the run's artifact with the 3PL's reason and is the only one sent next run."""
    adapter = flow_env.runtime.threepl
    real_upsert = adapter.upsert_items
    refused = next(iter(_sellable(flow_env)))

    def refusing(items: Sequence[CatalogueItem]) -> list[ItemResult]:
        results = real_upsert([item for item in items if item.sku != refused])
        return [*results, ItemResult(sku=refused, ok=False, detail="name is required")]

    monkeypatch.setattr(adapter, "upsert_items", refusing)
    state = sync_catalogue(return_state=True)
    [row] = run_artifacts(state)["default-sync-catalogue-quarantined"]
    assert row["Linnworks order id or SKU"] == refused and "name is required" in row["reason"]
    assert refused not in flow_env.runtime.ledger.catalogue_hashes([refused])
    monkeypatch.undo()
    counts = sync_catalogue()
    assert (counts["catalogue"], counts["quarantined"]) == (1, 0)
    assert refused in flow_env.runtime.ledger.catalogue_hashes([refused])
