"""The catalogue: the hash of what was last sent to the 3PL per SKU, so only changed items are sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from ledger._schema import CatalogueRow
from ledger._store import Store, chunks

__all__ = ["Catalogue"]


class Catalogue:
    """Catalogue hashes of one account at one 3PL. Reached as ``Ledger.catalogue``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def catalogue_hashes(self, skus: Iterable[str]) -> dict[str, str]:
        """The hash last sent to the 3PL for each of ``skus`` (unknown SKUs are absent)."""
        query = sa.select(CatalogueRow.sku, CatalogueRow.hash).where(*self._store.scope(CatalogueRow))
        with self._store.read() as session:
            return {
                sku: value
                for chunk in chunks(list(skus))
                for sku, value in session.execute(query.where(self._store.among(CatalogueRow.sku, chunk)))
            }

    def record_catalogue_hash(self, sku: str, value: str) -> None:
        """Remember what was sent to the 3PL for ``sku``."""
        self.record_catalogue_hashes({sku: value})

    def record_catalogue_hashes(self, hashes: Mapping[str, str]) -> None:
        """``record_catalogue_hash`` for many SKUs in one transaction (one multi-row upsert per 500)."""
        keys = [CatalogueRow.account, CatalogueRow.threepl, CatalogueRow.sku]
        with self._store.write() as session:
            now = self._store.now()
            for chunk in chunks(sorted(hashes)):
                values = [
                    {**self._store.keys(), "sku": sku, "hash": hashes[sku], "updated_at": now}
                    for sku in chunk
                ]
                insert = self._store.insert(CatalogueRow).values(values)
                set_ = {"hash": insert.excluded.hash, "updated_at": insert.excluded.updated_at}
                session.execute(insert.on_conflict_do_update(index_elements=keys, set_=set_))
