"""Deployment ``fulfilment-cycle``: export, reconcile, stock, catalogue in order (one-deployment setups)."""

from __future__ import annotations

from prefect import flow

from flows._common import account_for
from flows.catalogue import sync_catalogue
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from flows.stock import sync_stock
from lw3pl.core.blocks import Lw3plCredentials
from tasks.reporting import publish_cycle_summary

__all__ = ["fulfilment_cycle"]


@flow(name="fulfilment-cycle")
def fulfilment_cycle(
    credentials: Lw3plCredentials | None = None, credentials_block: str | None = None
) -> dict[str, dict[str, int]]:
    """One full pass: orders out to the 3PL, shipments back, stock levels, then the catalogue.

    Each step is its own subflow run (own artifacts, own state in the UI) for the same credentials block; a
    step that fails stops the cycle, because the later steps rely on the earlier ones (stock needs the
    ledger's shipped units). The cycle ends with one summary artifact of its four steps.

    Args:
        credentials: the seller's ``lw3pl Credentials`` block (a picker in the UI); else credentials_block.
        credentials_block: the block's name (the CLI's ``--credentials-block``); neither: the environment.
    """
    account = account_for(credentials, credentials_block)
    # The steps get the block by name: a name is a plain parameter, shown as such on each subflow run.
    block = account.block
    steps = {
        "export-orders": export_orders(credentials_block=block),
        "reconcile-shipments": reconcile_shipments(credentials_block=block),
        "sync-stock": sync_stock(credentials_block=block),
        "sync-catalogue": sync_catalogue(credentials_block=block),
    }
    publish_cycle_summary(steps, account.name)
    return steps
