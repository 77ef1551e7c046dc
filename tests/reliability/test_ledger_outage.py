"""Issue 13 item 3: the ledger database goes away in the middle of a run.

A dedicated test database (never the shared server) stops accepting connections and its sessions are ended
with ``pg_terminate_backend`` while a 3PL create is in flight. The run fails with the ledger's one message;
no order is quarantined; the order left ``submitting`` is looked up by the next run, never sent twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from flows.export import export_orders
from ledger import State
from sandbox.shipbob import ORDERS_PATH
from tests.conftest import POSTGRES_ADMIN_URL
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all

UNAVAILABLE = "is unavailable"


@contextmanager
def database_away(name: str) -> Iterator[None]:
    """Refuse new connections to ``name`` and end its sessions; let it back in when the block ends."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("ledger_url", ["postgres"], indirect=True)
def test_the_ledger_going_away_mid_run_fails_the_run_once_and_the_next_run_finishes(
    rel_env: FlowEnv,
) -> None:
    """The plug is pulled while the first create is in flight; the next run finishes every order once."""
    references = rel_env.create_orders(4)
    name = sa.make_url(rel_env.settings.resolved_ledger_url).database
    assert name is not None and name.startswith("lw3pl_test_")  # the test's own database
    rel_env.shipbob.inject("slow", method="POST", path=ORDERS_PATH, times=1, delay_seconds=1.5)
    gone, back = threading.Event(), threading.Event()

    def pull_the_plug() -> None:
        while rel_env.shipbob.count(method="POST", path=ORDERS_PATH) == 0 and not back.is_set():
            time.sleep(0.01)
        with database_away(name):
            gone.set()
            back.wait(timeout=120)

    plug = threading.Thread(target=pull_the_plug)
    plug.start()
    try:
        state = export_orders(return_state=True)
    finally:
        back.set()
        plug.join()
    assert gone.is_set() and state.is_failed()
    assert UNAVAILABLE in str(state.message) and "LEDGER_URL" in str(state.message), state.message
    records = rel_env.runtime.ledger.get_many(references)
    assert State.QUARANTINED not in {r.state for r in records.values()}
    # The failed run could not give its claims back; the next run releases them (this process no longer
    # works under that owner) instead of waiting LEASE_SECONDS.
    assert len(rel_env.runtime.ledger.lease_owners()) >= 1
    export_orders()
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert sorted(o.reference for o in rel_env.warehouse.list_orders()) == sorted(references)
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip
