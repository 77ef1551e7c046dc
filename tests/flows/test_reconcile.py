"""The reconcile flow: shipments -> tracking (read back) -> processing; cancellations; one effect each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from clients.threepl import EventPage, ThreePLAdapter
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import State
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.helpers import linnworks_writes, with_settings

ONE_EACH = [{"sku": "MUG-LOGO", "quantity": 2}, {"sku": "CANDLE-VAN", "quantity": 2}]


def _invariants(env: FlowEnv) -> list[str]:
    return check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    )


def _exported(env: FlowEnv, count: int, **options: Any) -> list[str]:
    references = env.create_orders(count, lines=ONE_EACH, **options)
    assert export_orders()["exported"] == count
    return references


def _notes(env: FlowEnv, reference: str) -> list[str]:
    return [str(note["Note"]) for note in env.linnworks.order(reference)["Notes"]]


def _state(env: FlowEnv, reference: str) -> State:
    record = env.runtime.ledger.get(reference)
    assert record is not None
    return record.state


def _calls_naming(env: FlowEnv, method: str, reference: str) -> int:
    return sum(reference in json.dumps(call["params"]) for call in env.linnworks.requests(method))


def test_multi_parcel_shipment_writes_the_first_tracking_number_and_notes_the_others(
    flow_env: FlowEnv,
) -> None:
    """Three parcels: the first tracking number goes in shipping info, the other two in a note; rerun idle."""
    [reference] = _exported(flow_env, 1)
    shipment = flow_env.warehouse.ship(reference, packages=3)
    numbers = [package.tracking_number for package in shipment.packages]
    assert reconcile_shipments()["processed"] == 1
    order = flow_env.linnworks.order(reference)
    assert order["Processed"] is True
    assert order["ShippingInfo"]["TrackingNumber"] == numbers[0]
    assert any(numbers[1] in note and numbers[2] in note for note in _notes(flow_env, reference))
    before = linnworks_writes(flow_env.linnworks)
    assert reconcile_shipments()["processed"] == 0
    assert linnworks_writes(flow_env.linnworks) == before
    assert _invariants(flow_env) == []


def test_partial_shipment_waits_with_a_note_until_the_order_is_complete(flow_env: FlowEnv) -> None:
    """A first part shipped adds a note and leaves the order open; the rest completes and processes it."""
    [reference] = _exported(flow_env, 1)
    first = flow_env.warehouse.ship(reference, partial=True)
    assert not first.is_final
    counts = reconcile_shipments()
    assert counts["processed"] == 0
    assert _state(flow_env, reference) is State.PARTIALLY_SHIPPED
    assert flow_env.linnworks.order(reference)["Processed"] is False
    assert any("partly shipped" in note for note in _notes(flow_env, reference))
    before = linnworks_writes(flow_env.linnworks)
    reconcile_shipments()
    assert linnworks_writes(flow_env.linnworks) == before
    flow_env.warehouse.ship(reference)
    assert reconcile_shipments()["processed"] == 1
    order = flow_env.linnworks.order(reference)
    assert order["ShippingInfo"]["TrackingNumber"] == first.packages[0].tracking_number
    assert _state(flow_env, reference) is State.PROCESSED
    assert _invariants(flow_env) == []


def test_tracking_read_back_that_differs_quarantines_and_never_processes(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linnworks stores a different tracking number than written: the order is quarantined, not processed."""
    reference, other = _exported(flow_env, 2)
    flow_env.warehouse.ship(reference)
    flow_env.warehouse.ship(other)
    account = flow_env.linnworks.account
    original = account.set_shipping_info

    def mangle(order_id: str | None, info: dict[str, Any] | None) -> dict[str, Any]:
        if order_id == reference and info and info.get("TrackingNumber"):
            info = {**info, "TrackingNumber": info["TrackingNumber"][:-2]}
        return original(order_id, info)

    monkeypatch.setattr(account, "set_shipping_info", mangle)
    counts = reconcile_shipments()
    assert counts["processed"] == 1 and counts["quarantined"] == 1
    record = flow_env.runtime.ledger.get(reference)
    assert record is not None and record.state is State.QUARANTINED
    assert "read-back differs" in (record.quarantine_reason or "")
    assert flow_env.linnworks.order(reference)["Processed"] is False
    assert _calls_naming(flow_env, "Orders/ProcessOrdersInBatch", reference) == 0
    assert _state(flow_env, other) is State.PROCESSED
    assert _invariants(flow_env) == []


def _cancel_in_linnworks(env: FlowEnv, reference: str) -> None:
    with env.linnworks._lock:
        env.linnworks.account.cancel(reference, env.location_id, "customer changed their mind")


def test_order_cancelled_in_linnworks_is_cancelled_at_the_3pl_or_quarantined_when_shipped(
    flow_env: FlowEnv,
) -> None:
    """Cancelled before shipping: cancelled at the 3PL; already shipped: quarantined as too late."""
    waiting, shipped = _exported(flow_env, 2)
    flow_env.warehouse.ship(shipped)
    _cancel_in_linnworks(flow_env, waiting)
    _cancel_in_linnworks(flow_env, shipped)
    counts = reconcile_shipments()
    assert counts["cancelled"] == 1
    assert _state(flow_env, waiting) is State.CANCELLED
    remote = flow_env.warehouse.find_by_reference(waiting)
    assert remote is not None and remote.status == "cancelled"
    record = flow_env.runtime.ledger.get(shipped)
    assert record is not None and record.state is State.QUARANTINED
    assert "already shipped" in (record.quarantine_reason or "")
    before = linnworks_writes(flow_env.linnworks), flow_env.shipbob.count(method="POST")
    reconcile_shipments()
    assert (linnworks_writes(flow_env.linnworks), flow_env.shipbob.count(method="POST")) == before
    assert _invariants(flow_env) == []


def test_cancellation_by_the_3pl_holds_with_a_note_or_cancels_by_policy(flow_env: FlowEnv) -> None:
    """The 3PL cancels: held with a note by default; cancelled with THREEPL_CANCEL_POLICY=cancel."""
    held, cancelled = _exported(flow_env, 2)
    flow_env.warehouse.cancel(held)
    reconcile_shipments()
    assert _state(flow_env, held) is State.ON_HOLD
    assert flow_env.linnworks.order(held)["Processed"] is False
    assert any("the 3PL cancelled" in note for note in _notes(flow_env, held))
    flow_env.warehouse.cancel(cancelled)
    with with_settings(flow_env.runtime, threepl_cancel_policy="cancel"):
        assert reconcile_shipments()["cancelled"] == 1
    assert _state(flow_env, cancelled) is State.CANCELLED
    assert flow_env.linnworks.order(cancelled)["_Cancelled"] is True
    assert _state(flow_env, held) is State.ON_HOLD
    assert _invariants(flow_env) == []


class _Replaying:
    """A 3PL adapter whose event polls deliver every event three times, newest first, shipments first."""

    def __init__(self, inner: ThreePLAdapter) -> None:
        self._inner = inner
        self.polls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def poll_events(self, checkpoint: str | None) -> EventPage:
        page = self._inner.poll_events(checkpoint)
        self.polls += 1
        events: Sequence[Any] = sorted(page.events, key=lambda e: e.occurred_at, reverse=True)
        if self.polls == 1:  # shipped before accepted: the acceptance only shows up in a later poll
            events = [e for e in events if e.kind.value != "accepted"]
        return page.model_copy(update={"events": [*events, *events, *events]})


def test_repeated_and_out_of_order_events_have_one_effect(flow_env: FlowEnv) -> None:
    """Each event delivered three times, shipments before acceptances, newest first: one effect each."""
    partial, whole = _exported(flow_env, 2)
    flow_env.warehouse.ship(partial, partial=True)
    flow_env.warehouse.ship(partial)
    flow_env.warehouse.ship(whole, packages=2)
    replaying = _Replaying(flow_env.runtime.threepl)
    with with_settings(flow_env.runtime, threepl=replaying):
        assert reconcile_shipments()["processed"] == 2
        reconcile_shipments()
    for reference in (partial, whole):
        assert _state(flow_env, reference) is State.PROCESSED
        assert _calls_naming(flow_env, "Orders/SetOrderShippingInfo", reference) == 1
        assert _calls_naming(flow_env, "Orders/ProcessOrdersInBatch", reference) == 1
        steps = [step.to_state for step in flow_env.runtime.ledger.history(reference)]
        assert steps.count(State.SHIPPED) == 1 and steps.count(State.PROCESSED) == 1
    assert _invariants(flow_env) == []
