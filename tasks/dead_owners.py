"""Free the claims of workers known to be dead, so their orders wait seconds instead of ``LEASE_SECONDS``.

A lease owner is named ``host:pid:flow-run-id:suffix`` (:func:`tasks.context.run_owner`). Before a task
claims orders, the claims of owners known dead are released: a process on this host that no longer exists
(one ``kill(pid, 0)`` per owner), and a flow run that is over: Crashed by the server, or Failed, Cancelled
or Completed (a task that could not give its leases back, e.g. while the ledger database was away, leaves
them to a run that is over). One API call, at most every ``CRASH_CHECK_SECONDS`` per process. Anything
else keeps its lease until it ends. Releasing never moves an order: a ``submitting`` one is looked up at
the 3PL before anything is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from ledger import Ledger
from tasks.pacing import prefect_server_configured

__all__ = ["CRASH_CHECK_SECONDS", "flow_run_of", "release_dead_claims"]

logger = logging.getLogger("lw3pl.leases")

CRASH_CHECK_SECONDS = 30.0
OVER = [StateType.CRASHED, StateType.FAILED, StateType.CANCELLED, StateType.COMPLETED]
_lock = threading.Lock()
_last_crash_check: dict[str, float] = {}


def release_dead_claims(ledger: Ledger) -> list[str]:
    """Release the claims of dead local processes and of flow runs that are over; the references freed."""
    freed = ledger.release_dead_local_owners()
    if prefect_server_configured() and _crash_check_due(ledger.account):
        freed += ledger.release_claims_of(_owners_of_crashed_runs(ledger.lease_owners()))
    if freed:
        logger.warning("released %d claims of workers known dead", len(freed))
    return freed


def flow_run_of(owner: str) -> UUID | None:
    """The flow-run id in an owner name ``host:pid:flow-run-id:suffix``; None for any other name."""
    parts = owner.split(":")
    if len(parts) != 4:
        return None
    try:
        return UUID(parts[2])
    except ValueError:
        return None


def _crash_check_due(account: str) -> bool:
    with _lock:
        now = time.monotonic()
        if now - _last_crash_check.get(account, -CRASH_CHECK_SECONDS) < CRASH_CHECK_SECONDS:
            return False
        _last_crash_check[account] = now
        return True


def _owners_of_crashed_runs(owners: list[str]) -> list[str]:
    runs = {owner: run for owner in owners if (run := flow_run_of(owner)) is not None}
    if not runs:
        return []
    try:
        over = _over(set(runs.values()))
    except Exception as error:  # noqa: BLE001 - a server away costs only the wait for the lease to end
        logger.warning("could not ask Prefect which runs crashed (%s): leases run out instead", error)
        return []
    return [owner for owner, run in runs.items() if run in over]


def _over(runs: set[UUID]) -> set[UUID]:
    states = FlowRunFilterState(type=FlowRunFilterStateType(any_=OVER))
    query = FlowRunFilter(id=FlowRunFilterId(any_=sorted(runs)), state=states)
    with get_client(sync_client=True) as client:
        return {run.id for run in client.read_flow_runs(flow_run_filter=query, limit=len(runs))}
