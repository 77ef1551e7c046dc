"""The Prefect UI as the operator's console, driven in headless Chromium like a person drives it.

A real Prefect server (UI on), work pool, the project's deployments and a process worker (the e2e modules'
shared stack); Debian's ``chromium`` driven by Playwright (``executable_path``, no browser download). The
runs' environment (the worker's, and the deployments' job environment) holds no Linnworks or 3PL setting: the
seller's whole connection is one credentials block, which every deployment names in its parameters
(``parameters: {credentials_block: ...}`` in prefect.yaml), so a schedule runs with it. The person opens
Deployments, Quick-runs ``setup-fulfilment-centre``, sees it Completed and its summary artifact; opens a
Custom run of ``export-orders``, is refused ``batch_size=-1`` by the form before any run exists, then picks
the credentials block in the form and the run exports the orders. Every other deployment then runs as its
schedule runs it (a run with the deployment's own parameters) and does its work. Screenshots are saved in the
test's tmp dir (``screenshots/``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from pydantic import SecretStr

from ledger import Ledger, State
from lw3pl.core.blocks import Lw3plCredentials
from sandbox.linnworks import LinnworksSandbox
from sandbox.shipbob.server import ShipBobSandbox
from sandbox.warehouse import ManualClock, Warehouse, WarehouseConfig
from tests.e2e.conftest import FULFILMENT_CENTRE
from tests.e2e.prefect_stack import LW3PL_SETTINGS, REPO, PrefectStack

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

# The module's stack (server, deploy, worker) takes minutes to start on a loaded 2-core machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

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
BLOCK_ACCOUNT = "ui"
ORDERS = 4
SCHEDULED_ORDERS = 3
CYCLE_ORDERS = 2
ON_HAND = 100
UI_WAIT_MS = 60_000
PARTNER_PREFIXES = ("LINNWORKS_", "SHIPBOB_", "SFTP_", "THREEPL_", "SHIPPING_SERVICE_MAP")


@dataclass
class Console:
    """The running stack, the sandboxes behind it, the browser page and where screenshots go."""

    stack: PrefectStack
    linnworks: LinnworksSandbox
    warehouse: Warehouse
    clock: ManualClock
    ledger_url: str
    page: Page
    shots: Path

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def open_deployment(self, name: str) -> None:
        self.page.goto(f"{self.stack.ui_url}/deployments")
        self.page.get_by_role("link", name=name, exact=True).first.click()
        self.page.wait_for_url("**/deployments/deployment/**")
        # The Run menu works only once the page has loaded the deployment: on a cold server a Quick run
        # clicked earlier created no run (seen once in a fresh-clone CI run). The deployment's name in the
        # page's heading is rendered from the loaded deployment, so it is there only then.
        self.page.wait_for_load_state("networkidle")

    def open_run_menu(self, entry: str) -> None:
        self.page.get_by_role("button", name="Run", exact=True).click()
        self.page.get_by_text(entry, exact=True).first.click()

    def created_run(self, deployment: str) -> dict[str, Any]:
        """The one run the UI just created for ``deployment``: its toast ("<run> scheduled to start now",
        "View run") shows only once the server has created it. No toast: the click created no run (the
        screenshot shows why)."""
        try:
            self.page.get_by_role("button", name="View run").first.wait_for()  # the toast is in the DOM twice
        except Exception:
            self.shot("no-run-created")
            raise
        [run] = self.runs_of(deployment)
        return run

    def runs_of(self, deployment: str) -> list[dict[str, Any]]:
        deployment_id = self.stack.deployment(f"{deployment}/{deployment}")["id"]
        body = {"deployments": {"id": {"any_": [deployment_id]}}}
        runs: list[dict[str, Any]] = self.stack.post("/flow_runs/filter", body)
        return runs

    def scheduled_run(self, deployment: str) -> str:
        """Run ``deployment`` with its own parameters, as its schedule does; the completed run's id."""
        flow_run_id = self.stack.create_flow_run(f"{deployment}/{deployment}")
        finished = self.stack.wait(flow_run_id, deployment)
        assert finished.state_type == "COMPLETED", f"{deployment}\n{self.stack.logs(flow_run_id)}"
        return flow_run_id

    def location_id(self) -> str:
        locations = self.linnworks.account.locations.values()
        return next(
            str(loc["StockLocationId"]) for loc in locations if loc["LocationName"] == FULFILMENT_CENTRE
        )

    def ship_everything(self) -> None:
        """The warehouse ships every order it holds (its clock moves past the ship delay)."""
        self.clock.now += timedelta(hours=2)
        self.warehouse.advance()


def _chromium_or_skip() -> Any:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does when it can)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras: make lock")


def _runs_env(ledger_url: str) -> dict[str, str]:
    """Nothing of the seller's: where the ledger is, and the sandboxes' speed-up (not a partner setting)."""
    return {"LEDGER_URL": ledger_url, "PARTNER_TIME_SCALE": "1000"}


def _save_block(stack: PrefectStack, linnworks: LinnworksSandbox, shipbob: ShipBobSandbox) -> None:
    """The seller's whole connection in one block: URLs, credentials, 3PL kind, channel, map, account."""
    block = Lw3plCredentials(
        lw3pl_account=BLOCK_ACCOUNT,
        linnworks_auth_url=linnworks.auth_url,
        linnworks_application_id=linnworks.application_id,
        linnworks_application_secret=SecretStr(linnworks.application_secret),
        linnworks_installation_token=SecretStr(linnworks.installation_token),
        fulfilment_centre_name=FULFILMENT_CENTRE,
        threepl_adapter="shipbob",
        shipbob_api_url=shipbob.url,
        shipbob_api_token=SecretStr(shipbob.token),
        shipbob_channel_id=shipbob.channel_id,
        shipping_service_map={"*": "Standard"},
    )
    with temporary_settings({PREFECT_API_URL: stack.api_url}):
        block.save(BLOCK, overwrite=True)


@contextmanager
def _block_named_in_every_deployment(stack: PrefectStack, ledger_url: str) -> Iterator[None]:
    """What a seller writes in prefect.yaml (``parameters: {credentials_block: ...}``) for each deployment,
    and the ledger its runs use; each deployment's own parameters and environment again on exit (the stack
    is the e2e modules' shared one)."""
    before = {name: stack.deployment(f"{name}/{name}") for name in stack.deployed}
    try:
        for name in stack.deployed:
            stack.set_parameters(f"{name}/{name}", {"credentials_block": BLOCK})
            stack.set_environment(f"{name}/{name}", _runs_env(ledger_url))
        yield
    finally:
        for name, deployment in before.items():
            fields = {key: deployment[key] for key in ("parameters", "job_variables")}
            stack.update_deployment(f"{name}/{name}", fields)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, e2e_stack: PrefectStack) -> Iterator[Console]:
    sync_api = _chromium_or_skip()
    shots = tmp_path_factory.mktemp("screenshots")
    clock = ManualClock()
    warehouse = Warehouse(seed=5, clock=clock, config=WarehouseConfig.deterministic(timedelta(hours=1)))
    ledger_url = f"sqlite:///{tmp_path_factory.mktemp('ui-ledger') / 'ledger.db'}"
    stack = e2e_stack
    with (
        LinnworksSandbox(seed=5, rate_limits=False) as linnworks,
        ShipBobSandbox(warehouse=warehouse, rate_limits=False, auto_advance=False) as shipbob,
        _block_named_in_every_deployment(stack, ledger_url),
    ):
        _save_block(
            stack, linnworks, shipbob
        )  # before Playwright: its event loop would make save() a coroutine
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1000})  # wide: every column shows
            page.set_default_timeout(UI_WAIT_MS)
            try:
                yield Console(stack, linnworks, warehouse, clock, ledger_url, page, shots)
            finally:
                browser.close()


def test_the_worker_has_no_linnworks_or_3pl_setting(console: Console) -> None:
    """The runs below can only have their connection from the block the deployments name."""
    partner = [key for key in console.stack.env if key.startswith(PARTNER_PREFIXES)]
    assert partner == [], "the worker's environment must hold no partner setting"
    for name in console.stack.deployed:
        env = console.stack.deployment(f"{name}/{name}")["job_variables"].get("env", {})
        assert [key for key in env if key.startswith(PARTNER_PREFIXES)] == [], name
    assert not (REPO / ".env").exists(), (
        "a .env in the checkout would give the worker settings (Settings reads it)"
    )
    assert {"LINNWORKS_AUTH_URL", "SHIPBOB_API_URL", "SHIPPING_SERVICE_MAP"} <= LW3PL_SETTINGS


def test_quick_run_of_setup_completes_and_its_artifacts_show_the_summary(console: Console) -> None:
    """Deployments -> setup-fulfilment-centre -> Run -> Quick run; Completed; Artifacts -> the summary."""
    page = console.page
    console.open_deployment("setup-fulfilment-centre")
    console.open_run_menu("Quick run")
    flow_run_id = console.created_run("setup-fulfilment-centre")["id"]
    finished = console.stack.wait(flow_run_id, "setup-fulfilment-centre")
    assert finished.state_type == "COMPLETED", console.stack.logs(flow_run_id)
    assert console.location_id(), "setup created no fulfilment-centre location in Linnworks"
    page.goto(f"{console.stack.ui_url}/runs/flow-run/{flow_run_id}")
    page.get_by_text("Completed", exact=True).first.wait_for()
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text(f"{BLOCK_ACCOUNT}-setup-fulfilment-centre-summary").first.click()
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
    _set_up_and_stock(console)
    order_ids = console.linnworks.create_orders(ORDERS, console.location_id())
    console.open_deployment("export-orders")
    console.open_run_menu("Custom run")
    page.get_by_role("button", name="int", exact=True).click()
    page.locator("input[type=number]").fill("2")
    page.get_by_role("button", name="Lw3plCredentials", exact=True).click()
    _submit_with_the_block_picked(console)
    run = console.created_run("export-orders")
    finished = console.stack.wait(run["id"], "export-orders")
    assert finished.state_type == "COMPLETED", console.stack.logs(run["id"])
    assert run["parameters"]["batch_size"] == 2
    assert run["parameters"]["credentials"]["$ref"]["block_document_id"] == _block_document_id(console)
    artifacts = {a["key"]: a for a in console.stack.artifacts(run["id"])}
    assert f"| exported | {ORDERS} |" in artifacts[f"{BLOCK_ACCOUNT}-export-orders-summary"]["data"]
    rows = _table(artifacts[f"{BLOCK_ACCOUNT}-export-orders-exported"])
    assert {row["Linnworks order id"] for row in rows} == set(order_ids)
    assert all(row["3PL order id"] and row["Linnworks order number"] for row in rows)
    assert set(order_ids) <= {order.reference for order in console.warehouse.list_orders()}
    _show_artifact(console, run["id"], f"{BLOCK_ACCOUNT}-export-orders-exported", "3PL order id")


PICK_ATTEMPTS = 3


def _submit_with_the_block_picked(console: Console) -> None:
    """Pick BLOCK in the form's block picker and submit. The picker shows nothing once a block is chosen, and
    once in a fresh-clone CI run the run was created without the block (the pick had not taken): so the
    form's request is checked on its way out, one without the block is stopped before it creates a run, and
    the block is picked again. What the product does with the block is asserted on the run itself."""
    page = console.page
    sent: list[dict[str, Any]] = []

    def only_with_a_block(route: Route) -> None:
        if _picked_block(route.request.post_data_json):
            route.continue_()
        else:
            route.abort()

    page.route("**/create_flow_run", only_with_a_block)
    try:
        for attempt in range(PICK_ATTEMPTS):
            page.locator(".block-document-input .p-select-button__control").click()
            page.keyboard.press("ArrowDown")
            page.get_by_role("option", name=BLOCK).click()
            console.shot(f"custom-run-form-{attempt}")
            with page.expect_request("**/create_flow_run") as request:
                page.get_by_role("button", name="Submit").click()
            sent.append(request.value.post_data_json or {})
            if _picked_block(sent[-1]):
                return
    finally:
        page.unroute("**/create_flow_run")
    raise AssertionError(f"the form sent no block in {PICK_ATTEMPTS} tries: {sent}")


def _picked_block(body: dict[str, Any] | None) -> bool:
    return bool(((body or {}).get("parameters") or {}).get("credentials"))


def test_every_deployment_runs_from_its_schedule_with_only_the_block(console: Console) -> None:
    """check-configuration, export-orders, reconcile-shipments, sync-stock and fulfilment-cycle, each run
    with its deployment's parameters (the block's name) as a schedule runs it, complete and do their work."""
    _set_up_and_stock(console)
    console.scheduled_run("check-configuration")  # it fails unless ready for an export
    exported = console.linnworks.create_orders(SCHEDULED_ORDERS, console.location_id())
    console.scheduled_run("export-orders")
    assert set(exported) <= {order.reference for order in console.warehouse.list_orders()}
    console.ship_everything()
    reconcile = console.scheduled_run("reconcile-shipments")
    _assert_processed_with_shipping_facts(console, reconcile)
    console.scheduled_run("sync-stock")
    for item in _simple_items(console):
        sku = str(item["SKU"])
        assert (
            console.linnworks.stock_level(sku, console.location_id()) == console.warehouse.stock(sku).on_hand
        )
    cycled = console.linnworks.create_orders(CYCLE_ORDERS, console.location_id())
    cycle = console.scheduled_run("fulfilment-cycle")
    assert set(cycled) <= {order.reference for order in console.warehouse.list_orders()}
    summary = {a["key"]: a["data"] for a in console.stack.artifacts(cycle)}
    assert "| export-orders | exported 2" in summary[f"{BLOCK_ACCOUNT}-fulfilment-cycle-summary"]


def _set_up_and_stock(console: Console) -> None:
    """setup (the Quick run above, or here when run alone) and sync-catalogue as scheduled; the warehouse
    then stocks every product the catalogue created."""
    if not console.runs_of("setup-fulfilment-centre"):
        console.scheduled_run("setup-fulfilment-centre")
    if not console.runs_of("sync-catalogue"):
        console.scheduled_run("sync-catalogue")
        products = {product.sku for product in console.warehouse.products()}
        assert products == {str(item["SKU"]) for item in _simple_items(console)}
        for sku in products:
            console.warehouse.set_on_hand(sku, ON_HAND)


def _simple_items(console: Console) -> list[dict[str, Any]]:
    return [item for item in console.linnworks.stock_items() if not item["IsCompositeParent"]]


def _assert_processed_with_shipping_facts(console: Console, reconcile_run_id: str) -> None:
    """Every exported order is processed in Linnworks, and the processed table says how it shipped."""
    with Ledger(console.ledger_url, account=BLOCK_ACCOUNT) as ledger:
        counts = ledger.counts_by_state()
    assert counts[State.PROCESSED] == ORDERS + SCHEDULED_ORDERS, counts
    artifacts = {a["key"]: a for a in console.stack.artifacts(reconcile_run_id)}
    rows = _table(artifacts[f"{BLOCK_ACCOUNT}-reconcile-shipments-processed"])
    assert len(rows) == ORDERS + SCHEDULED_ORDERS
    for row in rows:
        order = console.linnworks.order(row["Linnworks order id"])
        assert order["Processed"] is True
        assert order["ShippingInfo"]["TrackingNumber"] in row["tracking"].split(", ")
        assert row["carrier"] and int(row["parcels"]) >= 1 and row["shipped at (UTC)"], row
    _show_artifact(
        console, reconcile_run_id, f"{BLOCK_ACCOUNT}-reconcile-shipments-processed", "shipped at (UTC)"
    )


def _block_document_id(console: Console) -> str:
    document = console.stack.get(f"/block_types/slug/lw3pl-credentials/block_documents/name/{BLOCK}")
    block_id: str = document["id"]
    return block_id


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
