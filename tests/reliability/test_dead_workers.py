"""Issue 13 item 8: a killed worker's orders wait seconds, not ``LEASE_SECONDS``.

A lease owner is ``host:pid:flow-run-id:suffix``. The claims of a process gone from this host, and of a flow
run Prefect marked Crashed, are released before the next claim; nothing else is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.states import Crashed, Running

from flows.export import export_orders
from ledger import Ledger, NewOrder, State
from sandbox.shipbob import ORDERS_PATH
from tasks import dead_owners
from tasks.dead_owners import flow_run_of, release_dead_claims
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all

WAIT_FOR_CLAIMS = 120.0


def _wait_for_claims(ledger: Ledger, process: subprocess.Popen[str]) -> list[str]:
    """The lease owners of the worker ``process`` once it holds claims (polls the ledger)."""
    deadline = time.monotonic() + WAIT_FOR_CLAIMS
    while time.monotonic() < deadline and process.poll() is None:
        owners = [o for o in ledger.lease_owners() if f":{process.pid}:" in o]
        if owners:
            return owners
        time.sleep(0.05)
    raise AssertionError(f"the worker (pid {process.pid}) never claimed an order")


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_worker_killed_mid_batch_leaves_its_orders_to_the_next_run_at_once(
    rel_env: FlowEnv, run_driver: Any
) -> None:
    """SIGKILL at an arbitrary moment (not a crash point) while creates are slow; the next run, started
    right away, sends every order once: the dead worker's 600-s claims were released, not waited out."""
    references = rel_env.create_orders(6)
    settings = rel_env.settings.model_copy(update={"lease_seconds": 600, "export_batch_size": 3})
    rel_env.shipbob.inject("slow", method="POST", path=ORDERS_PATH, times=6, delay_seconds=2.0)
    worker = run_driver.start(settings, "export")
    owners = _wait_for_claims(rel_env.runtime.ledger, worker)
    os.kill(worker.pid, signal.SIGKILL)
    worker.communicate()
    killed_at = time.monotonic()
    done_by_the_dead = _exported(rel_env, references)
    assert export_orders()["exported"] == len(references) - done_by_the_dead
    delay = time.monotonic() - killed_at
    print(f"orders of a SIGKILLed worker finished {delay:.1f} s after the kill (lease 600 s)")
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert sorted(o.reference for o in rel_env.warehouse.list_orders()) == sorted(references)
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert not set(owners) & set(rel_env.runtime.ledger.lease_owners())
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip


def _exported(env: FlowEnv, references: list[str]) -> int:
    return sum(r.state is State.EXPORTED for r in env.runtime.ledger.get_many(references).values())


@pytest.fixture
def crash_check_due() -> Iterator[None]:
    """Forget when this process last asked Prefect which runs crashed (the check is throttled)."""
    dead_owners._last_crash_check.clear()
    yield
    dead_owners._last_crash_check.clear()


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_claims_of_a_flow_run_prefect_marked_crashed_are_released_and_no_others(
    rel_env: FlowEnv, crash_check_due: None
) -> None:
    """Owners on another host: the one whose flow run is Crashed loses its claims; a Running one keeps its."""
    ledger = rel_env.runtime.ledger
    with get_client(sync_client=True) as client:
        crashed, running = (client.create_flow_run(export_orders, state=Running()) for _ in range(2))
        client.set_flow_run_state(crashed.id, Crashed(message="worker lost"), force=True)
    dead, alive = (f"elsewhere:4242:{run.id}:{uuid4().hex[:8]}" for run in (crashed, running))
    assert flow_run_of(dead) == crashed.id and flow_run_of("host:1:not-a-run:x") is None
    first, second = "order-of-the-crashed-run", "order-of-the-running-run"
    ledger.register([NewOrder(reference=ref, num_order_id=ref, payload_hash="h") for ref in (first, second)])
    assert ledger.claim([State.PENDING], dead, limit=1, lease_seconds=600, references=[first])
    assert ledger.claim([State.PENDING], alive, limit=1, lease_seconds=600, references=[second])
    assert release_dead_claims(ledger) == [first]
    assert ledger.lease_owners() == [alive]
