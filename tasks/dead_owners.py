"""Free the claims of workers known to be dead, so their orders wait seconds instead of ``LEASE_SECONDS``.

A lease owner is named ``host:pid:flow-run-id:suffix`` (:func:`tasks.context.run_owner`). Before a task
claims orders, the claims of owners known dead are released: a process gone from this host (one
``kill(pid, 0)`` per owner); an owner of this process that left ``leased`` without giving its claims back
(the ledger database was away); an owner on another host whose flow run is over (Crashed by the server, or
Failed, Cancelled, Completed; one Prefect API call at most every ``CRASH_CHECK_SECONDS`` per process). A
live process on this host keeps its claims whatever its flow run's state, since a task of it may still be
working. Releasing never moves an order: a ``submitting`` one is looked up at the 3PL before anything is
sent again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from ledger import Ledger, dead_local_owners, local_pid_of
from tasks.pacing import prefect_server_configured

__all__ = ["CRASH_CHECK_SECONDS", "flow_run_of", "holding", "release_dead_claims"]

logger = logging.getLogger("lw3pl.leases")

CRASH_CHECK_SECONDS = 30.0
OVER = [StateType.CRASHED, StateType.FAILED, StateType.CANCELLED, StateType.COMPLETED]
_lock = threading.Lock()
_last_crash_check: dict[str, float] = {}
_holding: set[str] = set()  # owners of this process inside a leased() block


@contextmanager
def holding(owner: str) -> Iterator[None]:
    """Mark ``owner`` (of this process) as working while the block runs; its claims are not released."""
    with _lock:
        _holding.add(owner)
    try:
        yield
    finally:
        with _lock:
            _holding.discard(owner)


def release_dead_claims(ledger: Ledger) -> list[str]:
    """Release the claims of owners known dead; the references freed.

    Dead: a process gone from this host; an owner of this process no longer inside ``leased`` (it could not
    give its claims back, e.g. while the ledger database was away); an owner on another host whose flow run
    is over. A live process on this host keeps its claims whatever its flow run's state (it may still work).
    """
    owners = ledger.lease_owners()  # read once per claim (a range of the claim index)
    here = socket.gethostname()
    dead = dead_local_owners(owners, here)
    with _lock:
        dead += [o for o in owners if local_pid_of(o, here) == os.getpid() and o not in _holding]
    elsewhere = [o for o in owners if local_pid_of(o, here) is None]
    if elsewhere and prefect_server_configured() and _crash_check_due(ledger.account):
        dead += _owners_of_runs_over(elsewhere)
    freed = ledger.release_claims_of(dead)  # no transaction when nobody is dead
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


def _owners_of_runs_over(owners: list[str]) -> list[str]:
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
