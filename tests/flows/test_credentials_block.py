"""Every deployment run with ``credentials_block`` and no LINNWORKS_* in the environment (docs/operations.md).

The block names its own account (``lw3pl_account``) and the environment another one: the whole run, its
report step included, must work for the block's account and file its artifacts under it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flows.registry import FLOWS, load_flow
from ledger import Ledger, State
from lw3pl.core.blocks import Lw3plCredentials
from tasks.context import close_runtimes
from tests.flows.sellers import Seller, block_only_environment, run_artifacts_with_subflows, running_seller

ACCOUNT = "acme"
STEPS = {
    "fulfilment-cycle": ["export-orders", "reconcile-shipments", "sync-stock", "sync-catalogue"],
}
# The read-only check publishes its table, not a run summary.
OWN_ARTIFACTS = {"check-configuration": {f"{ACCOUNT}-check-configuration"}}


@pytest.fixture
def seller(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seller]:
    """One seller whose credentials are only in its block; runtimes built from blocks are closed after."""
    block_only_environment(monkeypatch, ledger_url, LINNWORKS_PACER="local")
    close_runtimes()
    try:
        with running_seller(ACCOUNT, seed=31, on_hand=80) as started:
            yield started
    finally:
        close_runtimes()


def test_every_deployment_runs_from_its_credentials_block_and_files_artifacts_under_its_account(
    seller: Seller, ledger_url: str
) -> None:
    """Setup, export, reconcile, stock, catalogue and the cycle complete; every artifact is the block's."""
    names = ["setup-fulfilment-centre", *(name for name in FLOWS if name != "setup-fulfilment-centre")]
    for name in names:
        if name == "export-orders":
            seller.linnworks.create_orders(3, seller.location_id)
        if name == "reconcile-shipments":
            seller.advance(hours=2)
        state = load_flow(name)(credentials_block=seller.block, return_state=True)
        assert state.is_completed(), f"{name}: {state.message}"
        artifacts = run_artifacts_with_subflows(state.state_details.flow_run_id)
        expected = OWN_ARTIFACTS.get(name) or {
            f"{ACCOUNT}-{step}-summary" for step in STEPS.get(name, [name])
        }
        assert expected <= set(artifacts), (name, sorted(artifacts))
        assert all(key.startswith(f"{ACCOUNT}-") for key in artifacts), (name, sorted(artifacts))
    ledger = seller.ledger(ledger_url)
    try:
        records = ledger.in_states(list(State))
        assert len(records) == 3
        assert {record.state for record in records} == {State.PROCESSED}
        environment = Ledger(ledger_url, account="environment", threepl="shipbob")
        try:
            assert environment.in_states(list(State)) == []
        finally:
            environment.close()
    finally:
        ledger.close()


def test_a_picked_block_wins_over_the_block_name_the_form_starts_with(seller: Seller) -> None:
    """The UI's Custom run form keeps the deployment's block name; the block picked there is the one used."""
    picked = Lw3plCredentials.load(seller.block)
    state = load_flow("sync-catalogue")(
        credentials=picked, credentials_block="a-block-the-form-started-with", return_state=True
    )
    assert state.is_completed(), state.message
    artifacts = run_artifacts_with_subflows(state.state_details.flow_run_id)
    assert f"{ACCOUNT}-sync-catalogue-summary" in artifacts, sorted(artifacts)
