"""The reconcile flow: shipments -> tracking (read back) -> processing; cancellations; one effect each."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from pydantic import SecretStr

from clients.linnworks import UpdateOrderShippingInfo
from clients.shipbob import ShipBobAdapter, ShipBobConfig
from clients.threepl import Event, EventKind, EventPage, ThreePLAdapter
from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import OPEN_STATES, NewOrder, ShipmentSeen, State
from sandbox.shipbob import ORDERS_PATH, VERSION
from tasks.cancellations import TOO_LATE
from tasks.events import _on_shipment, pull_events, shipment_seen
from tasks.mapping import to_fulfilment_order
from tasks.outcomes import Outcomes
from tasks.reconcile import write_and_read_back_tracking, write_tracking_read_back_and_process
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.helpers import (
    calls_naming,
    linnworks_writes,
    order_state,
    shipbob_writes,
    with_settings,
)

TRACKING_UPLOAD_PATH = f"/{VERSION}/shipment:batchUpdateTrackingUpload"
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


def _tracking_queue(env: FlowEnv) -> list[str]:
    """References ShipBob still lists as shipped with tracking not acknowledged."""
    reply = httpx.get(
        f"{env.shipbob.api_url}/order",
        params={"HasTracking": "true", "IsTrackingUploaded": "false"},
        headers=env.shipbob.auth_headers(),
    )
    reply.raise_for_status()
    return [order["reference_id"] for order in reply.json()]


def test_tracking_read_back_in_linnworks_takes_the_parcels_off_shipbobs_queue(flow_env: FlowEnv) -> None:
    """Once Linnworks shows the tracking, every parcel is marked uploaded; a part not yet written stays."""
    complete, partial = _exported(flow_env, 2)
    flow_env.warehouse.ship(complete, packages=2)
    flow_env.warehouse.ship(partial, partial=True)
    assert sorted(_tracking_queue(flow_env)) == sorted([complete, partial])
    assert reconcile_shipments()["processed"] == 1
    assert _tracking_queue(flow_env) == [partial], "the partly shipped order's tracking is not written yet"
    flow_env.warehouse.ship(partial)
    assert reconcile_shipments()["processed"] == 1
    assert _tracking_queue(flow_env) == []
    assert flow_env.shipbob.count(status=200, method="POST", path=TRACKING_UPLOAD_PATH) == 2
    assert _invariants(flow_env) == []


def test_batches_in_flight_take_every_shipped_order_once(flow_env: FlowEnv) -> None:
    """Five shipped orders in batches of two (two in flight on PostgreSQL, one on SQLite; the next sent as
    one finishes, the last short): each order's tracking is written once and each is processed."""
    references = _exported(flow_env, 5)
    for reference in references:
        flow_env.warehouse.ship(reference)
    assert reconcile_shipments(batch_size=2)["processed"] == 5
    for reference in references:
        assert order_state(flow_env, reference) is State.PROCESSED
        assert calls_naming(flow_env, "Orders/SetOrderShippingInfo", reference) == 1
    assert _invariants(flow_env) == []


def test_partial_shipment_waits_with_a_note_until_the_order_is_complete(flow_env: FlowEnv) -> None:
    """A first part shipped adds a note and leaves the order open; the rest completes and processes it."""
    [reference] = _exported(flow_env, 1)
    first = flow_env.warehouse.ship(reference, partial=True)
    assert not first.is_final
    counts = reconcile_shipments()
    assert counts["processed"] == 0
    assert order_state(flow_env, reference) is State.PARTIALLY_SHIPPED
    assert flow_env.linnworks.order(reference)["Processed"] is False
    assert any("partly shipped" in note for note in _notes(flow_env, reference))
    before = linnworks_writes(flow_env.linnworks)
    reconcile_shipments()
    assert linnworks_writes(flow_env.linnworks) == before
    flow_env.warehouse.ship(reference)
    assert reconcile_shipments()["processed"] == 1
    order = flow_env.linnworks.order(reference)
    assert order["ShippingInfo"]["TrackingNumber"] == first.packages[0].tracking_number
    assert order_state(flow_env, reference) is State.PROCESSED
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
    assert calls_naming(flow_env, "Orders/ProcessOrdersInBatch", reference) == 0
    assert order_state(flow_env, other) is State.PROCESSED
    assert _invariants(flow_env) == []


def _cancel_in_linnworks(env: FlowEnv, reference: str) -> None:
    with env.linnworks._lock:
        env.linnworks.account.cancel(reference, env.location_id, "customer changed their mind")


def test_order_cancelled_in_linnworks_is_cancelled_at_the_3pl_or_quarantined_when_shipped(
    flow_env: FlowEnv,
) -> None:
    """Cancelled before shipping: cancelled at the 3PL; shipped (tracking written or not): too late."""
    waiting, shipped, written = _exported(flow_env, 3)
    flow_env.warehouse.ship(written)
    pull_events.fn(flow_env.account)
    write_and_read_back_tracking.fn(
        flow_env.account, 10
    )  # a run that died before processing left it ``tracking_written``
    assert order_state(flow_env, written) is State.TRACKING_WRITTEN
    flow_env.warehouse.ship(shipped)
    for reference in (waiting, shipped, written):
        _cancel_in_linnworks(flow_env, reference)
    counts = reconcile_shipments()
    assert counts["cancelled"] == 1 and counts["processed"] == 0
    assert order_state(flow_env, waiting) is State.CANCELLED
    remote = flow_env.warehouse.find_by_reference(waiting)
    assert remote is not None and remote.status == "cancelled"
    for reference in (shipped, written):
        record = flow_env.runtime.ledger.get(reference)
        assert record is not None and record.state is State.QUARANTINED
        assert "already shipped" in (record.quarantine_reason or "")
    before = linnworks_writes(flow_env.linnworks), flow_env.shipbob.count(method="POST")
    reconcile_shipments()
    assert (linnworks_writes(flow_env.linnworks), flow_env.shipbob.count(method="POST")) == before
    assert _invariants(flow_env) == []


def test_a_tracking_batch_ahead_of_the_cancellation_step_quarantines_a_cancelled_order_as_too_late(
    flow_env: FlowEnv,
) -> None:
    """The tracking batches run beside the event pull, so one may claim a shipped order cancelled in
    Linnworks before the cancellation step does: Linnworks refuses its tracking and the order gets that
    step's reason (too late), not Linnworks' refusal; a deleted one is named as deleted."""
    cancelled, deleted, fine = _exported(flow_env, 3)
    for reference in (cancelled, deleted, fine):
        flow_env.warehouse.ship(reference)
    pull_events.fn(flow_env.account)
    _cancel_in_linnworks(flow_env, cancelled)
    with flow_env.linnworks._lock:
        del flow_env.linnworks.account.orders[deleted]
    report = write_tracking_read_back_and_process.fn(flow_env.account, 10, flow_env.location_uuid)
    assert [row.reference for row in report.processed] == [fine]
    reasons = {ref: flow_env.runtime.ledger.get(ref).quarantine_reason or "" for ref in (cancelled, deleted)}
    assert reasons[cancelled] == TOO_LATE
    assert "was deleted in Linnworks after it was sent" in reasons[deleted]


def test_an_order_moved_to_another_location_after_shipping_is_quarantined_not_processed(
    flow_env: FlowEnv,
) -> None:
    """Moved away from the fulfilment centre after it shipped (the tracking write still succeeds there):
    the order is not processed at our location; it is quarantined to be settled by hand."""
    [reference] = _exported(flow_env, 1)
    flow_env.warehouse.ship(reference)
    pull_events.fn(flow_env.account)
    with flow_env.linnworks._lock:
        flow_env.linnworks.account.orders[reference].doc["FulfilmentLocationId"] = str(uuid4())
    report = write_tracking_read_back_and_process.fn(flow_env.account, 10, flow_env.location_uuid)
    assert report.processed == [] and flow_env.linnworks.order(reference)["Processed"] is False
    record = flow_env.runtime.ledger.get(reference)
    assert record is not None and record.state is State.QUARANTINED
    assert "moved to another location" in (record.quarantine_reason or "")


def test_cancellation_by_the_3pl_holds_with_a_note_or_cancels_by_policy(flow_env: FlowEnv) -> None:
    """The 3PL cancels: held with a note by default; cancelled with THREEPL_CANCEL_POLICY=cancel."""
    held, cancelled = _exported(flow_env, 2)
    flow_env.warehouse.cancel(held)
    reconcile_shipments()
    assert order_state(flow_env, held) is State.ON_HOLD
    assert flow_env.linnworks.order(held)["Processed"] is False
    assert any("the 3PL cancelled" in note for note in _notes(flow_env, held))
    flow_env.warehouse.cancel(cancelled)
    with with_settings(flow_env.runtime, threepl_cancel_policy="cancel"):
        assert reconcile_shipments()["cancelled"] == 1
    assert order_state(flow_env, cancelled) is State.CANCELLED
    assert flow_env.linnworks.order(cancelled)["_Cancelled"] is True
    assert order_state(flow_env, held) is State.ON_HOLD
    assert _invariants(flow_env) == []


def test_a_3pl_cancellation_of_an_order_cancelled_in_linnworks_is_a_cancellation_not_a_hold(
    flow_env: FlowEnv,
) -> None:
    """Another run carried a Linnworks cancellation to the 3PL and has not written its ledger move yet: the
    3PL's cancel event read meanwhile settles the order cancelled, not held as if the 3PL cancelled on its
    own (seen with two reconciles 0.1 s apart)."""
    (reference,) = _exported(flow_env, 1)
    with flow_env.linnworks._lock:
        flow_env.linnworks.account.cancel(reference, flow_env.location_id, "customer changed their mind")
    flow_env.warehouse.cancel(reference)  # the other run's cancel call reached the 3PL
    pull_events.fn(flow_env.account)
    assert order_state(flow_env, reference) is State.CANCELLED
    assert not any("the 3PL cancelled" in note for note in _notes(flow_env, reference))
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
        assert order_state(flow_env, reference) is State.PROCESSED
        assert calls_naming(flow_env, "Orders/SetOrderShippingInfo", reference) == 1
        assert calls_naming(flow_env, "Orders/ProcessOrdersInBatch", reference) == 1
        steps = [step.to_state for step in flow_env.runtime.ledger.history(reference)]
        assert steps.count(State.SHIPPED) == 1 and steps.count(State.PROCESSED) == 1
    assert _invariants(flow_env) == []


def test_a_parcel_event_read_while_another_run_processes_the_order_is_kept_not_refused(
    flow_env: FlowEnv,
) -> None:
    """Run A read the order `shipped`; run B then wrote its tracking and processed it. A's parcel event is
    kept on the processed order, not refused as a state conflict (seen with three reconciles at once)."""
    (reference,) = _exported(flow_env, 1)
    flow_env.warehouse.ship(reference)
    page = flow_env.runtime.threepl.poll_events(None)
    (event,) = [e for e in page.events if e.reference == reference and e.kind is EventKind.SHIPMENT]
    pull_events.fn(flow_env.account)
    stale = flow_env.runtime.ledger.get(reference)
    assert stale is not None and stale.state is State.SHIPPED
    assert reconcile_shipments()["processed"] == 1
    _on_shipment(Outcomes(flow_env.runtime), stale, event)
    record = flow_env.runtime.ledger.get(reference)
    assert record is not None and record.state is State.PROCESSED
    assert record.tracking_numbers == stale.tracking_numbers


def _sent_by_another_tool(env: FlowEnv, count: int) -> list[str]:
    """Orders at the 3PL, shipped and tagged in Linnworks, that this ledger never sent."""
    references = env.create_orders(count, lines=ONE_EACH)
    ids = [UUID(reference) for reference in references]
    for order in env.runtime.linnworks.get_orders_by_id(ids):
        env.runtime.threepl.submit_order(to_fulfilment_order(order, env.settings))
        env.warehouse.ship(str(order.order_id))
    env.runtime.linnworks.assign_order_identifier(ids, env.settings.export_identifier_tag)
    return references


def test_orders_another_tool_sent_are_left_alone_with_one_note_and_no_read_each(flow_env: FlowEnv) -> None:
    """Orders at the 3PL that this ledger never sent (another connector before lw3pl, a replaced ledger):
    their shipments change nothing in Linnworks, the run's notes name them once, and the ledger is not
    read once per order (a migration puts thousands of them in the first pass)."""
    references = _sent_by_another_tool(flow_env, 30)
    ledger = flow_env.runtime.ledger
    before = ledger.stats()
    report = pull_events.fn(flow_env.account)
    assert ledger.stats().statements - before.statements < len(references)  # a few per page, none per order
    [note] = [note for note in report.notes if "never sent" in note]
    assert note.startswith("3PL events named 30 orders this ledger never sent") and "and 27 more" in note
    assert reconcile_shipments()["processed"] == 0
    for reference in references:
        assert ledger.get(reference) is None
        assert calls_naming(flow_env, "Orders/SetOrderShippingInfo", reference) == 0
        assert flow_env.linnworks.order(reference)["Processed"] is False
    for reference in _exported(flow_env, 2):  # orders this ledger sends afterwards are followed as ever
        flow_env.warehouse.ship(reference)
    assert reconcile_shipments()["processed"] == 2


def test_a_pass_that_re_reads_pages_of_known_events_goes_on_to_the_new_ones(flow_env: FlowEnv) -> None:
    """Each pass of ShipBob's update stream starts a little before the newest update seen, so a busy
    account's pass opens with pages whose events are all recorded already. The pull reads on to the new
    shipments behind them in the same run (it used to stop at the first page with nothing new, a page a
    run, leaving shipments waiting for hours)."""
    shipbob = flow_env.shipbob
    config = ShipBobConfig(shipbob.url, SecretStr(shipbob.token), shipbob.channel_id, pace=False, page_size=5)
    small_pages = ShipBobAdapter(config)
    with closing(small_pages), with_settings(flow_env.runtime, threepl=small_pages):
        _sent_by_another_tool(flow_env, 12)  # three pages of five orders, re-read by the next pass
        assert pull_events.fn(flow_env.account).shipped == []
        mine = _exported(flow_env, 2)
        for reference in mine:
            flow_env.warehouse.ship(reference)
        reads_before = shipbob.count(method="GET", path=ORDERS_PATH)
        report = pull_events.fn(flow_env.account)
    assert sorted(row.reference for row in report.shipped) == sorted(mine)
    assert shipbob.count(method="GET", path=ORDERS_PATH) - reads_before >= 3  # it read past the known pages


def test_a_page_of_complete_shipments_is_applied_in_one_ledger_commit(flow_env: FlowEnv) -> None:
    """Four orders shipped whole: their moves and event records take one commit (plus the cursor's), not
    one per order; each order is shipped once, with its parcel, and reported."""
    references = _exported(flow_env, 4)
    for reference in references:
        flow_env.warehouse.ship(reference)
    ledger = flow_env.runtime.ledger
    before, reads_before = ledger.stats(), flow_env.shipbob.count(method="GET", path=ORDERS_PATH)
    report = pull_events.fn(flow_env.account)
    # The page's apply_events and the cursor, in the one poll (its pass is complete: no second poll);
    # one commit per order would make it 4 + 1 more.
    assert ledger.stats().commits - before.commits == 2
    # One page of the update stream; the first pass reads no separate tracking queue (the stream from the
    # beginning lists it), and a complete pass is not read again.
    assert flow_env.shipbob.count(method="GET", path=ORDERS_PATH) - reads_before == 1
    assert sorted(row.reference for row in report.shipped) == sorted(references)
    for reference in references:
        record = ledger.get(reference)
        assert record is not None and record.state is State.SHIPPED and len(record.shipment_ids) == 1
        assert [step.to_state for step in ledger.history(reference)].count(State.SHIPPED) == 1


# --- the state machine resumed from every state a crash can leave an order in ---------------------------

CRASH_STATES = [
    ("pending", State.PENDING, False),
    ("submitting, not at the 3PL", State.SUBMITTING, False),
    ("submitting, at the 3PL", State.SUBMITTING, True),
    ("submitted", State.SUBMITTED, True),
    ("exported", State.EXPORTED, True),
    ("partially shipped", State.PARTIALLY_SHIPPED, True),
    ("shipped", State.SHIPPED, True),
    ("tracking written", State.TRACKING_WRITTEN, True),
    ("tracking written, processed in Linnworks", State.TRACKING_WRITTEN, True),
]
_PATH = [State.SUBMITTING, State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.SHIPPED]


def _shipment_seen(env: FlowEnv, reference: str) -> ShipmentSeen:
    """The order's latest shipment as the adapter reports it (same ids the reconcile flow will see)."""
    events = [e for e in env.runtime.threepl.poll_events(None).events if e.reference == reference]
    shipment = [e.shipment for e in events if e.shipment is not None][-1]
    return shipment_seen(shipment)


def _leave_in(env: FlowEnv, reference: str, state: State, at_3pl: bool, processed: bool) -> None:
    """Build what a run that died with the order in ``state`` leaves behind: ledger row and remote effects."""
    runtime, ledger, order_id = env.runtime, env.runtime.ledger, UUID(reference)
    [details] = runtime.linnworks.get_orders_by_id([order_id])
    payload = to_fulfilment_order(details, runtime.settings)
    ledger.register([NewOrder(reference=reference, num_order_id=str(details.num_order_id), payload_hash="")])
    remote_id = ""
    for step in [State.PENDING, *_PATH]:
        if step is State.PARTIALLY_SHIPPED and state is not State.PARTIALLY_SHIPPED:
            continue
        if step is State.SUBMITTED and at_3pl:
            remote_id = runtime.threepl.submit_order(payload).remote_id or ""
        if step is State.EXPORTED:
            runtime.linnworks.assign_order_identifier([order_id], runtime.settings.export_identifier_tag)
        if step in (State.PARTIALLY_SHIPPED, State.SHIPPED):
            env.warehouse.ship(reference, partial=step is State.PARTIALLY_SHIPPED)
        if step is not State.PENDING:
            shipment = _shipment_seen(env, reference) if step in _PATH[3:] else None
            changes: dict[str, Any] = {"remote_id": remote_id} if step is State.SUBMITTED else {}
            if shipment:
                changes["shipment"] = shipment
            ledger.transition(reference, step, expected_from=OPEN_STATES, owner=None, **changes)
        if step is state:
            break
    if state is State.SUBMITTING and at_3pl:
        runtime.threepl.submit_order(payload)  # accepted, and the run died before recording it
    if state is State.TRACKING_WRITTEN:
        record = ledger.get(reference)
        assert record is not None and record.tracking_number
        runtime.linnworks.set_order_shipping_info(
            order_id, UpdateOrderShippingInfo(tracking_number=record.tracking_number)
        )
        ledger.transition(reference, State.TRACKING_WRITTEN, expected_from=[State.SHIPPED], owner=None)
        if processed:
            runtime.linnworks.process_orders_in_batch([order_id], location_id=env.location_uuid)


def test_every_state_a_crash_leaves_is_finished_exactly_once(flow_env: FlowEnv) -> None:
    """From each crash state the flows finish the order: one 3PL order, tag, tracking write and process."""
    references = flow_env.create_orders(len(CRASH_STATES), lines=ONE_EACH)
    cases = dict(zip(references, CRASH_STATES, strict=True))
    for reference, (label, state, at_3pl) in cases.items():
        _leave_in(flow_env, reference, state, at_3pl, processed="processed" in label)
        assert order_state(flow_env, reference) is state, label
    creates_before = flow_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH)
    calls_before = {
        (method, ref): calls_naming(flow_env, method, ref)
        for method in (
            "OpenOrders/AssignOrderIdentifier",
            "Orders/SetOrderShippingInfo",
            "Orders/ProcessOrdersInBatch",
        )
        for ref in references
    }
    export_orders()
    flow_env.advance(hours=8)
    reconcile_shipments()
    assert flow_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) - creates_before == 2
    assert flow_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    for reference, (label, state, _) in cases.items():
        assert order_state(flow_env, reference) is State.PROCESSED, label
        order = flow_env.linnworks.order(reference)
        assert order["Processed"] is True and not order["_Cancelled"], label
        expected = {
            "OpenOrders/AssignOrderIdentifier": int(
                state in (State.PENDING, State.SUBMITTING, State.SUBMITTED)
            ),
            "Orders/SetOrderShippingInfo": int(state is not State.TRACKING_WRITTEN),
            "Orders/ProcessOrdersInBatch": int("processed" not in label),
        }
        for method, count in expected.items():
            made = calls_naming(flow_env, method, reference) - calls_before[method, reference]
            assert made == count, (label, method)
    before = linnworks_writes(flow_env.linnworks), shipbob_writes(flow_env.shipbob)
    export_orders()
    reconcile_shipments()
    assert (linnworks_writes(flow_env.linnworks), shipbob_writes(flow_env.shipbob)) == before
    assert _invariants(flow_env) == []


def test_an_event_linnworks_refuses_quarantines_that_order_and_the_others_go_on(flow_env: FlowEnv) -> None:
    """The 3PL cancels a locked order under the cancel policy: it is quarantined, the rest processed."""
    locked, shipped = _exported(flow_env, 2)
    flow_env.linnworks.update_order(locked, locked=True)
    flow_env.warehouse.cancel(locked)
    flow_env.warehouse.ship(shipped)
    with with_settings(flow_env.runtime, threepl_cancel_policy="cancel"):
        counts = reconcile_shipments()
    assert counts["processed"] == 1 and counts["quarantined"] == 1
    record = flow_env.runtime.ledger.get(locked)
    assert record is not None and record.state is State.QUARANTINED
    assert "locked" in (record.quarantine_reason or "")
    assert order_state(flow_env, shipped) is State.PROCESSED
    assert _invariants(flow_env) == []


@pytest.mark.parametrize("failure_as_400", [False, True], ids=["result", "http-400"])
def test_an_order_linnworks_will_not_process_is_quarantined_and_the_batch_goes_on(
    flow_env: FlowEnv, failure_as_400: bool
) -> None:
    """A locked order refused by processing (in the result or as a 400) is quarantined; the others process."""
    locked, *others = _exported(flow_env, 3)
    flow_env.advance(hours=2)
    flow_env.linnworks.update_order(locked, locked=True)
    flow_env.linnworks.configure(process_failure_as_400=failure_as_400)
    counts = reconcile_shipments()
    assert counts["processed"] == 2 and counts["quarantined"] == 1
    record = flow_env.runtime.ledger.get(locked)
    assert record is not None and record.state is State.QUARANTINED
    assert "locked" in (record.quarantine_reason or "")
    assert [order_state(flow_env, ref) for ref in others] == [State.PROCESSED] * 2
    assert _invariants(flow_env) == []


class _CancelsAfterPartial:
    """A 3PL adapter that also reports the order cancelled by the 3PL (the rest cannot ship)."""

    def __init__(self, inner: ThreePLAdapter, reference: str) -> None:
        self._inner, self._reference = inner, reference

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def poll_events(self, checkpoint: str | None) -> EventPage:
        page = self._inner.poll_events(checkpoint)
        latest = max((event.occurred_at for event in page.events), default=None)
        if latest is None:
            return page
        cancelled = Event(
            event_id=f"test:cancelled:{self._reference}", kind=EventKind.CANCELLED, reference=self._reference,
            occurred_at=latest + timedelta(minutes=1), detail="rest out of stock",
        )  # fmt: skip
        return page.model_copy(update={"events": [*page.events, cancelled]})


@pytest.mark.parametrize("policy", ["hold", "cancel"])
def test_a_3pl_cancellation_after_a_partial_shipment_holds_the_order_whatever_the_policy(
    flow_env: FlowEnv, policy: str
) -> None:
    """The 3PL cancels the rest of a part-shipped order: held with a note, never cancelled in Linnworks."""
    [reference] = _exported(flow_env, 1)
    flow_env.warehouse.ship(reference, partial=True)
    adapter = _CancelsAfterPartial(flow_env.runtime.threepl, reference)
    with with_settings(flow_env.runtime, threepl=adapter, threepl_cancel_policy=policy):
        reconcile_shipments()
    assert order_state(flow_env, reference) is State.ON_HOLD
    order = flow_env.linnworks.order(reference)
    assert order["Processed"] is False and not order["_Cancelled"]
    assert any("the 3PL cancelled" in note for note in _notes(flow_env, reference))
