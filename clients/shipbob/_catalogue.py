"""Products and stock on ShipBob 2026-01: the product/variant model and ``GET /inventory-level``.

* A ShipBob product holds variants; the variant carries the SKU. ``upsert_items`` reads the whole
  catalogue once per call (``GET /product``, cursor-paged) and indexes variants by exact SKU (ShipBob's
  ``SKU`` filter is a partial match, so it is not trusted to find one). A new SKU is created as a
  one-variant product (``POST /product``); a variant whose name or barcode differs is updated with
  ``PATCH /product/{id}`` (the product's name too when the variant is its only one). A SKU on more than
  one variant is refused with the product ids, since updating either would be a guess; a create
  refused because the SKU appeared meanwhile is looked up again and treated as existing.
* Stock: ``GET /inventory-level`` (cursor-paged). The spec defines on hand as what is physically
  there, committed as reserved for open orders, fulfillable as on hand minus committed (less stock held
  back). Usable on hand, what the core sets in Linnworks before adding shipped-but-unprocessed units,
  is fulfillable + committed: it excludes units ShipBob will not ship (exceptions, damage).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from clients.errors import MalformedResponseError
from clients.threepl.models import CatalogueItem, InventoryLevel, InventorySnapshot, ItemResult

from ._orders import DUPLICATE_WORDS, first_error, issues_text
from ._transport import Safety, Transport
from ._wire import (
    BarcodeOut,
    CreateProductOut,
    InventoryLevelIn,
    PagedIn,
    ProductIn,
    UpdateProductOut,
    VariantIn,
    VariantOut,
    VariantUpdateOut,
)

__all__ = ["INVENTORY_LEVELS", "PRODUCTS", "Catalogue"]

logger = logging.getLogger("lw3pl.shipbob")

PRODUCTS = "/product"
INVENTORY_LEVELS = "/inventory-level"
_PAGE_SIZE = "250"


class Catalogue:
    """Products and inventory levels over one ``Transport``; ``host`` bounds where paging links lead."""

    def __init__(self, http: Transport, host: str) -> None:
        self._http = http
        self._host = host.rstrip("/")

    # --- inventory -------------------------------------------------------------------------------

    def inventory(self, as_of: datetime) -> InventorySnapshot:
        """Usable on hand (fulfillable + committed) per SKU over every inventory-level page."""
        usable: dict[str, int] = defaultdict(int)
        complete = True
        for raw in self._pages(INVENTORY_LEVELS):
            try:
                level = InventoryLevelIn.model_validate(raw)
            except ValidationError as error:
                complete = False
                logger.warning("shipbob inventory level unreadable, snapshot partial: %s", first_error(error))
                continue
            if level.sku:
                usable[level.sku] += level.total_fulfillable_quantity + level.total_committed_quantity
        levels = [InventoryLevel(sku=sku, on_hand=units) for sku, units in usable.items()]
        return InventorySnapshot(as_of=as_of, levels=levels, complete=complete)

    # --- products --------------------------------------------------------------------------------

    def upsert(self, items: Sequence[CatalogueItem]) -> list[ItemResult]:
        results: dict[str, ItemResult] = {}
        valid = []
        for item in items:
            try:
                _create_body(item)
                valid.append(item)
            except ValidationError as error:
                results[item.sku] = ItemResult(sku=item.sku, ok=False, detail=first_error(error))
        index = self._variants_by_sku(None) if valid else {}
        for item in valid:
            results[item.sku] = self._upsert_one(item, index.get(item.sku, []))
        return [results[item.sku] for item in items]

    def _upsert_one(self, item: CatalogueItem, found: list[tuple[ProductIn, VariantIn]]) -> ItemResult:
        if len(found) > 1:
            ids = ", ".join(str(product.id) for product, _ in found)
            detail = f"SKU {item.sku} is on several ShipBob products ({ids}); merge them in ShipBob"
            return ItemResult(sku=item.sku, ok=False, detail=detail)
        if not found:
            return self._create(item)
        product, variant = found[0]
        if not _needs_update(variant, item):
            return ItemResult(sku=item.sku, ok=True, detail="unchanged")
        return self._update(product, variant, item)

    def _create(self, item: CatalogueItem) -> ItemResult:
        body = _create_body(item).wire()
        reply = self._http.call("POST", PRODUCTS, safety=Safety.IDEMPOTENT, body=body, accept=(400, 422))
        if reply.status < 300:
            return ItemResult(sku=item.sku, ok=True, detail="created")
        text = issues_text(reply.data)
        if not any(word in text.lower() for word in DUPLICATE_WORDS):
            return ItemResult(sku=item.sku, ok=False, detail=text or f"status {reply.status}")
        # Created meanwhile (an earlier attempt whose reply was lost, or someone in ShipBob's app).
        found = self._variants_by_sku(item.sku).get(item.sku, [])
        if len(found) != 1:
            return ItemResult(sku=item.sku, ok=False, detail=text)
        result = self._upsert_one(item, found)
        return result if result.detail != "unchanged" else ItemResult(sku=item.sku, ok=True, detail="exists")

    def _update(self, product: ProductIn, variant: VariantIn, item: CatalogueItem) -> ItemResult:
        title = item.title or item.sku
        body = UpdateProductOut(
            name=title if len(product.variants) == 1 else None,
            variants=[VariantUpdateOut(id=variant.id, name=title, barcodes=_barcodes(item))],
        ).wire()
        path = f"{PRODUCTS}/{product.id}"
        reply = self._http.call("PATCH", path, safety=Safety.IDEMPOTENT, body=body, accept=(400, 404, 422))
        if reply.status < 300:
            return ItemResult(sku=item.sku, ok=True, detail="updated")
        return ItemResult(sku=item.sku, ok=False, detail=issues_text(reply.data) or f"status {reply.status}")

    def _variants_by_sku(self, sku: str | None) -> dict[str, list[tuple[ProductIn, VariantIn]]]:
        """Every variant by exact SKU (``sku``: narrow the read with ShipBob's partial SKU filter)."""
        index: dict[str, list[tuple[ProductIn, VariantIn]]] = defaultdict(list)
        for raw in self._pages(PRODUCTS, {"SKU": sku} if sku else {}):
            try:
                product = ProductIn.model_validate(raw)
            except ValidationError as error:
                # Treated as absent: creating its SKU then reports the clash by name.
                logger.warning("shipbob product unreadable: %s", first_error(error))
                continue
            for variant in product.variants:
                if variant.sku:
                    index[variant.sku].append((product, variant))
        return index

    # --- paging ------------------------------------------------------------------------------------

    def _pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[Any]:
        """Every item of a cursor-paged list, following ``next`` until it is null."""
        reply = self._http.call(
            "GET", path, safety=Safety.READ, params={**(params or {}), "PageSize": _PAGE_SIZE}
        )
        while True:
            try:
                page = PagedIn.model_validate(reply.data)
            except ValidationError as error:
                raise MalformedResponseError(
                    f"ShipBob {path} page unreadable: {first_error(error)}", context=reply.context
                ) from None
            yield from page.items
            if not page.next:
                return
            reply = self._http.call("GET", self._follow(page.next, path), safety=Safety.READ)

    def _follow(self, link: str, path: str) -> str:
        """The absolute URL of a ``next`` link; one that leaves ShipBob's host is refused (it would
        carry our token elsewhere)."""
        if link.startswith("/"):
            return f"{self._host}{link}"
        parts, host = urlsplit(link), urlsplit(self._host)
        if (parts.scheme, parts.netloc) != (host.scheme, host.netloc):
            raise MalformedResponseError(f"ShipBob {path} paging link leaves its host: {link[:120]!r}")
        return link


def _create_body(item: CatalogueItem) -> CreateProductOut:
    title = item.title or item.sku
    return CreateProductOut(
        name=title, variants=[VariantOut(sku=item.sku, name=title, barcodes=_barcodes(item))]
    )


def _barcodes(item: CatalogueItem) -> list[BarcodeOut] | None:
    return [BarcodeOut(value=item.barcode)] if item.barcode else None


def _needs_update(variant: VariantIn, item: CatalogueItem) -> bool:
    renamed = (variant.name or "") != (item.title or item.sku)
    return renamed or bool(item.barcode and item.barcode not in variant.barcode_values)
