"""Issue 13 item 9: credentials that stop working mid-run.

A revoked ShipBob token, or a Linnworks installation revoked (its session ended and no new one granted),
fails the run once with a message naming the setting; no order is quarantined, nothing is half-written, and
once the credential is good again the next run finishes every order once. A revoked Linnworks session alone
is no failure: the client opens a new one and the run goes on.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from flows.export import export_orders
from ledger import State
from sandbox.shipbob import ORDERS_PATH
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all

pytestmark = pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)


@contextmanager
def after_the_first_create(env: FlowEnv, revoke: Callable[[], None]) -> Iterator[threading.Event]:
    """Call ``revoke`` once the 3PL has received the run's first create (which is slow to answer)."""
    env.shipbob.inject("slow", method="POST", path=ORDERS_PATH, times=1, delay_seconds=1.0)
    done, stop = threading.Event(), threading.Event()

    def watch() -> None:
        while env.shipbob.count(method="POST", path=ORDERS_PATH) == 0 and not stop.is_set():
            time.sleep(0.01)
        if not stop.is_set():
            revoke()
            done.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield done
    finally:
        stop.set()
        watcher.join()


def _finished_once(env: FlowEnv, references: list[str]) -> None:
    records = env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert sorted(o.reference for o in env.warehouse.list_orders()) == sorted(references)
    assert env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    ) == []  # fmt: skip


def test_a_shipbob_token_revoked_mid_run_stops_the_run_naming_the_setting(rel_env: FlowEnv) -> None:
    """After the first create, the token is revoked: the run fails once naming SHIPBOB_API_TOKEN."""
    references = rel_env.create_orders(4)
    revoked: list[str] = []
    with after_the_first_create(rel_env, lambda: revoked.append(rel_env.shipbob.revoke_token())) as done:
        state = export_orders(return_state=True)
    assert done.is_set() and state.is_failed()
    assert "SHIPBOB_API_TOKEN" in str(state.message), state.message
    assert rel_env.runtime.ledger.quarantined() == []
    assert rel_env.shipbob.count(status=401) >= 1
    rel_env.shipbob.token = revoked[0]  # the seller puts a working token in the setting
    export_orders()
    _finished_once(rel_env, references)


def test_a_linnworks_installation_revoked_mid_run_stops_the_run_naming_the_setting(rel_env: FlowEnv) -> None:
    """After the first create the app's installation is revoked (session ended, no new one): the run fails
    once naming LINNWORKS_INSTALLATION_TOKEN; the orders sent and not yet tagged are tagged next run."""
    references = rel_env.create_orders(4)
    installed = rel_env.linnworks.installation_token

    def uninstall() -> None:
        with rel_env.linnworks._lock:
            rel_env.linnworks.installation_token = str(uuid.uuid4())
        rel_env.linnworks.revoke_sessions()

    with after_the_first_create(rel_env, uninstall) as done:
        state = export_orders(return_state=True)
    assert done.is_set() and state.is_failed()
    assert "LINNWORKS_INSTALLATION_TOKEN" in str(state.message), state.message
    assert rel_env.runtime.ledger.quarantined() == []
    with rel_env.linnworks._lock:
        rel_env.linnworks.installation_token = installed  # reinstalled with the token in the setting
    export_orders()
    _finished_once(rel_env, references)


def test_a_revoked_linnworks_session_alone_is_renewed_and_the_run_goes_on(rel_env: FlowEnv) -> None:
    """The session is revoked mid-run but the installation stands: a new session, and the run succeeds."""
    references = rel_env.create_orders(4)
    rel_env.linnworks.add_fault("revoke_session", "*", count=1)  # the next call's session is ended
    assert export_orders()["exported"] == 4
    assert any(call.get("fault") == "revoke_session" for call in rel_env.linnworks.requests())
    _finished_once(rel_env, references)
