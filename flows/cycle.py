"""Deployment ``fulfilment-cycle``: export, reconcile, stock, catalogue in order (one-deployment setups)."""

from __future__ import annotations

from prefect import flow

from flows.catalogue import sync_catalogue
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from flows.stock import sync_stock

__all__ = ["fulfilment_cycle"]


@flow(name="fulfilment-cycle")
def fulfilment_cycle(credentials_block: str | None = None) -> dict[str, dict[str, int]]:
    """One full pass: orders out to the 3PL, shipments back, stock levels, then the catalogue.

    Each step is its own subflow run (own artifacts, own state in the UI) for the same credentials block; a
    step that fails stops the cycle, because the later steps rely on the earlier ones (stock needs the
    ledger's shipped units).

    Args:
        credentials_block: name of an ``lw3pl Credentials`` block; default: credentials from the environment.
    """
    return {
        "export-orders": export_orders(credentials_block=credentials_block),
        "reconcile-shipments": reconcile_shipments(credentials_block=credentials_block),
        "sync-stock": sync_stock(credentials_block=credentials_block),
        "sync-catalogue": sync_catalogue(credentials_block=credentials_block),
    }
