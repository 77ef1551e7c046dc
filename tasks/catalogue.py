"""Catalogue: Linnworks stock items -> products at the 3PL, changed items only.

Which Linnworks calls, and why:

- **Stock/GetStockItems** (one call, one entry per page) gives ``TotalEntries``: the size of the progress bar
  and how many GetStockItemsFull pages can be read side by side.
- **Stock/GetStockItemsFull** (200 per page, read until a page comes back empty) carries every field the
  3PL needs (SKU, title, barcode, weight, dimensions), so one read per 200 items is all it takes. Reading
  until an empty page, not until a short one, because Linnworks pages before it drops variation or
  composite parents, so a page in the middle may come back short.
- **Stock/GetStockItemsFullByIds** is not used: re-reading the changed items by id would return the same
  fields the page already gave, at the cost of one more call per page.

Composite parents are sent only when COMPOSITE_ITEMS=parent (the warehouse then ships the kit as one
product); variation parents never (they are groupings, not goods). Weight is taken as kilograms and
dimensions as centimetres (Linnworks' defaults); 0 means "not set" and is sent as no value.

Each item's hash (of what would be sent) is compared with ``Ledger.catalogue_hashes``; only items whose hash
changed are upserted, and only the ones the 3PL accepted are recorded, so a refused item is tried again on
the next run.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal

from prefect import task
from pydantic import BaseModel, Field, ValidationError

from clients.linnworks import StockItemFull
from clients.threepl import CatalogueItem, ItemResult
from tasks.context import Account, Runtime, runtime_for
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = [
    "CATALOGUE_PAGE_SIZE",
    "CataloguePage",
    "catalogue_hash",
    "count_stock_items",
    "sync_catalogue_page",
    "to_catalogue_item",
]

logger = logging.getLogger("lw3pl.catalogue")

CATALOGUE_PAGE_SIZE = 200
"""Items per Stock/GetStockItemsFull page (the most Linnworks allows)."""
_HASH_VERSION = "catalogue-v1"


class CataloguePage(BaseModel):
    """What one page did: how many items Linnworks returned (0: past the end) and the report."""

    page_number: int
    read: int
    report: RunReport = Field(default_factory=RunReport)


def to_catalogue_item(item: StockItemFull) -> CatalogueItem:
    """The 3PL's view of a Linnworks stock item (weight in kg, dimensions in cm; 0 = not set)."""
    return CatalogueItem(
        sku=item.sku,
        title=(item.item_title or "").strip(),
        barcode=(item.barcode_number or "").strip(),
        weight_kg=_measure(item.weight),
        length_cm=_measure(item.depth),
        width_cm=_measure(item.width),
        height_cm=_measure(item.height),
    )


def _measure(value: float | None) -> Decimal | None:
    if value is None or value <= 0:
        return None
    return Decimal(str(value))  # str() keeps the short decimal form (0.1, not 0.1000000000000000055...)


def catalogue_hash(item: CatalogueItem) -> str:
    """A fingerprint of what is sent to the 3PL for ``item`` (changes when any sent field changes)."""
    material = f"{_HASH_VERSION}|{item.model_dump_json()}"
    return hashlib.sha256(material.encode()).hexdigest()


def _load_parents(runtime: Runtime) -> bool:
    return runtime.settings.composite_items == "parent"


@task(name="count-stock-items", **TASK_RETRY_OPTIONS)
def count_stock_items(account: Account) -> int:
    """How many stock items Linnworks has (Stock/GetStockItems with one entry per page: just the count)."""
    runtime = runtime_for(account)
    page = runtime.linnworks.get_stock_items(
        entries_per_page=1,
        exclude_composites=not _load_parents(runtime),
        exclude_variations=True,
    )
    return page.total_entries


@task(name="sync-catalogue-page", **TASK_RETRY_OPTIONS)
def sync_catalogue_page(account: Account, page_number: int) -> CataloguePage:
    """Read one GetStockItemsFull page, upsert its new and changed items at the 3PL, record the accepted."""
    runtime = runtime_for(account)
    rows = runtime.linnworks.get_stock_items_full(
        load_composite_parents=_load_parents(runtime),
        load_variation_parents=False,
        entries_per_page=CATALOGUE_PAGE_SIZE,
        page_number=page_number,
    )
    page = CataloguePage(page_number=page_number, read=len(rows))
    items = _items(rows, page.report)
    hashes = {item.sku: catalogue_hash(item) for item in items}
    sent = runtime.ledger.catalogue_hashes(hashes)
    changed = [item for item in items if sent.get(item.sku) != hashes[item.sku]]
    if not changed:
        return page
    results = runtime.threepl.upsert_items(changed)
    _record(runtime, changed, results, hashes, page.report)
    logger.info("catalogue page %d: %d read, %d changed", page_number, len(rows), len(changed))
    return page


def _items(rows: list[StockItemFull], report: RunReport) -> list[CatalogueItem]:
    """Map the page's rows; a row that cannot become a 3PL item is reported, the others go on."""
    items: dict[str, CatalogueItem] = {}
    for row in rows:
        try:
            item = to_catalogue_item(row)
        except ValidationError as error:
            reason = f"cannot be sent to the 3PL: {error.errors()[0]['msg']}; fix the item in Linnworks"
            report.quarantined.append(ReportRow(reference=row.sku, label=row.item_title or "", detail=reason))
            continue
        items[item.sku] = item
    return list(items.values())


def _record(
    runtime: Runtime,
    changed: list[CatalogueItem],
    results: list[ItemResult],
    hashes: dict[str, str],
    report: RunReport,
) -> None:
    by_sku = {result.sku: result for result in results}
    accepted: dict[str, str] = {}
    for item in changed:
        result = by_sku.get(item.sku)
        if result is not None and result.ok:
            accepted[item.sku] = hashes[item.sku]
            report.catalogue.append(ReportRow(reference=item.sku, label=item.title, detail=result.detail))
            continue
        detail = result.detail if result is not None else "the 3PL returned no result for it"
        reason = f"the 3PL did not accept the item: {detail}; it is sent again on the next run"
        report.quarantined.append(ReportRow(reference=item.sku, label=item.title, detail=reason))
        logger.warning("catalogue item %s not accepted by the 3PL", item.sku)
    runtime.ledger.record_catalogue_hashes(accepted)
