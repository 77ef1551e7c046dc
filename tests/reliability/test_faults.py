"""RELIABILITY.md scenarios 2, 4b, 7, 9 and 10: lost replies, bad read-backs, rate-limit storms, malformed
partner data and repeated events, each against the sandboxes over HTTP, with C1-C4 checked afterwards."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from clients.linnworks import LinnworksClient
from clients.shipbob import ShipBobAdapter, ShipBobConfig
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import ShipmentSeen, State
from sandbox.shipbob import ORDERS_PATH
from tasks.context import registered_runtime
from tasks.events import EVENTS_CURSOR
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.helpers import calls_naming, edit_order, linnworks_writes, order_state, run_artifacts


def _invariants(env: FlowEnv) -> list[str]:
    return check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    )


def test_lost_create_reply_is_recorded_unknown_and_resolved_by_lookup(rel_env: FlowEnv) -> None:
    """Scenario 2: ShipBob takes the create, the reply is dropped; the order is looked up, not sent again."""
    [reference] = rel_env.create_orders(1)
    rel_env.shipbob.inject("accept_then_drop", method="POST", path=ORDERS_PATH)
    first = export_orders()
    record = rel_env.runtime.ledger.get(reference)
    assert record is not None
    assert len(rel_env.warehouse.list_orders()) == 1
    assert record.state is State.SUBMITTING and record.last_error  # unknown: left for the next run's lookup
    assert first["exported"] == 0
    export_orders()
    assert order_state(rel_env, reference) is State.EXPORTED
    details = [step.detail for step in rel_env.runtime.ledger.history(reference)]
    assert any("found at the 3PL" in detail or "duplicate" in detail for detail in details), details
    assert len(rel_env.warehouse.list_orders()) == 1
    assert _invariants(rel_env) == []


def test_tracking_read_back_that_differs_is_quarantined_with_an_alert(
    rel_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scenario 4b: the write succeeds but Linnworks shows another number: quarantined, alerted."""
    [reference] = rel_env.create_orders(1)
    export_orders()
    rel_env.advance(hours=2)
    account = rel_env.linnworks.account
    original = account.set_shipping_info
    monkeypatch.setattr(
        account,
        "set_shipping_info",
        lambda order_id, info: original(order_id, {**(info or {}), "TrackingNumber": "X"}),
    )
    alerts: list[dict[str, Any]] = []
    monkeypatch.setattr("tasks.reporting.emit_event", lambda **event: alerts.append(event))
    counts = reconcile_shipments()
    assert counts["quarantined"] == 1 and counts["processed"] == 0
    record = rel_env.runtime.ledger.get(reference)
    assert record is not None and record.state is State.QUARANTINED
    assert "read-back differs" in (record.quarantine_reason or "")
    assert rel_env.linnworks.order(reference)["Processed"] is False
    assert [alert["event"] for alert in alerts] == ["lw3pl.orders.quarantined"]
    assert "read-back differs" in alerts[0]["payload"]["orders"][0]
    assert _invariants(rel_env) == []


def test_rate_limit_storm_defers_orders_with_capped_waits_instead_of_failing(rel_env: FlowEnv) -> None:
    """Scenario 7: 429s with every form of Retry-After are waited out, capped; an order is deferred."""
    references = rel_env.create_orders(3)
    for style in ("seconds", "http_date", "missing", "garbage"):
        rel_env.linnworks.add_fault(
            "rate_limit", "Orders/GetOrdersById", retry_after=style, retry_after_seconds=1
        )
    rel_env.linnworks.add_fault(
        "rate_limit", "OpenOrders/AssignOrderIdentifier", retry_after="seconds", retry_after_seconds=100_000
    )
    rel_env.shipbob.inject("429", method="POST", path=ORDERS_PATH, times=6, retry_after=100_000)
    settings = rel_env.settings
    lw_waits: list[float] = []
    sb_waits: list[float] = []
    linnworks = LinnworksClient(
        settings.linnworks_application_id,
        settings.linnworks_application_secret,
        settings.linnworks_installation_token,
        auth_url=settings.linnworks_auth_url,
        sleep=lw_waits.append,
        time_scale=settings.partner_time_scale,
    )
    config = ShipBobConfig(
        base_url=settings.shipbob_api_url,
        token=settings.shipbob_api_token,
        channel_id=settings.shipbob_channel_id or 0,
        pace=False,
    )
    shipbob = ShipBobAdapter(config, sleep=sb_waits.append)
    try:
        with registered_runtime(replace(rel_env.runtime, linnworks=linnworks, threepl=shipbob)):
            counts = export_orders()
    finally:
        linnworks.close()
        shipbob.close()
    assert counts["exported"] == 2 and counts["deferred"] == 1
    deferred = [
        r for r in rel_env.runtime.ledger.get_many(references).values() if r.state is not State.EXPORTED
    ]
    assert len(deferred) == 1 and "rate limit" in (deferred[0].last_error or "").lower()
    scale = settings.partner_time_scale  # both clients wait partner seconds / time scale in real time
    assert 1.0 / scale in lw_waits and 120.0 / scale in lw_waits and max(lw_waits) <= 120.0 / scale
    assert sb_waits == [90.0] * 5  # four retries of the deferred order, one of the next; each capped
    assert export_orders()["exported"] == 1
    assert sorted(o.reference for o in rel_env.warehouse.list_orders()) == sorted(references)
    assert _invariants(rel_env) == []


def test_malformed_partner_records_stop_only_themselves(rel_env: FlowEnv) -> None:
    """Scenario 9: string or negative quantity, missing tracking number: those orders wait, others go on."""
    references = rel_env.create_orders(5)
    export_orders()
    rel_env.advance(hours=2)
    corrupt = dict(
        zip(references, ("quantity_string", "negative_quantity", "missing_tracking"), strict=False)
    )
    for reference, kind in corrupt.items():
        rel_env.shipbob.corrupt_order(reference, kind)
    state = reconcile_shipments(return_state=True)
    assert state.result()["processed"] == 2
    for reference in references:
        wanted = State.EXPORTED if reference in corrupt else State.PROCESSED
        assert order_state(rel_env, reference) is wanted
        assert rel_env.linnworks.order(reference)["ShippingInfo"]["TrackingNumber"] in ("", None) or (
            reference not in corrupt
        )
    summary = run_artifacts(state)["default-reconcile-shipments-summary"]
    assert summary.count("skipped") >= len(corrupt), summary
    rel_env.shipbob.clear_faults()
    assert reconcile_shipments()["processed"] == len(corrupt)
    assert _invariants(rel_env) == []


def _record_shipment_as_pulled(env: FlowEnv, reference: str) -> None:
    """Leave the order ``shipped`` in the ledger, as a run that read the event and then died would."""
    [event] = [
        e for e in env.runtime.threepl.poll_events(None).events if e.reference == reference and e.shipment
    ]
    assert event.shipment is not None
    numbers = tuple(package.tracking_number for package in event.shipment.packages)
    seen = ShipmentSeen(shipment_id=event.shipment.shipment_id, tracking_numbers=numbers)
    env.runtime.ledger.transition(
        reference, State.SHIPPED, expected_from=[State.EXPORTED], owner=None, shipment=seen
    )


def test_unreadable_event_feed_writes_nothing_and_already_shipped_orders_go_on(rel_env: FlowEnv) -> None:
    """Scenario 9: HTML or cut JSON as the order list: read again, or noted (run not failed) while known
    shipments are still tracked and processed."""
    first = rel_env.create_orders(2)
    export_orders()
    rel_env.advance(hours=2)
    for fault in ("html", "truncated"):
        rel_env.shipbob.inject(fault, method="GET", path=ORDERS_PATH, times=1)  # one bad page: read again
    assert reconcile_shipments()["processed"] == 2
    pulled, waiting = rel_env.create_orders(2)
    export_orders()
    rel_env.advance(hours=2)
    _record_shipment_as_pulled(rel_env, pulled)
    rel_env.shipbob.inject("html", method="GET", path=ORDERS_PATH, times=1000)  # a feed that stays broken
    state = reconcile_shipments(return_state=True)
    assert state.is_completed() and state.result()["processed"] == 1
    assert "unreadable" in run_artifacts(state)["default-reconcile-shipments-summary"]
    assert order_state(rel_env, pulled) is State.PROCESSED and order_state(rel_env, waiting) is State.EXPORTED
    rel_env.shipbob.clear_faults()
    assert reconcile_shipments()["processed"] == 1
    assert [order_state(rel_env, ref) for ref in (*first, pulled, waiting)] == [State.PROCESSED] * 4
    assert _invariants(rel_env) == []


def test_events_delivered_three_times_have_one_effect(rel_env: FlowEnv) -> None:
    """Scenario 10: every event re-delivered twice more (checkpoint lost) changes nothing anywhere."""
    references = rel_env.create_orders(2)
    export_orders()
    rel_env.warehouse.ship(references[0], partial=True)
    rel_env.advance(hours=8)
    assert reconcile_shipments()["processed"] == 2
    history = {ref: rel_env.runtime.ledger.history(ref) for ref in references}
    before = linnworks_writes(rel_env.linnworks)
    for _ in range(2):
        rel_env.runtime.ledger.set_cursor(EVENTS_CURSOR, "")
        reconcile_shipments()
    assert linnworks_writes(rel_env.linnworks) == before
    assert {ref: rel_env.runtime.ledger.history(ref) for ref in references} == history
    assert _invariants(rel_env) == []


def test_a_ten_thousand_character_name_is_refused_by_name_and_nothing_else_breaks(rel_env: FlowEnv) -> None:
    """Scenario 9: ShipBob 2026-01 caps the recipient name at 300 characters; a 10,000-character one is
    quarantined with the field named, without a call, and the other order goes through."""
    huge, normal = rel_env.create_orders(2)
    name = "Ñ" * 9_999 + "!"
    edit_order(rel_env.linnworks, huge, lambda doc: doc["CustomerInfo"]["Address"].update(FullName=name))
    assert export_orders()["exported"] == 1
    assert rel_env.warehouse.find_by_reference(huge) is None
    record = rel_env.runtime.ledger.get(huge)
    assert record is not None and record.state is State.QUARANTINED
    assert "recipient.name" in (record.quarantine_reason or "")
    rel_env.advance(hours=2)
    assert reconcile_shipments()["processed"] == 1
    assert order_state(rel_env, normal) is State.PROCESSED
    assert _invariants(rel_env) == []


def test_lost_linnworks_replies_to_tagging_and_processing_change_nothing_twice(rel_env: FlowEnv) -> None:
    """Scenario 2 on the Linnworks side: tag and process replies lost after the work; each done once."""
    references = rel_env.create_orders(2)
    rel_env.linnworks.add_fault("drop_after", "OpenOrders/AssignOrderIdentifier")
    assert export_orders()["exported"] == 2
    rel_env.advance(hours=2)
    rel_env.linnworks.add_fault("drop_after", "Orders/ProcessOrdersInBatch")
    first = reconcile_shipments()
    assert first["processed"] == 0 and first["deferred"] == 2  # outcome unknown: not sent again blindly
    assert all(rel_env.linnworks.order(ref)["Processed"] for ref in references)
    assert reconcile_shipments()["processed"] == 2  # the next run reads Processed back first
    for reference in references:
        assert order_state(rel_env, reference) is State.PROCESSED
        assert calls_naming(rel_env, "Orders/ProcessOrdersInBatch", reference) == 1
    assert _invariants(rel_env) == []
