"""Each mutating call is committed before it returns: a process killed right after still left it behind."""

from __future__ import annotations

import textwrap

from ledger import Ledger, State

from .conftest import FakeClock, new_order, run_killed_worker

KILLED_AFTER_TRANSITION = textwrap.dedent(
    """
    import os, signal, sys
    from ledger import Ledger, State
    book = Ledger(sys.argv[1], account=sys.argv[2])
    [order] = book.claim([State.PENDING], "doomed", limit=1, lease_seconds=600)
    book.transition(
        order.reference, State.SUBMITTING, expected_from=[State.PENDING], owner="doomed",
        count_attempt=True,
    )
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit: as if the worker died mid-call
    """
)


def test_state_change_survives_kill_9_of_the_worker(
    migrated_url: str, account: str, clock: FakeClock
) -> None:
    """A worker killed right after transition() returned leaves the order in submitting for the next run."""
    with Ledger(migrated_url, account=account, clock=clock) as book:
        book.register([new_order("r")])
        run_killed_worker(KILLED_AFTER_TRANSITION, migrated_url, account)
        record = book.get("r")
        assert record is not None
        assert (record.state, record.attempts, record.lease_owner) == (State.SUBMITTING, 1, "doomed")
