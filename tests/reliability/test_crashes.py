"""RELIABILITY.md scenarios 1, 3 and 4a: a worker dies at a crash point; a new run finishes the work once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import State
from lw3pl.core.crashpoints import CRASH_EXIT_CODE
from sandbox.shipbob import ORDERS_PATH
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.conftest import DriverRun
from tests.reliability.helpers import calls_naming

RunDriver = Callable[..., DriverRun]


def _states(env: FlowEnv, references: list[str]) -> list[State]:
    records = env.runtime.ledger.get_many(references)
    return [records[ref].state for ref in references]


def _invariants(env: FlowEnv) -> list[str]:
    return check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    )


@pytest.mark.parametrize("crashpoint", ["before_3pl_create", "after_3pl_create", "before_tag", "after_tag"])
def test_export_worker_killed_mid_saga_is_finished_once_by_a_new_run(
    rel_env: FlowEnv, run_driver: RunDriver, crashpoint: str
) -> None:
    """A worker dies before/after the 3PL create or after tagging; a new run ends with one 3PL order each."""
    references = rel_env.create_orders(3)
    crashed = run_driver(rel_env.settings, "export", crashpoint=crashpoint)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.output
    at_3pl = {order.reference for order in rel_env.warehouse.list_orders()}
    if crashpoint == "before_tag":  # scenario 1b: recorded in the ledger, not yet tagged
        assert _states(rel_env, references) == [State.SUBMITTED] * 3
    assert (
        len(at_3pl)
        == {"before_3pl_create": 0, "after_3pl_create": 1, "before_tag": 3, "after_tag": 3}[crashpoint]
    )
    if crashpoint == "before_3pl_create":  # scenario 3: a claimed order was left ``submitting``
        assert State.SUBMITTING in _states(rel_env, references)
    # The dead worker's claims are released at once (its process is gone): no wait for LEASE_SECONDS.
    assert export_orders()["exported"] == 3
    assert _states(rel_env, references) == [State.EXPORTED] * 3
    assert sorted(order.reference for order in rel_env.warehouse.list_orders()) == sorted(references)
    assert rel_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) == 3
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    tag = rel_env.settings.export_identifier_tag
    assert all(tag in rel_env.linnworks.order(ref)["_Tags"] for ref in references)
    assert _invariants(rel_env) == []


@pytest.mark.parametrize("crashpoint", ["after_tracking_write", "before_process", "after_process"])
def test_reconcile_worker_killed_around_processing_processes_each_order_once(
    rel_env: FlowEnv, run_driver: RunDriver, crashpoint: str
) -> None:
    """A worker dies between tracking write and processing (or right after); the rerun processes once."""
    references = rel_env.create_orders(3)
    export_orders()
    rel_env.advance(hours=2)
    crashed = run_driver(rel_env.settings, "reconcile", crashpoint=crashpoint)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.output
    processed_by_crash = [ref for ref in references if rel_env.linnworks.order(ref)["Processed"]]
    # The tracking batches start while the event pull still records shipments, so the batch that died
    # right after processing may have held only some of the three orders; none may be processed twice.
    assert bool(processed_by_crash) is (crashpoint == "after_process"), processed_by_crash
    reconcile_shipments()  # at once: the dead worker's claims are released, not waited out
    assert _states(rel_env, references) == [State.PROCESSED] * 3
    for reference in references:
        assert calls_naming(rel_env, "Orders/ProcessOrdersInBatch", reference) == 1
        record = rel_env.runtime.ledger.get(reference)
        order = rel_env.linnworks.order(reference)
        assert record is not None and order["ShippingInfo"]["TrackingNumber"] == record.tracking_number
    assert _invariants(rel_env) == []
