"""Orders edited in Linnworks after export: sent to the 3PL once, or quarantined with a note (issue 12)."""

from __future__ import annotations

from pathlib import Path

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import State
from sandbox.shipbob import VERSION
from sandbox.warehouse import WarehouseOrder
from tests.flows.conftest import FlowEnv, running_sftp_env
from tests.reliability.helpers import order_state

LINES = [{"sku": "MUG-LOGO", "quantity": 2}, {"sku": "CANDLE-VAN", "quantity": 2}]
NEW_ADDRESS = {"Address1": "1 New Street", "Town": "Leeds", "PostCode": "LS1 1AA"}


def _exported(env: FlowEnv) -> str:
    [reference] = env.create_orders(1, lines=LINES)
    assert export_orders()["exported"] == 1
    return reference


def _notes(env: FlowEnv, reference: str) -> list[str]:
    return [str(note["Note"]) for note in env.linnworks.order(reference)["Notes"]]


def _hash(env: FlowEnv, reference: str) -> str:
    record = env.runtime.ledger.get(reference)
    assert record is not None
    return record.payload_hash


def _calls(env: FlowEnv, operation: str) -> int:
    return sum(
        1
        for r in env.shipbob.requests
        if r.path.startswith(f"/{VERSION}/shipment/") and r.path.endswith(operation)
    )


def _warehouse_order(env: FlowEnv, reference: str) -> WarehouseOrder:
    order = env.warehouse.find_by_reference(reference)
    assert order is not None
    return order


def test_address_edited_before_picking_reaches_shipbob_once(flow_env: FlowEnv) -> None:
    """Sent with updateAddress, noted on the order; a rerun sends nothing and notes nothing more."""
    reference = _exported(flow_env)
    flow_env.linnworks.edit_order(reference, address=NEW_ADDRESS)

    reconcile_shipments()

    recipient = _warehouse_order(flow_env, reference).metadata["recipient"]
    assert (recipient["address"]["address1"], recipient["address"]["city"]) == ("1 New Street", "Leeds")
    assert _notes(flow_env, reference).count("lw3pl: address change sent to the warehouse") == 1
    assert order_state(flow_env, reference) is State.EXPORTED
    assert flow_env.runtime.ledger.events_seen([f"lw3pl:change:{reference}:{_hash(flow_env, reference)}"])
    notes_before = _notes(flow_env, reference)
    reconcile_shipments()
    assert _calls(flow_env, ":updateAddress") == 1
    assert _notes(flow_env, reference) == notes_before


def test_address_edited_after_picking_is_too_late_quarantined_and_noted(flow_env: FlowEnv) -> None:
    """ShipBob refuses once picked: the order is quarantined, its note says the change was not applied."""
    reference = _exported(flow_env)
    flow_env.warehouse.pick(reference)
    flow_env.linnworks.edit_order(reference, address=NEW_ADDRESS)

    report = reconcile_shipments()

    assert report["changes"] == 1
    assert order_state(flow_env, reference) is State.QUARANTINED
    assert _warehouse_order(flow_env, reference).address["address1"] != "1 New Street"
    [note] = [n for n in _notes(flow_env, reference) if "change not applied (too late)" in n]
    assert "picked" in note
    reconcile_shipments()
    assert _calls(flow_env, ":updateAddress") == 1
    assert [n for n in _notes(flow_env, reference) if "change not applied" in n] == [note]


def test_quantity_edit_reaches_shipbob_and_the_order_ships_the_new_quantity(flow_env: FlowEnv) -> None:
    """updateLineItems with the complete list: the warehouse then ships 5 mugs, and the order is processed."""
    reference = _exported(flow_env)
    flow_env.linnworks.edit_order(reference, quantities={"MUG-LOGO": 5})

    reconcile_shipments()

    held = {line.sku: line.quantity for line in _warehouse_order(flow_env, reference).lines}
    assert held == {"MUG-LOGO": 5, "CANDLE-VAN": 2}
    assert "lw3pl: lines change sent to the warehouse" in _notes(flow_env, reference)
    flow_env.advance(2)
    assert reconcile_shipments()["processed"] == 1
    shipped = {line.sku: line.quantity for line in _warehouse_order(flow_env, reference).lines}
    assert shipped == held
    assert _calls(flow_env, ":updateLineItems") == 1


def test_unedited_orders_cost_no_change_calls(flow_env: FlowEnv) -> None:
    """An order as it was sent: no shipment change call, no note, no changes row."""
    reference = _exported(flow_env)
    assert reconcile_shipments()["changes"] == 0
    assert _calls(flow_env, ":updateAddress") + _calls(flow_env, ":updateLineItems") == 0
    assert not [n for n in _notes(flow_env, reference) if "change" in n]


# --- the SFTP warehouse: no change file in format v1, so every change is unsupported ---------------------


def test_sftp_address_edit_is_unsupported_quarantined_and_noted_once(tmp_path: Path) -> None:
    """The CSV warehouse takes no changes: quarantined, the order's note says so; a rerun adds nothing."""
    with running_sftp_env(tmp_path) as (linnworks, sftp, runtime, location):
        [reference] = linnworks.create_orders(1, location, lines=LINES)
        assert export_orders()["exported"] == 1
        sftp.process_once()  # the clerk takes the order file
        linnworks.edit_order(reference, address=NEW_ADDRESS)

        assert reconcile_shipments()["changes"] == 1
        reconcile_shipments()

        record = runtime.ledger.get(reference)
        assert record is not None and record.state is State.QUARANTINED
        notes = [str(n["Note"]) for n in linnworks.order(reference)["Notes"]]
        assert len([n for n in notes if "change not applied (unsupported)" in n]) == 1
        held = sftp.warehouse.find_by_reference(reference)
        assert held is not None and "1 New Street" not in held.address.values()
