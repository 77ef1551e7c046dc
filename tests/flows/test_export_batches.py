"""Export in batches: ``submitting`` is committed before each create even with creates in flight together;
a refusal storm (the same answer for every order, or a status about the set-up) stops the run, quarantines
nothing and leaves the orders pending for the run after the fix."""

from __future__ import annotations

import json

import pytest

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import Ledger, State
from sandbox._http import HttpRequest
from sandbox.shipbob import ORDERS_PATH
from sandbox.shipbob.server import ShipBobSandbox
from tasks.refusals import RefusalStorm
from tests.flows.conftest import FlowEnv


class _CreateWitness(list[HttpRequest]):
    """A request journal that, the moment a create arrives, reads its order's state through a ledger
    connection of its own: only a committed ``submitting`` is visible there."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger
        self.seen: dict[str, State | None] = {}

    def append(self, request: HttpRequest) -> None:
        if request.method == "POST" and request.path == ORDERS_PATH:
            reference = str(json.loads(request.body)["reference_id"])
            record = self.ledger.get(reference)
            self.seen[reference] = record.state if record else None
        super().append(request)


def test_no_create_is_sent_before_its_submitting_is_committed(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batched and concurrent, each create still finds its order committed ``submitting``; the audit
    trail shows pending -> submitting -> submitted -> exported for every order, once."""
    references = flow_env.create_orders(24)
    settings = flow_env.settings
    with Ledger(settings.resolved_ledger_url, account=settings.lw3pl_account, threepl="shipbob") as own:
        witness = _CreateWitness(own)
        previous = ShipBobSandbox.journal
        monkeypatch.setattr(ShipBobSandbox, "journal", witness)
        try:
            assert export_orders(batch_size=12)["exported"] == 24
        finally:
            if previous is not None:
                previous.extend(witness)  # the suite's conformance check still sees every request
    assert witness.seen == dict.fromkeys(references, State.SUBMITTING)
    assert flow_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) == 24
    for reference in references:
        trail = [(line.from_state, line.to_state) for line in flow_env.runtime.ledger.history(reference)]
        assert trail == [
            (None, State.PENDING),
            (State.PENDING, State.SUBMITTING),
            (State.SUBMITTING, State.SUBMITTED),
            (State.SUBMITTED, State.EXPORTED),
        ]


def _states(env: FlowEnv, references: list[str]) -> set[State]:
    return {record.state for record in env.runtime.ledger.get_many(references).values()}


def test_a_shipbob_answering_410_to_every_create_stops_the_run_and_quarantines_nothing(
    flow_env: FlowEnv,
) -> None:
    """410 cannot be about one order: the first create's answer stops the run, naming the setting."""
    references = flow_env.create_orders(10)
    flow_env.shipbob.inject("410", method="POST", path=ORDERS_PATH, times=1000)
    with pytest.raises(RefusalStorm) as caught:
        export_orders()
    assert "SHIPBOB_API_VERSION" in str(caught.value) and "410" in str(caught.value)
    assert _states(flow_env, references) == {State.PENDING}
    assert flow_env.runtime.ledger.quarantined() == []
    assert flow_env.shipbob.count(status=410, method="POST", path=ORDERS_PATH) == 1
    flow_env.shipbob.clear_faults()
    assert export_orders()["exported"] == 10


def test_the_same_422_for_every_order_stops_the_run_and_leaves_the_orders_pending(
    flow_env: FlowEnv,
) -> None:
    """The same refusal for the first orders of a batch is a set-up problem, not ten bad orders."""
    references = flow_env.create_orders(20)
    flow_env.shipbob.inject("422", method="POST", path=ORDERS_PATH, times=1000)
    with pytest.raises(RefusalStorm) as caught:
        export_orders()
    assert "SHIPPING_SERVICE_MAP" in str(caught.value) and "422" in str(caught.value)
    assert _states(flow_env, references) == {State.PENDING}
    assert flow_env.runtime.ledger.quarantined() == []
    refused = flow_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH)
    assert 3 <= refused < 20, "stopped after the first few refusals, not one per order"
    flow_env.shipbob.clear_faults()
    assert export_orders()["exported"] == 20


def test_one_refused_order_among_accepted_ones_is_quarantined_and_the_rest_exported(
    flow_env: FlowEnv,
) -> None:
    """A single 422 is about that order: it is quarantined with the 3PL's reason; no storm is called."""
    references = flow_env.create_orders(6)
    flow_env.shipbob.inject("422", method="POST", path=ORDERS_PATH, times=1)
    assert export_orders(batch_size=6)["exported"] == 5
    quarantined = flow_env.runtime.ledger.quarantined()
    assert len(quarantined) == 1 and quarantined[0].reference in references
    assert "the 3PL rejected the order" in (quarantined[0].quarantine_reason or "")


_ID_LISTS = {
    "Orders/GetOrdersById": ("pkOrderIds",),
    "OpenOrders/AssignOrderIdentifier": ("request", "OrderIds"),
    "Orders/ProcessOrdersInBatch": ("ordersIds",),
}


def _ids_per_call(flow_env: FlowEnv, method: str) -> list[int]:
    """How many order ids each ``method`` call carried, from the Linnworks sandbox's request log."""
    name, *inner = _ID_LISTS[method]
    sizes = []
    for call in flow_env.linnworks.requests(method):
        value = call["params"][name]
        value = json.loads(value) if isinstance(value, str) else value
        for key in inner:
            value = value[key]
        sizes.append(len(value))
    return sizes


def test_a_batch_task_works_through_its_orders_in_parts(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks of 12 orders with parts of 5: every Linnworks batch call carries one part (5, 5, 2 per
    task), and every order is still exported, then written, read back and processed, once."""
    monkeypatch.setattr("tasks.context.PART_SIZE", 5)
    references = flow_env.create_orders(24)
    assert export_orders(batch_size=12)["exported"] == 24
    assert sorted(_ids_per_call(flow_env, "Orders/GetOrdersById")) == [2, 2] + [5] * 4
    assert sorted(_ids_per_call(flow_env, "OpenOrders/AssignOrderIdentifier")) == [2, 2] + [5] * 4
    flow_env.advance(hours=2)
    assert reconcile_shipments(batch_size=12)["processed"] == 24
    assert sorted(_ids_per_call(flow_env, "Orders/ProcessOrdersInBatch")) == [2, 2] + [5] * 4
    ledger = flow_env.runtime.ledger
    assert {ledger.get(reference).state for reference in references} == {State.PROCESSED}
