"""Issue 13 item 4 (RELIABILITY.md scenario 5): the code changes between a crash and the rerun.

A worker dies right after the 3PL accepted a create. A new deploy then runs with a changed mapping (a new
field in the payload), another batch size and a different task cache (results stored elsewhere, so no cached
result is found): still one 3PL order per Linnworks order. The ledger row, not the payload or a cache, says
the order was sent; the lookup by reference finds it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings

import tasks.export
from clients.threepl import FulfilmentOrder
from flows.export import export_orders
from ledger import State
from lw3pl.core.crashpoints import CRASH_EXIT_CODE
from sandbox.shipbob import ORDERS_PATH
from tasks.context import registered_runtime
from tasks.mapping import to_fulfilment_order
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.conftest import finish_driver

NEW_NOTE = "lw3pl 2.0: gift messages are sent to the 3PL"


def _new_mapping(order: Any, settings: Any) -> FulfilmentOrder:
    """The next release's mapping: one more field filled in."""
    payload = to_fulfilment_order(order, settings)
    return payload.model_copy(update={"notes": [*payload.notes, NEW_NOTE]})


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_rerun_on_changed_code_after_a_crash_after_the_create_sends_each_order_once(
    rel_env: FlowEnv, run_driver: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    references = rel_env.create_orders(5)
    old = rel_env.settings.model_copy(update={"export_batch_size": 5})
    crashed = finish_driver(run_driver.start(old, "export", crashpoint="after_3pl_create"))
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.output[-2000:]
    assert len(rel_env.warehouse.list_orders()) == 1  # sent, and the worker died before recording it
    monkeypatch.setattr(tasks.export, "to_fulfilment_order", _new_mapping)
    new = rel_env.settings.model_copy(update={"export_batch_size": 2})
    with (
        registered_runtime(replace(rel_env.runtime, settings=new)),
        temporary_settings({PREFECT_RESULTS_LOCAL_STORAGE_PATH: tmp_path / "new-deploy-results"}),
    ):
        export_orders()
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    remote = rel_env.warehouse.list_orders()
    assert sorted(order.reference for order in remote) == sorted(references)
    assert rel_env.shipbob.count(status=201, method="POST", path=ORDERS_PATH) == 5
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip
