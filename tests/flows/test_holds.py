"""3PL -> Linnworks: holds shown as a note and a marker until released; short shipments held or adjusted
(issue 12). On both warehouses: ShipBob over HTTP and the CSV warehouse over SFTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import State
from sandbox.linnworks import LinnworksSandbox
from sandbox.sftp import SftpSandbox
from sandbox.warehouse import WarehouseConfig
from tasks.context import Runtime
from tests.flows.conftest import FlowEnv, running_flow_env, running_sftp_env

LINES = [{"sku": "MUG-LOGO", "quantity": 2}, {"sku": "CANDLE-VAN", "quantity": 2}]
MARKER = 3  # HOLD_MARKER's default
SHORT = {"MUG-LOGO": 1, "CANDLE-VAN": 2}


def _notes(linnworks: LinnworksSandbox, reference: str) -> list[str]:
    return [str(note["Note"]) for note in linnworks.order(reference)["Notes"]]


def _marker(linnworks: LinnworksSandbox, reference: str) -> int:
    return int(linnworks.order(reference)["GeneralInfo"]["Marker"])


def _quantities(linnworks: LinnworksSandbox, reference: str) -> dict[str, int]:
    return {str(item["SKU"]): int(item["Quantity"]) for item in linnworks.order(reference)["Items"]}


def _state(runtime: Runtime, reference: str) -> State:
    record = runtime.ledger.get(reference)
    assert record is not None
    return record.state


@pytest.fixture
def shipbob_env(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FlowEnv]:
    """ShipBob, SQLite ledger; ``@pytest.mark.parametrize("shipbob_env", [{...}], indirect=True)`` sets
    settings."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    config = WarehouseConfig.deterministic(ship_delay=timedelta(hours=1))
    with running_flow_env(f"sqlite:///{tmp_path / 'ledger.db'}", config, seed=7, **overrides) as env:
        yield env


def _exported(env: FlowEnv) -> str:
    [reference] = env.create_orders(1, lines=LINES)
    assert export_orders()["exported"] == 1
    return reference


# --- ShipBob --------------------------------------------------------------------------------------------


def test_shipbob_hold_is_a_note_and_marker_once_and_clears_on_release(shipbob_env: FlowEnv) -> None:
    """OnHold with its status detail -> note naming it + marker; a rerun adds nothing; release clears the
    marker (a note says so) and the order then ships and is processed."""
    env = shipbob_env
    reference = _exported(env)
    env.warehouse.hold(reference, "AddressValidationFailed")

    assert reconcile_shipments()["changes"] == 1
    [held] = [n for n in _notes(env.linnworks, reference) if "holds this order" in n]
    assert "AddressValidationFailed" in held
    assert _marker(env.linnworks, reference) == MARKER
    notes, writes = _notes(env.linnworks, reference), env.linnworks.call_counts()
    assert reconcile_shipments()["changes"] == 0
    assert _notes(env.linnworks, reference) == notes
    assert env.linnworks.call_counts().get("Orders/SetOrderGeneralInfo") == writes.get(
        "Orders/SetOrderGeneralInfo"
    )

    env.clock.advance(timedelta(minutes=20))  # someone at the warehouse fixes the address
    env.warehouse.release(reference)
    assert reconcile_shipments()["changes"] == 1
    assert _marker(env.linnworks, reference) == 0
    assert any("released its hold" in n for n in _notes(env.linnworks, reference))
    env.advance(2)
    assert reconcile_shipments()["processed"] == 1


def test_shipbob_held_order_that_ships_before_the_release_is_seen_loses_its_marker(
    shipbob_env: FlowEnv,
) -> None:
    """Released and shipped between two polls (no release event): the shipment clears the hold."""
    env = shipbob_env
    reference = _exported(env)
    env.warehouse.hold(reference, "AddressValidationFailed")
    reconcile_shipments()
    assert _marker(env.linnworks, reference) == MARKER
    env.clock.advance(timedelta(minutes=20))
    env.warehouse.release(reference)
    env.advance(2)

    assert reconcile_shipments()["processed"] == 1
    assert _marker(env.linnworks, reference) == 0
    assert any("released its hold" in n for n in _notes(env.linnworks, reference))


@pytest.mark.parametrize("shipbob_env", [{"short_shipment_policy": "hold"}], indirect=True)
def test_shipbob_short_shipment_under_hold_is_quarantined_noted_and_not_processed(
    shipbob_env: FlowEnv,
) -> None:
    """One mug of two shipped, the rest cancelled: tracking written, nothing processed, note + marker."""
    env = shipbob_env
    reference = _exported(env)
    env.warehouse.short_ship(reference, SHORT)

    report = reconcile_shipments()

    assert (report["processed"], report["changes"]) == (0, 1)
    assert _state(env.runtime, reference) is State.QUARANTINED
    assert not env.linnworks.order(reference)["Processed"]
    [note] = [n for n in _notes(env.linnworks, reference) if "short shipment" in n]
    assert "MUG-LOGO 1 of 2 shipped" in note
    assert _marker(env.linnworks, reference) == MARKER
    reconcile_shipments()
    assert [n for n in _notes(env.linnworks, reference) if "short shipment" in n] == [note]


@pytest.mark.parametrize("shipbob_env", [{"short_shipment_policy": "adjust"}], indirect=True)
def test_shipbob_short_shipment_under_adjust_processes_the_lines_that_shipped(shipbob_env: FlowEnv) -> None:
    """UpdateOrderItem lowers the mug line to 1, a note lists what was not shipped, the order is processed
    with lines equal to what shipped; a rerun sends no second update."""
    env = shipbob_env
    reference = _exported(env)
    env.warehouse.short_ship(reference, SHORT)

    assert reconcile_shipments()["processed"] == 1

    assert env.linnworks.order(reference)["Processed"]
    assert _quantities(env.linnworks, reference) == SHORT
    assert any("lines lowered" in n and "MUG-LOGO 1 of 2" in n for n in _notes(env.linnworks, reference))
    reconcile_shipments()
    assert env.linnworks.call_counts()["Orders/UpdateOrderItem"] == 1


# --- SFTP (the CSV warehouse: on_hold / released rows in ack files, short shipments in shp files) --------


def _sftp_exported(linnworks: LinnworksSandbox, sftp: SftpSandbox, location: str, count: int) -> list[str]:
    references = linnworks.create_orders(count, location, lines=LINES)
    assert export_orders()["exported"] == count
    sftp.process_once()  # the clerk takes the order file
    return references


def test_sftp_hold_and_release_and_a_short_shipment_held(tmp_path: Path) -> None:
    """An on_hold row -> note + marker (once); a released row clears it; a short final shipment is held."""
    with running_sftp_env(tmp_path) as (linnworks, sftp, runtime, location):
        held, short = _sftp_exported(linnworks, sftp, location, 2)
        sftp.warehouse.hold(held, "damaged address label")
        sftp.warehouse.short_ship(short, SHORT)
        sftp.process_once()

        assert reconcile_shipments()["changes"] == 2
        assert _marker(linnworks, held) == MARKER
        assert any("damaged address label" in n for n in _notes(linnworks, held))
        assert _state(runtime, short) is State.QUARANTINED
        assert not linnworks.order(short)["Processed"]
        notes = _notes(linnworks, held)
        assert reconcile_shipments()["changes"] == 0
        assert _notes(linnworks, held) == notes

        sftp.warehouse.release(held)
        sftp.process_once()
        reconcile_shipments()
        assert _marker(linnworks, held) == 0
        assert _state(runtime, held) is State.EXPORTED


def test_sftp_short_shipment_under_adjust_is_processed_with_the_shipped_lines(tmp_path: Path) -> None:
    with running_sftp_env(tmp_path, short_shipment_policy="adjust") as (linnworks, sftp, runtime, location):
        [reference] = _sftp_exported(linnworks, sftp, location, 1)
        sftp.warehouse.short_ship(reference, SHORT)
        sftp.process_once()

        assert reconcile_shipments()["processed"] == 1
        assert _quantities(linnworks, reference) == SHORT
        assert _state(runtime, reference) is State.PROCESSED


@pytest.mark.parametrize(
    ("shipbob_env", "written_back"),
    [({"write_back_corrected_address": True}, True), ({}, False)],
    indirect=["shipbob_env"],
)
def test_shipbob_address_corrected_during_a_hold_is_written_back_only_when_allowed(
    shipbob_env: FlowEnv, written_back: bool
) -> None:
    """ShipBob fixes the postcode of an order held for its address and releases it: written back with
    SetOrderCustomerInfo when WRITE_BACK_CORRECTED_ADDRESS is on, else a note; neither is sent back."""
    env = shipbob_env
    reference = _exported(env)
    env.warehouse.hold(reference, "AddressValidationFailed")
    reconcile_shipments()
    held = env.warehouse.find_by_reference(reference)
    assert held is not None
    recipient = held.metadata["recipient"]
    fixed = {**recipient, "address": {**recipient["address"], "zip_code": "LS1 1AA"}}
    env.clock.advance(timedelta(minutes=20))
    env.warehouse.change_address(held.order_id, {**held.address, "zip_code": "LS1 1AA"}, fixed)
    env.warehouse.release(reference)

    reconcile_shipments()
    reconcile_shipments()

    postcode = env.linnworks.order(reference)["CustomerInfo"]["Address"]["PostCode"]
    assert (postcode == "LS1 1AA") is written_back
    [note] = [n for n in _notes(env.linnworks, reference) if "corrected" in n]
    assert ("written back" in note and "not written back" not in note) is written_back
    assert env.linnworks.call_counts().get("Orders/SetOrderCustomerInfo", 0) == int(written_back)
    assert not [r for r in env.shipbob.requests if r.path.endswith(":updateAddress")]
