"""A dead worker's claims are freed at once, not after the lease: by owner name, or by a local pid gone."""

from __future__ import annotations

import os
import socket
import textwrap
from typing import Any, cast

from pytest_mock import MockerFixture

import tasks.context
from ledger import Ledger, State
from lw3pl.core.settings import Settings
from tasks.context import Account, Runtime, runtime_for

from .conftest import new_order, run_killed_worker

HOST = socket.gethostname()
# Claims with an owner named like tasks.context.run_owner ("host:pid:suffix"), then dies without releasing.
CLAIM_AND_DIE = textwrap.dedent(
    """
    import os, signal, socket, sys
    from ledger import Ledger, State
    book = Ledger(sys.argv[1], account=sys.argv[2])
    owner = f"{socket.gethostname()}:{os.getpid()}:0a1b2c3d"
    claimed = book.claim([State.PENDING], owner, limit=10, lease_seconds=600)
    print(owner, len(claimed), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _claim_three_and_die(book: Ledger, url: str, account: str) -> str:
    """Three pending orders, claimed by a worker process that is then SIGKILLed; its owner name."""
    book.register([new_order(f"order-{i}") for i in range(3)])
    dead_owner, count = run_killed_worker(CLAIM_AND_DIE, url, account).split()
    assert count == "3"
    assert book.claim([State.PENDING], "next-run", limit=10, lease_seconds=600) == []
    return dead_owner


def test_orders_of_a_killed_worker_are_claimable_at_once(migrated_url: str, account: str) -> None:
    """A worker SIGKILLed mid-batch holds its orders for 600 s; after the check, the next claim gets them."""
    with Ledger(migrated_url, account=account) as book:
        dead_owner = _claim_three_and_die(book, migrated_url, account)
        assert sorted(book.release_dead_local_owners()) == ["order-0", "order-1", "order-2"]
        claimed = book.claim([State.PENDING], "next-run", limit=10, lease_seconds=600)
        assert len(claimed) == 3
        assert dead_owner.startswith(f"{HOST}:")


def test_live_foreign_and_other_named_owners_keep_their_leases(book: Ledger) -> None:
    """This process, another host and a name without a pid are not known dead: nothing is freed."""
    book.register([new_order(r) for r in ("mine", "remote", "flow-run")])
    book.claim([State.PENDING], f"{HOST}:{os.getpid()}:abc", limit=1, lease_seconds=600, references=["mine"])
    book.claim([State.PENDING], "elsewhere:1:abc", limit=1, lease_seconds=600, references=["remote"])
    book.claim([State.PENDING], "3f2c-flow-run-id", limit=1, lease_seconds=600, references=["flow-run"])
    assert book.release_dead_local_owners() == []
    assert book.claim([State.PENDING], "next-run", limit=10, lease_seconds=600) == []


def test_release_claims_of_frees_only_the_named_owners(book: Ledger) -> None:
    """Any owner string works (e.g. a crashed flow run's id); states are left as they are."""
    book.register([new_order(r) for r in ("a", "b", "c")])
    book.claim([State.PENDING], "crashed-run", limit=2, lease_seconds=600, references=["a", "b"])
    book.claim([State.PENDING], "live-run", limit=1, lease_seconds=600, references=["c"])
    book.transition("a", State.SUBMITTING, expected_from=[State.PENDING], owner="crashed-run")
    assert sorted(book.release_claims_of(["crashed-run", "never-seen"])) == ["a", "b"]
    assert book.release_claims_of([]) == []
    records = book.get_many(["a", "b", "c"])
    assert [(records[r].state, records[r].lease_owner) for r in "abc"] == [
        (State.SUBMITTING, None),
        (State.PENDING, None),
        (State.PENDING, "live-run"),
    ]


def test_a_process_starting_work_for_the_account_frees_a_killed_workers_claims(
    migrated_url: str, account: str, mocker: MockerFixture
) -> None:
    """Freed when the runtime is built, before any claim: a run that fails before claiming frees them too."""
    with Ledger(migrated_url, account=account) as book:
        _claim_three_and_die(book, migrated_url, account)
        unused = cast(Any, None)
        runtime = Runtime(
            settings=Settings(lw3pl_account=account), linnworks=unused, threepl=unused, ledger=book
        )
        mocker.patch("tasks.context._settings", return_value=runtime.settings)
        mocker.patch("tasks.context.shared_pacer", return_value=None)
        mocker.patch("tasks.context.build_runtime", return_value=runtime)
        block = f"{account}-dead-claims"
        try:
            assert runtime_for(Account(name=account, block=block)) is runtime
        finally:
            tasks.context._runtimes.pop(block, None)  # its clients are stand-ins: forget, do not close
        assert len(book.claim([State.PENDING], "next-run", limit=10, lease_seconds=600)) == 3
