"""The export flow: which orders go to the 3PL, once each, tagged; bad data quarantined; reruns idle."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from clients.shipbob import ApiVersionError
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import NewOrder, State
from sandbox.linnworks import ZERO_GUID
from tasks.context import make_adapter
from tasks.mapping import to_fulfilment_order
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.helpers import (
    edit_order,
    linnworks_writes,
    run_artifacts,
    shipbob_writes,
    with_settings,
)


def _identifiers(env: FlowEnv, reference: str) -> set[str]:
    order = env.linnworks.order(reference)
    tags = {ident.get("Tag") or ident.get("Name") for ident in order["GeneralInfo"].get("Identifiers") or []}
    return {str(tag) for tag in tags} | set(order["_Tags"])


def _invariants(env: FlowEnv) -> list[str]:
    return check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    )


def test_only_paid_unparked_unlocked_untagged_orders_at_the_centre_are_exported_once(
    flow_env: FlowEnv,
) -> None:
    """Only eligible orders reach the 3PL, each once and tagged, and a rerun writes nothing anywhere."""
    tag = flow_env.settings.export_identifier_tag
    good = flow_env.create_orders(3)
    skipped = [
        *flow_env.create_orders(1, paid=False),
        *flow_env.create_orders(1, parked=True),
        *flow_env.create_orders(1, locked=True),
        *flow_env.create_orders(1, identifiers=[tag]),
        *flow_env.linnworks.create_orders(1, ZERO_GUID),
    ]
    assert export_orders()["exported"] == 3
    by_reference = {order.reference: order for order in flow_env.warehouse.list_orders()}
    assert sorted(by_reference) == sorted(good)
    for reference in good:
        assert tag in _identifiers(flow_env, reference)
        record = flow_env.runtime.ledger.get(reference)
        assert record is not None and record.state is State.EXPORTED
        assert record.remote_id == str(by_reference[reference].order_id)
    assert flow_env.runtime.ledger.get_many(skipped) == {}
    lw_before, sb_before = linnworks_writes(flow_env.linnworks), shipbob_writes(flow_env.shipbob)
    assert export_orders()["exported"] == 0
    assert linnworks_writes(flow_env.linnworks) == lw_before
    assert shipbob_writes(flow_env.shipbob) == sb_before
    assert len(flow_env.warehouse.list_orders()) == 3
    assert _invariants(flow_env) == []


def _add_unknown_sku(env: FlowEnv) -> str:
    env.linnworks.add_stock_item("NOT-AT-3PL", levels={env.location_id: 10})
    return env.create_orders(1, lines=[{"sku": "NOT-AT-3PL", "quantity": 1}])[0]


def _set_address(env: FlowEnv, reference: str, **fields: Any) -> None:
    edit_order(env.linnworks, reference, lambda doc: doc["CustomerInfo"]["Address"].update(fields))


def test_bad_orders_are_quarantined_with_a_reason_in_the_artifact_and_the_rest_go_on(
    flow_env: FlowEnv,
) -> None:
    """Unknown SKU, unmapped service, refused/incomplete address, unknown country: one quarantine each."""
    good = flow_env.create_orders(2, postal_service="Standard")
    bad = {
        "sku": _add_unknown_sku(flow_env),
        "service": flow_env.create_orders(1, postal_service="DPD Next Day")[0],
        "refused_country": flow_env.create_orders(1, postal_service="Standard")[0],
        "no_address1": flow_env.create_orders(1, postal_service="Standard")[0],
        "unknown_country": flow_env.create_orders(1, postal_service="Standard")[0],
    }
    edit_order(
        flow_env.linnworks, bad["sku"], lambda doc: doc["ShippingInfo"].update(PostalServiceName="Standard")
    )
    _set_address(flow_env, bad["refused_country"], Country="XX")
    _set_address(flow_env, bad["no_address1"], Address1="  ")
    _set_address(flow_env, bad["unknown_country"], Country="Atlantis")
    service_map = {"Standard": "Standard", "Royal Mail 1st Class": "Standard"}
    with with_settings(flow_env.runtime, shipping_service_map=service_map):
        state = export_orders(return_state=True)
        counts = state.result()
        assert counts["exported"] == 2 and counts["quarantined"] == 5
        reasons = {key: flow_env.runtime.ledger.get(ref) for key, ref in bad.items()}
        assert all(record is not None and record.state is State.QUARANTINED for record in reasons.values())
        expected = {
            "sku": "NOT-AT-3PL",
            "service": "'DPD Next Day' is not mapped",
            "refused_country": "country",
            "no_address1": "Address1",
            "unknown_country": "'Atlantis'",
        }
        for key, fragment in expected.items():
            record = reasons[key]
            assert record is not None and fragment in (record.quarantine_reason or ""), (key, record)
        table = run_artifacts(state)["default-export-orders-quarantined"]
        assert {row["Linnworks order id or SKU"] for row in table} == set(bad.values())
        assert all(row["reason"] and "lw3pl ledger release" in row["what to do"] for row in table)
        assert sorted(o.reference for o in flow_env.warehouse.list_orders()) == sorted(good)
        sb_before = shipbob_writes(flow_env.shipbob)
        assert export_orders()["quarantined"] == 0
        assert shipbob_writes(flow_env.shipbob) == sb_before
    assert _invariants(flow_env) == []


def test_composite_items_go_as_components_or_as_the_parent_by_setting(flow_env: FlowEnv) -> None:
    """COMPOSITE_ITEMS=components sends the bundle's parts; =parent sends the bundle SKU itself."""
    [as_parts] = flow_env.create_orders(1, lines=[{"sku": "BUNDLE-GIFT", "quantity": 2}])
    assert export_orders()["exported"] == 1
    [as_parent] = flow_env.create_orders(1, lines=[{"sku": "BUNDLE-GIFT", "quantity": 2}])
    with with_settings(flow_env.runtime, composite_items="parent"):
        assert export_orders()["exported"] == 1
    lines = {
        order.reference: sorted((line.sku, line.quantity) for line in order.lines)
        for order in flow_env.warehouse.list_orders()
    }
    assert lines[as_parts] == [("CANDLE-VAN", 2), ("MUG-LOGO", 2), ("SOAP-LAV", 4)]
    assert lines[as_parent] == [("BUNDLE-GIFT", 2)]


def test_remote_id_property_is_written_when_enabled_and_keeps_other_properties(flow_env: FlowEnv) -> None:
    """WRITE_REMOTE_ID_PROPERTY stores the 3PL id as an extended property beside the order's own ones."""
    [reference] = flow_env.create_orders(1)
    own = {"Name": "gift wrap", "Value": "yes", "Type": "Info"}
    edit_order(flow_env.linnworks, reference, lambda doc: doc["ExtendedProperties"].append(dict(own)))
    with with_settings(flow_env.runtime, write_remote_id_property=True):
        assert export_orders()["exported"] == 1
    [remote] = flow_env.warehouse.list_orders()
    properties = flow_env.linnworks.order(reference)["ExtendedProperties"]
    names = {(p["Name"], p["Value"]) for p in properties}
    assert ("3PL order id", str(remote.order_id)) in names
    assert ("gift wrap", "yes") in names


def test_an_unsure_create_is_looked_up_before_the_order_is_judged_unmappable(flow_env: FlowEnv) -> None:
    """An order left ``submitting`` whose service was unmapped since is found at the 3PL, not quarantined."""
    [reference] = flow_env.create_orders(1, postal_service="Standard")
    runtime = flow_env.runtime
    [details] = runtime.linnworks.get_orders_by_id([UUID(reference)])
    runtime.threepl.submit_order(to_fulfilment_order(details, runtime.settings))  # the reply was lost
    runtime.ledger.register(
        [NewOrder(reference=reference, num_order_id=str(details.num_order_id), payload_hash="")]
    )
    runtime.ledger.transition(reference, State.SUBMITTING, expected_from=[State.PENDING], owner=None)
    edit_order(
        flow_env.linnworks,
        reference,
        lambda doc: doc["ShippingInfo"].update(PostalServiceName="DPD Next Day"),
    )
    with with_settings(runtime, shipping_service_map={"Standard": "Standard"}):
        assert export_orders()["exported"] == 1
    record = runtime.ledger.get(reference)
    assert record is not None and record.state is State.EXPORTED and record.remote_id
    assert len(flow_env.warehouse.list_orders()) == 1


class _CancelAfterCreate:
    """A 3PL adapter wrapper that has a person cancel one order in Linnworks right after its create."""

    def __init__(self, env: FlowEnv, reference: str) -> None:
        self._env, self._reference, self._inner = env, reference, env.runtime.threepl

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def submit_order(self, order: Any) -> Any:
        result = self._inner.submit_order(order)
        if order.reference == self._reference:
            with self._env.linnworks._lock:
                self._env.linnworks.account.cancel(self._reference, self._env.location_id, "changed mind")
        return result


def test_an_order_cancelled_mid_batch_does_not_fail_tagging_for_the_others(flow_env: FlowEnv) -> None:
    """An order cancelled in Linnworks between its 3PL create and the tag call leaves the rest tagged."""
    cancelled, *others = flow_env.create_orders(3)
    with with_settings(flow_env.runtime, threepl=_CancelAfterCreate(flow_env, cancelled)):
        state = export_orders(return_state=True)
    assert state.is_completed()
    export_orders()
    tag = flow_env.settings.export_identifier_tag
    assert all(tag in _identifiers(flow_env, ref) for ref in others)
    records = flow_env.runtime.ledger.get_many([cancelled, *others])
    assert [records[ref].state for ref in others] == [State.EXPORTED] * 2
    assert records[cancelled].state is State.SUBMITTED  # at the 3PL; the reconcile carries the cancellation
    reconcile_shipments()
    assert flow_env.runtime.ledger.get(cancelled).state is State.CANCELLED  # type: ignore[union-attr]
    assert _invariants(flow_env) == []


def test_a_version_shipbob_does_not_serve_stops_the_export_and_quarantines_nothing(flow_env: FlowEnv) -> None:
    """SHIPBOB_API_VERSION that ShipBob 404s: the run stops with the setting named; no order is touched."""
    references = flow_env.create_orders(2)
    wrong = make_adapter(flow_env.settings.model_copy(update={"shipbob_api_version": "2019-01"}))
    try:
        with with_settings(flow_env.runtime, threepl=wrong), pytest.raises(ApiVersionError) as caught:
            export_orders()
    finally:
        wrong.close()
    assert "SHIPBOB_API_VERSION" in str(caught.value) and "/versioning" in str(caught.value)
    records = [flow_env.runtime.ledger.get(reference) for reference in references]
    assert all(record is None or record.state is not State.QUARANTINED for record in records)
    assert flow_env.shipbob.count(path="/2019-01/order") == 1, "stopped at the first refusal, no retry"
    assert flow_env.warehouse.list_orders() == []
