"""Sellers whose credentials live only in an lw3pl Credentials block: own sandboxes, own block, own account.

The environment carries what every seller of one worker shares (the ledger, the service map, the time scale)
and no Linnworks or ShipBob credentials, as docs/operations.md recommends for credentials blocks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
)
from pydantic import SecretStr

from ledger import HoldStatus, Ledger, State
from lw3pl.core.blocks import Lw3plCredentials
from sandbox.linnworks import LinnworksSandbox
from sandbox.shipbob.server import ShipBobSandbox
from sandbox.warehouse import ManualClock, Warehouse, WarehouseConfig
from tasks.events import EVENTS_CURSOR

__all__ = [
    "Seller",
    "assert_own_artifacts_only",
    "assert_own_orders_only",
    "assert_own_stock_only",
    "block_only_environment",
    "receive_a_large_delivery",
    "run_artifacts_with_subflows",
    "running_seller",
]

FULFILMENT_CENTRE = "3PL Warehouse"


@dataclass
class Seller:
    """One seller: its account name, its credentials block, its Linnworks and its warehouse."""

    account: str
    block: str
    linnworks: LinnworksSandbox
    shipbob: ShipBobSandbox
    warehouse: Warehouse
    clock: ManualClock

    @property
    def location_id(self) -> str:
        """The fulfilment centre the setup flow made in this seller's Linnworks."""
        location: str = next(
            loc["StockLocationId"]
            for loc in self.linnworks.account.locations.values()
            if loc["LocationName"] == FULFILMENT_CENTRE
        )
        return location

    def ledger(self, url: str) -> Ledger:
        """This seller's view of the shared ledger database."""
        return Ledger(url, account=self.account, threepl="shipbob")

    def advance(self, hours: float) -> None:
        self.clock.now += timedelta(hours=hours)
        self.warehouse.advance()


def block_only_environment(monkeypatch: pytest.MonkeyPatch, ledger_url: str, **extra: str) -> None:
    """The worker's environment: shared settings, an account name of its own, no partner credentials."""
    for name in list(os.environ):
        if name.startswith(("LINNWORKS_", "SHIPBOB_", "SFTP_")):
            monkeypatch.delenv(name)
    values = {
        "LEDGER_URL": ledger_url,
        "THREEPL_ADAPTER": "shipbob",
        "SHIPPING_SERVICE_MAP": json.dumps({"*": "Standard"}),
        "PARTNER_TIME_SCALE": "1000",
        "LW3PL_ACCOUNT": "environment",  # the block's account must win over this one
        "FULFILMENT_CENTRE_NAME": FULFILMENT_CENTRE,
        **extra,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@contextmanager
def running_seller(account: str, *, seed: int, on_hand: int) -> Iterator[Seller]:
    """Start the seller's sandboxes, stock its warehouse with ``on_hand`` of every SKU, save its block."""
    clock = ManualClock()
    config = WarehouseConfig.deterministic(ship_delay=timedelta(hours=1))
    warehouse = Warehouse(seed=seed, clock=clock, config=config)
    with (
        LinnworksSandbox(seed=seed, rate_limits=False) as linnworks,
        ShipBobSandbox(warehouse=warehouse, rate_limits=False, auto_advance=False) as shipbob,
    ):
        for item in linnworks.stock_items():
            warehouse.upsert_product(item["SKU"], title=item["SKU"])
            warehouse.set_on_hand(item["SKU"], on_hand)
        block = f"{account}-credentials"
        _credentials(account, linnworks, shipbob).save(block, overwrite=True)
        yield Seller(account, block, linnworks, shipbob, warehouse, clock)


def _credentials(account: str, linnworks: LinnworksSandbox, shipbob: ShipBobSandbox) -> Lw3plCredentials:
    return Lw3plCredentials(
        lw3pl_account=account,
        linnworks_auth_url=linnworks.auth_url,
        linnworks_application_id=linnworks.application_id,
        linnworks_application_secret=SecretStr(linnworks.application_secret),
        linnworks_installation_token=SecretStr(linnworks.installation_token),
        shipbob_api_url=shipbob.url,
        shipbob_api_token=SecretStr(shipbob.token),
        shipbob_channel_id=shipbob.channel_id,
    )


def run_artifacts_with_subflows(flow_run_id: UUID) -> dict[str, Any]:
    """The artifacts a flow run and its subflow runs published, by key (data as stored)."""
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id]))
        )
        runs = [flow_run_id, *(child.id for child in children)]
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=runs))
        )
    return {artifact.key: artifact.data for artifact in artifacts if artifact.key}


def assert_own_orders_only(seller: Seller, references: list[str], ledger_url: str) -> None:
    """The seller's ledger rows, warehouse orders and processed Linnworks orders are its own, all of them."""
    ledger = seller.ledger(ledger_url)
    try:
        records = ledger.in_states(list(State))
        cursor = ledger.get_cursor(EVENTS_CURSOR)
    finally:
        ledger.close()
    assert sorted(record.reference for record in records) == sorted(references)
    assert {record.state for record in records} == {State.PROCESSED}
    assert cursor is not None, f"{seller.account} has no events cursor of its own"
    at_warehouse = {order.reference: order for order in seller.warehouse.list_orders()}
    assert sorted(at_warehouse) == sorted(references)
    for reference in references:
        order = seller.linnworks.order(reference)
        tracking = at_warehouse[reference].shipments[0].packages[0].tracking_number
        assert order["Processed"] is True
        assert order["ShippingInfo"]["TrackingNumber"] == tracking


def receive_a_large_delivery(seller: Seller) -> str:
    """The warehouse books 1000 more units of the seller's first SKU: above the review threshold (500)."""
    sku = seller.warehouse.products()[0].sku
    seller.warehouse.set_on_hand(sku, seller.warehouse.stock(sku).on_hand + 1000)
    return sku


def assert_own_stock_only(seller: Seller, ledger_url: str, held: set[str]) -> None:
    """Linnworks and the ledger hold the seller's own warehouse levels (sellers start from different ones),
    and the ledger holds for review exactly the seller's own ``held`` SKUs, whose level is not written."""
    skus = [product.sku for product in seller.warehouse.products()]
    ledger = seller.ledger(ledger_url)
    try:
        recorded = ledger.stock_state(skus)
        holds = {hold.sku for hold in ledger.held_stock_changes(HoldStatus.HELD)}
    finally:
        ledger.close()
    assert holds == held, f"{seller.account} holds {holds}, expected {held}"
    for sku in set(skus) - held:
        on_hand = seller.warehouse.stock(sku).on_hand
        assert seller.linnworks.stock_level(sku, seller.location_id) == on_hand, sku
        assert recorded[sku].level == on_hand, sku


def assert_own_artifacts_only(seller: Seller, cycles: list[dict[str, Any]], orders: int) -> None:
    """Every artifact of the seller's two cycles is keyed by its account and counts its own orders."""
    name = seller.account
    for cycle in cycles:
        assert cycle, f"{name}: no artifacts"
        assert all(key.startswith(f"{name}-") for key in cycle), sorted(cycle)
    first_export = cycles[0][f"{name}-export-orders-summary"]
    assert f"| exported | {orders} |" in first_export
    second_reconcile = cycles[1][f"{name}-reconcile-shipments-summary"]
    assert f"| processed | {orders} |" in second_reconcile
