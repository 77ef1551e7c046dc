"""The account handle and the runtime registry: what a task receives and how it finds its clients."""

from __future__ import annotations

from typing import Any, cast

import pytest
from prefect.utilities.hashing import hash_objects

from clients.errors import StopError
from lw3pl.core.settings import Settings
from tasks.context import Account, Runtime, registered_runtime, resolve_account, runtime_for


def _runtime(account: str) -> Runtime:
    """A runtime whose clients are never called (the registry only hands it out)."""
    unused = cast(Any, None)
    return Runtime(settings=Settings(lw3pl_account=account), linnworks=unused, threepl=unused, ledger=unused)


def test_a_registered_runtime_is_what_the_flow_resolves_and_its_tasks_find() -> None:
    """Registered under a block name: the flow's handle names its account and block; tasks get it back."""
    runtime = _runtime("north")
    with registered_runtime(runtime, "north-credentials") as registered:
        account = resolve_account("north-credentials")
        assert account == registered == Account(name="north", block="north-credentials")
        assert runtime_for(account) is runtime


def test_two_accounts_side_by_side_each_find_their_own_runtime() -> None:
    """Two registrations do not replace each other; leaving one restores what was there before."""
    north, south, other = _runtime("north"), _runtime("south"), _runtime("north")
    with registered_runtime(north, "n") as n_account, registered_runtime(south, "s") as s_account:
        assert runtime_for(n_account) is north
        assert runtime_for(s_account) is south
        with registered_runtime(other, "n"):
            assert runtime_for(n_account) is other
        assert runtime_for(n_account) is north


def test_a_handle_that_names_another_account_than_its_source_stops_the_task() -> None:
    """A task never works for another seller than the one its flow resolved."""
    with registered_runtime(_runtime("south"), "shared"), pytest.raises(StopError, match="'north'"):
        runtime_for(Account(name="north", block="shared"))


def test_the_handle_is_serialisable_and_part_of_prefects_cache_key() -> None:
    """It round-trips through JSON (a task parameter) and two accounts hash differently (cache keys)."""
    account = Account(name="north", block="north-credentials")
    assert Account.model_validate_json(account.model_dump_json()) == account
    assert hash(account) == hash(Account(name="north", block="north-credentials"))
    assert hash_objects(account) != hash_objects(Account(name="south", block="north-credentials"))


def test_the_heap_is_settled_once_per_process_before_the_first_runtime() -> None:
    """The objects alive at the first runtime are frozen out of the collector's walks and the young
    generation's threshold raised; a later runtime freezes nothing more (a frozen object is never
    collected, so a second freeze could keep garbage for the process's lifetime)."""
    import gc

    from tasks import context

    context._settle_heap()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert gc.get_threshold() == context._GC_THRESHOLDS
    retained = [[] for _ in range(10)]  # lists the collector tracks, alive at the second call
    context._settle_heap()
    assert gc.get_freeze_count() == frozen, "a second runtime froze the heap again"
    assert retained
