"""``lw3pl demo``: the whole fulfilment cycle against the built-in sandboxes, no accounts needed.

It starts the Linnworks and ShipBob sandboxes on loopback (the warehouse behind ShipBob runs on a clock the
demo moves one hour per cycle), runs the setup flow, tells the warehouse about the catalogue, has the
warehouse receive stock, lets orders arrive at the fulfilment centre, and runs fulfilment cycles until every
order shipped. It ends with a summary table and checks what lw3pl promises: every order exported once, the
shipped ones processed with their tracking numbers, stock equal to the warehouse's, two address changes after
export (one in time, one after the warehouse picked the order) answered, and a rerun of every flow changing
nothing. Prefect runs embedded; the ledger is SQLite under ``.lw3pl/demo/``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from prefect.settings import (
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_LOGGING_LEVEL,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    temporary_settings,
)
from pydantic import SecretStr

from lw3pl.core.settings import Settings

if TYPE_CHECKING:
    from sandbox.warehouse import ManualClock

__all__ = ["DemoCheck", "demo_sandboxes", "run_demo"]

FIRST_WAVE = 16
SECOND_WAVE = 8
MAX_CYCLES = 10


@dataclass
class DemoCheck:
    """One promise checked at the end of the demo."""

    name: str
    passed: bool
    detail: str


@dataclass
class _Demo:
    linnworks: Any
    shipbob: Any
    clock: ManualClock
    settings: Settings
    location_id: str = ""
    to_ship: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    changed_in_time: str = ""
    changed_too_late: str = ""  # picked before the change arrived: ships to the old address, quarantined


def run_demo(out: TextIO | None = None, *, seed: int = 0) -> int:
    """Run the demo; returns the exit code (0 when every check passed)."""
    from tasks.context import build_runtime, registered_runtime

    out = out or sys.stdout
    with demo_sandboxes(seed) as demo, _quiet_prefect():
        runtime = build_runtime(demo.settings)
        try:
            with registered_runtime(runtime):
                checks = _run(demo, out)
        finally:
            runtime.close()
    for check in checks:
        print(f"  [{'ok' if check.passed else 'FAILED'}] {check.name}: {check.detail}", file=out)
    return 0 if all(check.passed for check in checks) else 1


@contextmanager
def demo_sandboxes(seed: int) -> Iterator[_Demo]:
    """The demo's sandboxes (Linnworks, ShipBob and its warehouse) and the settings pointing at them."""
    from sandbox.linnworks import LinnworksSandbox
    from sandbox.shipbob.server import ShipBobSandbox
    from sandbox.warehouse import ManualClock, Warehouse, WarehouseConfig

    clock = ManualClock()
    config = WarehouseConfig(
        ship_delay=timedelta(hours=1),
        hold_rate=0.0,
        backorder_rate=0.0,
        partial_rate=0.15,
        partial_gap=timedelta(hours=2),
        multi_parcel_rate=0.25,
    )
    warehouse = Warehouse(seed=seed, clock=clock, config=config)
    with (
        LinnworksSandbox(seed=seed) as linnworks,
        ShipBobSandbox(warehouse=warehouse, seed=seed, auto_advance=False) as shipbob,
    ):
        data_dir = Settings().lw3pl_data_dir / "demo"
        shutil.rmtree(data_dir, ignore_errors=True)
        yield _Demo(
            linnworks, shipbob, clock, _settings(linnworks, shipbob, f"sqlite:///{data_dir / 'ledger.db'}")
        )


def _settings(linnworks: Any, shipbob: Any, ledger_url: str) -> Settings:
    return Settings(
        linnworks_auth_url=linnworks.auth_url,
        linnworks_application_id=linnworks.application_id,
        linnworks_application_secret=SecretStr(linnworks.application_secret),
        linnworks_installation_token=SecretStr(linnworks.installation_token),
        threepl_adapter="shipbob",
        shipbob_api_url=shipbob.url,
        shipbob_api_token=SecretStr(shipbob.token),
        shipbob_channel_id=shipbob.channel_id,
        ledger_url=ledger_url,
        shipping_service_map={"*": "Standard"},
        lw3pl_account="demo",
    )


@contextmanager
def _quiet_prefect() -> Iterator[None]:
    """Embedded Prefect without flow heartbeats (a second per flow run), telemetry or INFO chatter."""
    quiet = {
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
        PREFECT_LOGGING_LEVEL: "WARNING",
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
    }
    with temporary_settings(quiet):
        yield


def _run(demo: _Demo, out: TextIO) -> list[DemoCheck]:
    from flows.catalogue import sync_catalogue
    from flows.cycle import fulfilment_cycle
    from flows.setup import setup_fulfilment_centre

    say = _printer(out)
    say(f"Linnworks sandbox {demo.linnworks.auth_url}, ShipBob sandbox {demo.shipbob.url}")
    say("Starting Prefect (embedded) and setting up the fulfilment centre ...")
    setup_fulfilment_centre()
    demo.location_id = _location_id(demo)
    say(f"Fulfilment centre '{demo.settings.fulfilment_centre_name}' ready ({demo.location_id}).")
    catalogue = sync_catalogue()
    _receive_stock(demo)
    items = catalogue.get("catalogue", 0)
    say(f"Catalogue sent to the warehouse ({items} items); the warehouse received stock.")
    _new_orders(demo, FIRST_WAVE, skipped=True)
    say(f"{FIRST_WAVE} paid orders arrived at the fulfilment centre (plus one unpaid and one parked).\n")
    rows = _cycles(demo, fulfilment_cycle, say)
    say("\n" + _table(rows) + "\n")
    return _checks(demo)


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    return say


def _location_id(demo: _Demo) -> str:
    name = demo.settings.fulfilment_centre_name
    location: str = next(
        loc["StockLocationId"]
        for loc in demo.linnworks.account.locations.values()
        if loc["LocationName"] == name
    )
    return location


def _receive_stock(demo: _Demo) -> None:
    for number, product in enumerate(demo.shipbob.warehouse.products()):
        demo.shipbob.warehouse.set_on_hand(product.sku, 60 + (number * 37) % 90)


def _new_orders(demo: _Demo, count: int, *, skipped: bool = False) -> None:
    demo.to_ship += demo.linnworks.create_orders(count, demo.location_id)
    if skipped:
        demo.skipped += demo.linnworks.create_orders(1, demo.location_id, paid=False)
        demo.skipped += demo.linnworks.create_orders(1, demo.location_id, parked=True)


def _cycles(
    demo: _Demo, cycle: Callable[[], dict[str, dict[str, int]]], say: Callable[[str], None]
) -> list[list[str]]:
    rows: list[list[str]] = []
    for number in range(1, MAX_CYCLES + 1):
        if number == 3:
            _new_orders(demo, SECOND_WAVE)
            say(f"{SECOND_WAVE} more orders arrived.")
        counts = cycle()
        row = _row(number, demo.clock.now, counts)
        rows.append(row)
        say(f"cycle {number}: " + ", ".join(f"{h} {v}" for h, v in zip(_HEADERS[2:], row[2:], strict=True)))
        if number == 1:
            _change_two_addresses(demo, say)
        demo.clock.now += timedelta(hours=1)
        demo.shipbob.warehouse.advance()
        if number >= 3 and _all_processed(demo):
            break
    return rows


_HEADERS = ["cycle", "warehouse time", "exported", "shipped", "processed", "stock changes", "quarantined"]


NEW_ADDRESS = {"Address1": "2 Changed Road", "Town": "Leeds", "PostCode": "LS1 4AP"}


def _change_two_addresses(demo: _Demo, say: Callable[[str], None]) -> None:
    """Two customers ring to change their address after export: the warehouse has already picked one."""
    from flows.reconcile import reconcile_shipments

    demo.changed_in_time, demo.changed_too_late = demo.to_ship[0], demo.to_ship[1]
    demo.shipbob.warehouse.pick(demo.changed_too_late)
    for reference in (demo.changed_in_time, demo.changed_too_late):
        demo.linnworks.edit_order(reference, address=NEW_ADDRESS)
    changes = reconcile_shipments()["changes"]
    say(f"Two customers changed their address after export; reconcile carried {changes} change(s):")
    say(f"  {_change_outcome(demo, demo.changed_in_time)}")
    say(f"  {_change_outcome(demo, demo.changed_too_late)}")


def _change_outcome(demo: _Demo, reference: str) -> str:
    order = demo.linnworks.order(reference)
    notes = [str(note["Note"]) for note in order["Notes"] if "change" in str(note["Note"])]
    return f"order {order['NumOrderId']}: {notes[-1] if notes else 'no note'}"


def _row(number: int, now: datetime, counts: dict[str, dict[str, int]]) -> list[str]:
    export, reconcile, stock = counts["export-orders"], counts["reconcile-shipments"], counts["sync-stock"]
    quarantined = sum(step.get("quarantined", 0) for step in counts.values())
    values = [
        export["exported"],
        reconcile["shipped"],
        reconcile["processed"],
        stock["stock_changes"],
        quarantined,
    ]
    return [str(number), now.strftime("%H:%M"), *map(str, values)]


def _table(rows: list[list[str]]) -> str:
    table = [_HEADERS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADERS))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _all_processed(demo: _Demo) -> bool:
    return all(demo.linnworks.order(reference)["Processed"] for reference in _processable(demo))


def _processable(demo: _Demo) -> list[str]:
    """The orders lw3pl processes: all but the one whose change came too late (a person settles it)."""
    return [reference for reference in demo.to_ship if reference != demo.changed_too_late]


def _checks(demo: _Demo) -> list[DemoCheck]:
    return [
        _exported_once(demo),
        _processed_with_tracking(demo),
        _stock_matches(demo),
        _address_changes_answered(demo),
        _rerun_changes_nothing(demo),
    ]


def _exported_once(demo: _Demo) -> DemoCheck:
    orders = demo.shipbob.warehouse.list_orders()
    references = [order.reference for order in orders]
    once = sorted(references) == sorted(demo.to_ship)
    detail = f"{len(set(references))} of {len(demo.to_ship)} paid orders are at the warehouse"
    none_skipped = not set(demo.skipped) & set(references)
    return DemoCheck("every paid order exported exactly once", once and none_skipped, detail)


def _processed_with_tracking(demo: _Demo) -> DemoCheck:
    warehouse = demo.shipbob.warehouse
    good = 0
    expected = _processable(demo)
    for reference in expected:
        order = demo.linnworks.order(reference)
        shipped = warehouse.find_by_reference(reference)
        tracking = order["ShippingInfo"]["TrackingNumber"]
        numbers = [p.tracking_number for s in shipped.shipments for p in s.packages] if shipped else []
        good += bool(order["Processed"] and tracking and tracking in numbers)
    detail = f"{good} of {len(expected)} processed in Linnworks with the warehouse's tracking number"
    return DemoCheck("shipped orders processed with tracking", good == len(expected), detail)


def _address_changes_answered(demo: _Demo) -> DemoCheck:
    """The change in time reached the warehouse; the late one did not, and its order says so."""
    warehouse = demo.shipbob.warehouse
    in_time, too_late = (
        warehouse.find_by_reference(r) for r in (demo.changed_in_time, demo.changed_too_late)
    )
    sent = in_time is not None and in_time.address.get("address1") == NEW_ADDRESS["Address1"]
    kept = too_late is not None and too_late.address.get("address1") != NEW_ADDRESS["Address1"]
    noted = "too late" in _change_outcome(demo, demo.changed_too_late)
    detail = (
        "one change arrived in time (sent to the warehouse), one did not "
        "(the warehouse had picked it: quarantined, noted on the order)"
    )
    return DemoCheck("address changes after export answered", sent and kept and noted, detail)


def _stock_matches(demo: _Demo) -> DemoCheck:
    products = demo.shipbob.warehouse.products()
    equal = sum(
        demo.linnworks.stock_level(p.sku, demo.location_id) == demo.shipbob.warehouse.stock(p.sku).on_hand
        for p in products
    )
    detail = f"{equal} of {len(products)} SKUs at the fulfilment centre equal the warehouse's usable on-hand"
    return DemoCheck("stock equals the warehouse's", equal == len(products), detail)


def _rerun_changes_nothing(demo: _Demo) -> DemoCheck:
    from flows.registry import FLOWS, load_flow

    before = _write_counts(demo)
    # The check only reads, and reports its rows as counts: it is not a flow that could change anything.
    skipped = ("fulfilment-cycle", "check-configuration")
    results = {name: load_flow(name)() for name in FLOWS if name not in skipped}
    changed = {name: counts for name, counts in results.items() if any(_nonzero(counts))}
    after = _write_counts(demo)
    detail = (
        "no counts, no new writes to Linnworks or the warehouse"
        if not changed and before == after
        else (f"changed: {changed}, writes before {before} after {after}")
    )
    return DemoCheck("running every flow again changes nothing", not changed and before == after, detail)


def _nonzero(counts: dict[str, int]) -> list[int]:
    return [count for name, count in counts.items() if count and name not in ("claimed",)]


def _write_counts(demo: _Demo) -> tuple[int, int]:
    reads = ("Get", "Inventory/GetStockLocations", "Auth/")
    calls = demo.linnworks.call_counts()
    linnworks_writes = sum(n for method, n in calls.items() if not any(part in method for part in reads))
    warehouse_orders = len(demo.shipbob.warehouse.list_orders())
    return linnworks_writes, warehouse_orders
