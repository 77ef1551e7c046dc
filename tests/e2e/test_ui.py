"""The Prefect UI as the operator's console, driven in headless Chromium like a person drives it.

A real Prefect server (UI on), work pool, the project's deployments and a process worker; Debian's
``chromium`` driven by Playwright (``executable_path``, no browser download). The person opens Deployments,
Quick-runs ``setup-fulfilment-centre``, sees it Completed and its summary artifact; opens a Custom run of
``export-orders``, is refused ``batch_size=-1`` by the form before any run exists, then picks a credentials
block in the form and the run exports the orders under that block's account, with named columns in its
tables. Screenshots are saved in the test's tmp dir (``screenshots/``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from pydantic import SecretStr

from lw3pl.core.blocks import Lw3plCredentials
from sandbox.linnworks import LinnworksSandbox
from sandbox.shipbob.server import ShipBobSandbox
from sandbox.warehouse import Warehouse, WarehouseConfig
from tests.e2e.conftest import FULFILMENT_CENTRE, worker_env
from tests.e2e.prefect_stack import PrefectStack, prefect_stack

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCK = "ui-seller"
BLOCK_ACCOUNT = "picked"
ORDERS = 4
UI_WAIT_MS = 60_000


@dataclass
class Console:
    """The running stack, the sandboxes behind it, the browser page and where screenshots go."""

    stack: PrefectStack
    linnworks: LinnworksSandbox
    page: Page
    shots: Path

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def open_deployment(self, name: str) -> None:
        self.page.goto(f"{self.stack.ui_url}/deployments")
        self.page.get_by_role("link", name=name, exact=True).first.click()
        self.page.wait_for_url("**/deployments/deployment/**")
        # The Run menu works only once the page has loaded the deployment: on a cold server a Quick run
        # clicked earlier created no run (seen once in a fresh-clone CI run).
        self.page.wait_for_load_state("networkidle")

    def open_run_menu(self, entry: str) -> None:
        self.page.get_by_role("button", name="Run", exact=True).click()
        self.page.get_by_text(entry, exact=True).first.click()

    def runs_of(self, deployment: str) -> list[dict[str, Any]]:
        deployment_id = self.stack.deployment(f"{deployment}/{deployment}")["id"]
        body = {"deployments": {"id": {"any_": [deployment_id]}}}
        runs: list[dict[str, Any]] = self.stack.post("/flow_runs/filter", body)
        return runs


def _chromium_or_skip() -> Any:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does when it can)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras: make lock")


def _save_block(stack: PrefectStack, env: dict[str, str]) -> None:
    """The seller's whole connection in one block, under its own account name."""
    block = Lw3plCredentials(
        lw3pl_account=BLOCK_ACCOUNT,
        linnworks_auth_url=env["LINNWORKS_AUTH_URL"],
        linnworks_application_id=env["LINNWORKS_APPLICATION_ID"],
        linnworks_application_secret=SecretStr(env["LINNWORKS_APPLICATION_SECRET"]),
        linnworks_installation_token=SecretStr(env["LINNWORKS_INSTALLATION_TOKEN"]),
        threepl_adapter="shipbob",
        shipbob_api_url=env["SHIPBOB_API_URL"],
        shipbob_api_token=SecretStr(env["SHIPBOB_API_TOKEN"]),
        shipbob_channel_id=int(env["SHIPBOB_CHANNEL_ID"]),
        shipping_service_map={"*": "Standard"},
    )
    with temporary_settings({PREFECT_API_URL: stack.api_url}):
        block.save(BLOCK, overwrite=True)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    sync_api = _chromium_or_skip()
    home = tmp_path_factory.mktemp("prefect-ui-home")
    shots = tmp_path_factory.mktemp("screenshots")
    warehouse = Warehouse(seed=5, config=WarehouseConfig().scaled(1000))
    with (
        LinnworksSandbox(seed=5, rate_limits=False) as linnworks,
        ShipBobSandbox(warehouse=warehouse, rate_limits=False) as shipbob,
    ):
        for item in linnworks.stock_items():  # every Linnworks SKU is a product at the warehouse, in stock
            warehouse.upsert_product(item["SKU"], title=item["SKU"])
            warehouse.set_on_hand(item["SKU"], 100)
        env = worker_env(linnworks, shipbob, f"sqlite:///{home / 'ledger.db'}")
        with prefect_stack(home, env, ui=True) as stack:
            _save_block(stack, env)  # before Playwright: its event loop would make save() a coroutine
            with sync_api.sync_playwright() as playwright:
                yield from _browse(stack, linnworks, playwright, shots)


def _browse(
    stack: PrefectStack, linnworks: LinnworksSandbox, playwright: Any, shots: Path
) -> Iterator[Console]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(UI_WAIT_MS)
    try:
        yield Console(stack, linnworks, page, shots)
    finally:
        browser.close()


def test_quick_run_of_setup_completes_and_its_artifacts_show_the_summary(console: Console) -> None:
    """Deployments -> setup-fulfilment-centre -> Run -> Quick run; Completed; Artifacts -> the summary."""
    page = console.page
    console.open_deployment("setup-fulfilment-centre")
    console.open_run_menu("Quick run")
    flow_run_id = _single_run(console, "setup-fulfilment-centre")["id"]
    finished = console.stack.wait(flow_run_id, "setup-fulfilment-centre")
    assert finished.state_type == "COMPLETED", console.stack.logs(flow_run_id)
    page.goto(f"{console.stack.ui_url}/runs/flow-run/{flow_run_id}")
    page.get_by_text("Completed", exact=True).first.wait_for()
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text("e2e-setup-fulfilment-centre-summary").first.click()
    page.get_by_text("configuration check: ready").first.wait_for()
    page.get_by_text("location: created").first.wait_for()
    console.shot("setup-summary")


def test_the_run_form_refuses_batch_size_minus_one_before_a_run_starts(console: Console) -> None:
    page = console.page
    console.open_deployment("export-orders")
    console.open_run_menu("Custom run")
    page.get_by_role("button", name="int", exact=True).click()
    page.locator("input[type=number]").fill("-1")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("-1 is not valid").first.wait_for()
    console.shot("batch-size-refused")
    assert console.runs_of("export-orders") == []


def test_custom_run_with_a_picked_block_exports_under_the_blocks_account(console: Console) -> None:
    """The block is picked in the form; the run exports every order, filed under the block's account."""
    page = console.page
    if not console.runs_of("setup-fulfilment-centre"):
        console.stack.run_deployment("setup-fulfilment-centre/setup-fulfilment-centre")
    location = next(
        loc
        for loc in console.linnworks.account.locations.values()
        if loc["LocationName"] == FULFILMENT_CENTRE
    )
    order_ids = console.linnworks.create_orders(ORDERS, str(location["StockLocationId"]))
    console.open_deployment("export-orders")
    console.open_run_menu("Custom run")
    page.get_by_role("button", name="int", exact=True).click()
    page.locator("input[type=number]").fill("2")
    page.get_by_role("button", name="Lw3plCredentials", exact=True).click()
    page.locator(".block-document-input .p-select-button__control").click()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=BLOCK).click()
    console.shot("custom-run-form")
    page.get_by_role("button", name="Submit").click()
    run = _single_run(console, "export-orders")
    finished = console.stack.wait(run["id"], "export-orders")
    assert finished.state_type == "COMPLETED", console.stack.logs(run["id"])
    assert run["parameters"]["batch_size"] == 2
    artifacts = {a["key"]: a for a in console.stack.artifacts(run["id"])}
    assert f"| exported | {ORDERS} |" in artifacts[f"{BLOCK_ACCOUNT}-export-orders-summary"]["data"]
    rows = _table(artifacts[f"{BLOCK_ACCOUNT}-export-orders-exported"])
    assert {row["Linnworks order id"] for row in rows} == set(order_ids)
    assert all(row["3PL order id"] and row["Linnworks order number"] for row in rows)
    _show_artifact(console, run["id"], f"{BLOCK_ACCOUNT}-export-orders-exported", "3PL order id")


def _single_run(console: Console, deployment: str) -> dict[str, Any]:
    """The one run the UI just created for ``deployment`` (what its toast's "View run" opens)."""
    for _ in range(UI_WAIT_MS // 500):
        runs = console.runs_of(deployment)
        if runs:
            [run] = runs
            return run
        console.page.wait_for_timeout(500)
    raise AssertionError("the form created no run")


def _table(artifact: dict[str, Any]) -> list[dict[str, str]]:
    data = artifact["data"]
    rows: list[dict[str, str]] = json.loads(data) if isinstance(data, str) else data
    return rows


def _show_artifact(console: Console, flow_run_id: str, key: str, header: str) -> None:
    """Open the run's artifact in the UI and check the table shows the named column."""
    console.page.goto(f"{console.stack.ui_url}/runs/flow-run/{flow_run_id}")
    console.page.get_by_text("Artifacts", exact=True).first.click()
    console.page.get_by_text(key, exact=True).first.click()
    console.page.get_by_text(header, exact=True).first.wait_for()
    console.shot(key)
