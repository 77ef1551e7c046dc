"""The Stock/* endpoints of ``LinnworksClient`` (a mixin, to keep each module short)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from clients.errors import MalformedResponseError, RecordError

from ._http import Reply, Safety
from ._replies import STOCK_BY_IDS, STOCK_ITEMS_FULL, STOCK_LEVELS, STOCK_PAGE, batches, parse, parse_list
from ._stock import _GetStockItemsFullByIdsRequest
from .models import (
    ZERO_GUID,
    StockItemFull,
    StockItemFullExtended,
    StockItemLevel,
    StockItemPage,
    StockItemsFullByIdsDataRequirement,
    StockItemsFullDataRequirement,
    StockLevelUpdate,
    StockSearchType,
)

__all__ = ["StockCalls"]

_DEFAULT_BATCH = 100
_NO_ITEMS = "no items found"


class StockCalls:
    """Stock levels and stock items; ``LinnworksClient`` provides ``_call``."""

    def _call(self, endpoint: str, values: dict[str, Any], safety: Safety) -> Reply:
        raise NotImplementedError

    def set_stock_level(
        self, levels: Sequence[StockLevelUpdate], *, change_source: str = "lw3pl"
    ) -> list[StockItemLevel]:
        """Set absolute stock levels by SKU and location (Stock/SetStockLevel)."""
        if not levels:
            return []
        values = {"stockLevels": list(levels), "changeSource": change_source}
        return parse_list(self._call("Stock/SetStockLevel", values, Safety.IDEMPOTENT), STOCK_LEVELS)

    def set_stock_level_batched(
        self,
        levels: Sequence[StockLevelUpdate],
        *,
        batch_size: int = _DEFAULT_BATCH,
        change_source: str = "lw3pl",
    ) -> list[StockItemLevel]:
        """``set_stock_level`` over any number of rows, ``batch_size`` per call."""
        return [
            row
            for batch in batches(levels, batch_size)
            for row in self.set_stock_level(batch, change_source=change_source)
        ]

    def get_stock_items(
        self,
        *,
        key_word: str = "",
        location_id: UUID = ZERO_GUID,
        entries_per_page: int = 200,
        page_number: int = 1,
        exclude_composites: bool = False,
        exclude_variations: bool = False,
        exclude_batches: bool = False,
    ) -> StockItemPage:
        """One page of stock items with quantities at ``location_id`` (Stock/GetStockItems, 1-based pages)."""
        values = {
            "keyWord": key_word,
            "locationId": location_id,
            "entriesPerPage": entries_per_page,
            "pageNumber": page_number,
            "excludeComposites": exclude_composites,
            "excludeVariations": exclude_variations,
            "excludeBatches": exclude_batches,
        }
        return parse(self._call("Stock/GetStockItems", values, Safety.READ), STOCK_PAGE)

    def get_stock_items_full(
        self,
        *,
        keyword: str = "",
        load_composite_parents: bool = True,
        load_variation_parents: bool = True,
        entries_per_page: int = 200,
        page_number: int = 1,
        data_requirements: Sequence[StockItemsFullDataRequirement] = (),
        search_types: Sequence[StockSearchType] = (),
    ) -> list[StockItemFull]:
        """One page of full stock items (Stock/GetStockItemsFull); an empty list past the last page."""
        values = {
            "keyword": keyword,
            "loadCompositeParents": load_composite_parents,
            "loadVariationParents": load_variation_parents,
            "entriesPerPage": entries_per_page,
            "pageNumber": page_number,
            "dataRequirements": list(data_requirements),
            "searchTypes": list(search_types),
        }
        try:
            reply = self._call("Stock/GetStockItemsFull", values, Safety.READ)
        except RecordError as error:
            # Linnworks answers a page past the end with 400 "No items found with given filter."
            if _NO_ITEMS in error.message.lower() and not isinstance(error, MalformedResponseError):
                return []
            raise
        return parse_list(reply, STOCK_ITEMS_FULL)

    def get_stock_items_full_by_ids(
        self,
        stock_item_ids: Sequence[UUID],
        data_requirements: Sequence[StockItemsFullByIdsDataRequirement] = (),
    ) -> list[StockItemFullExtended]:
        """Full stock items by id (Stock/GetStockItemsFullByIds)."""
        if not stock_item_ids:
            return []
        request = _GetStockItemsFullByIdsRequest(
            stock_item_ids=list(stock_item_ids), data_requirements=list(data_requirements)
        )
        reply = self._call("Stock/GetStockItemsFullByIds", {"request": request}, Safety.READ)
        return parse(reply, STOCK_BY_IDS).stock_items_full_extended
