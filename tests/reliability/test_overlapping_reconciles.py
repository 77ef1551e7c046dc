"""Issue 13 item 6: overlapping reconciles settle each order once, and both runs succeed.

Cancellation carrying worked from a ledger snapshot read without a lease: a run that saw an order ``shipped``
(or still at the 3PL) while another run processed (or cancelled) it quarantined it, or failed on the illegal
``processed -> quarantined``. The deterministic tests freeze the other run between its Linnworks call and its
ledger write; the subprocess test starts two real reconciles 0.1 s apart, several times.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from flows.export import export_orders
from ledger import State
from sandbox.shipbob import ORDERS_PATH
from tasks.cancellations import carry_linnworks_cancellations
from tasks.events import pull_events
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.conftest import finish_driver
from tests.reliability.helpers import order_state

OTHER_RUN = "other-host:1:other-run"
ROUNDS = 4


def _cancel_in_linnworks(env: FlowEnv, reference: str) -> None:
    with env.linnworks._lock:
        env.linnworks.account.cancel(reference, env.location_id, "customer changed their mind")


def _exported(env: FlowEnv, count: int) -> list[str]:
    references = env.create_orders(count)
    assert export_orders()["exported"] == count
    return references


def _invariants(env: FlowEnv) -> list[str]:
    return check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    )


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_an_order_another_run_is_processing_is_left_to_it(rel_env: FlowEnv) -> None:
    """Run A holds the shipped order and has processed it in Linnworks; run B's cancellation step skips it."""
    (reference,) = _exported(rel_env, 1)
    rel_env.warehouse.ship(reference)
    pull_events.fn(rel_env.account)
    ledger = rel_env.runtime.ledger
    assert ledger.claim([State.SHIPPED], OTHER_RUN, limit=1, lease_seconds=600)  # run A's tracking task
    with rel_env.linnworks._lock:
        rel_env.linnworks.account.process(reference, fulfilment_centre=True)  # A processed, not yet recorded
    report = carry_linnworks_cancellations.fn(rel_env.account, rel_env.location_uuid)  # run B
    assert report.quarantined == [] and order_state(rel_env, reference) is State.SHIPPED
    ledger.transition(reference, State.TRACKING_WRITTEN, expected_from=[State.SHIPPED], owner=OTHER_RUN)
    ledger.transition(reference, State.PROCESSED, expected_from=[State.TRACKING_WRITTEN], owner=OTHER_RUN)
    ledger.release([reference], OTHER_RUN)
    report = carry_linnworks_cancellations.fn(rel_env.account, rel_env.location_uuid)  # B again, after A
    assert report.quarantined == [] and order_state(rel_env, reference) is State.PROCESSED


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_cancellation_another_run_is_carrying_is_left_to_it(rel_env: FlowEnv) -> None:
    """Run A holds a Linnworks-cancelled order and has cancelled it at the 3PL; B asks the 3PL nothing."""
    (reference,) = _exported(rel_env, 1)
    _cancel_in_linnworks(rel_env, reference)
    ledger = rel_env.runtime.ledger
    assert ledger.claim([State.EXPORTED], OTHER_RUN, limit=1, lease_seconds=600)  # run A's cancellation step
    rel_env.warehouse.cancel(reference)  # A's cancel reached the 3PL, not yet recorded
    report = carry_linnworks_cancellations.fn(rel_env.account, rel_env.location_uuid)  # run B
    assert report.quarantined == [] and report.cancelled == []
    assert _cancel_calls(rel_env) == []
    ledger.transition(reference, State.CANCELLED, expected_from=[State.EXPORTED], owner=OTHER_RUN)
    ledger.release([reference], OTHER_RUN)
    report = carry_linnworks_cancellations.fn(rel_env.account, rel_env.location_uuid)  # B again, after A
    assert report.quarantined == [] and order_state(rel_env, reference) is State.CANCELLED


def _calls_naming(env: FlowEnv, method: str, reference: str) -> int:
    return sum(reference in json.dumps(call["params"]) for call in env.linnworks.requests(method))


def _cancel_calls(env: FlowEnv) -> list[int]:
    """The statuses of every 3PL cancel request so far."""
    with env.shipbob._lock:
        return [r.status for r in env.shipbob.requests if r.method == "POST" and r.path.endswith(":cancel")]


@pytest.mark.postgres
@pytest.mark.parametrize("ledger_url", ["postgres"], indirect=True)
def test_two_reconciles_a_tenth_of_a_second_apart_both_succeed_with_one_effect_each(
    rel_env: FlowEnv, run_driver: Any
) -> None:
    """Two ``reconcile-shipments`` processes 0.1 s apart, ROUNDS times, on one shipped order and one order
    cancelled in Linnworks: both exit 0, each order is processed (or cancelled at the 3PL) once."""
    for _ in range(ROUNDS):
        shipped, cancelled = _exported(rel_env, 2)
        rel_env.warehouse.ship(shipped)
        _cancel_in_linnworks(rel_env, cancelled)
        first = run_driver.start(rel_env.settings, "reconcile")
        time.sleep(0.1)
        second = run_driver.start(rel_env.settings, "reconcile")
        runs = [finish_driver(first), finish_driver(second)]
        assert [run.returncode for run in runs] == [0, 0], [run.output[-3000:] for run in runs]
        assert order_state(rel_env, shipped) is State.PROCESSED
        assert order_state(rel_env, cancelled) is State.CANCELLED
        assert _calls_naming(rel_env, "Orders/ProcessOrdersInBatch", shipped) == 1
        assert _calls_naming(rel_env, "Orders/SetOrderShippingInfo", shipped) == 1
        remote = rel_env.warehouse.find_by_reference(cancelled)
        assert remote is not None and remote.status == "cancelled"
        assert rel_env.runtime.ledger.quarantined() == []
    assert rel_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) == 2 * ROUNDS
    assert _cancel_calls(rel_env) == [200] * ROUNDS  # one cancel per order, none refused as a repeat
    assert _invariants(rel_env) == []
