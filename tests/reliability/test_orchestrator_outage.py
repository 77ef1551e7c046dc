"""Issue 13 item 2: the orchestrator goes away for 30 s in the middle of a run, then comes back.

Each test has its own ``prefect server`` (a fresh PostgreSQL database, tests/e2e/prefect_stack.py) with the
automations of automations.yaml, their notification a webhook to a loopback HTTP server. The server process
is stopped while a slowed partner reply is in flight in an ``lw3pl run`` process (a known slow point, not a
timer) and started again on the same port and database 30 s later. Nothing may be lost or sent twice.

* export: the run waits for the server (the shared Linnworks budget lives there) and finishes.
* reconcile: the same; every shipped order is processed once, its tracking written first.

Both runs finish, so no alert is due; the test asserts none was sent and that the server recorded each run
Completed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.events.schemas.automations import AutomationCore
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.export import export_orders
from ledger import State
from sandbox.shipbob import ORDERS_PATH
from tests.e2e.prefect_stack import PrefectServer, prefect_server
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.helpers import calls_naming
from tests.reliability.workers import finish, start_lw3pl_run

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 30.0
BLOCK_ID_PLACEHOLDER = "REPLACE-WITH-YOUR-NOTIFICATION-BLOCK-ID"


@dataclass
class AlertInbox:
    """What the notification webhook received: the alert automation's action, observed from outside."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def alert_inbox() -> Iterator[AlertInbox]:
    """A loopback HTTP server on a free port recording every JSON body POSTed to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AlertInbox(f"http://127.0.0.1:{server.server_address[1]}/alert", received)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def orchestrator(tmp_path: Path, alert_inbox: AlertInbox) -> Iterator[PrefectServer]:
    """This test's own Prefect server with the automations of automations.yaml, their notification going to
    ``alert_inbox``. Only the ``lw3pl run`` processes use it: flows run in this process (the setup, the runs
    before and after) use the session's server, so nothing of this process waits on the outage."""
    home = tmp_path / "prefect"
    home.mkdir()
    with prefect_server(home) as server:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            message = {"subject": "{{subject}}", "body": "{{body}}"}
            block = CustomWebhookNotificationBlock(
                name="lw3pl-alerts", url=alert_inbox.url, json_data=message
            )
            block_id = block.save("lw3pl-alerts", overwrite=True)
        _create_automations(server, str(block_id))
        yield server


def _create_automations(server: PrefectServer, block_id: str) -> None:
    """automations.yaml as a seller applies it (what ``prefect automation create`` sends), block id set."""
    text = (REPO / "automations.yaml").read_text().replace(BLOCK_ID_PLACEHOLDER, block_id)
    for automation in yaml.safe_load(text)["automations"]:
        spec = AutomationCore.model_validate(automation)
        response = httpx.post(f"{server.api_url}/automations/", json=spec.model_dump(mode="json"), timeout=60)
        assert response.status_code == 201, response.text


def _flow_runs(server: PrefectServer, flow_name: str) -> list[dict[str, Any]]:
    body = {"flows": {"name": {"any_": [flow_name]}}, "sort": "EXPECTED_START_TIME_ASC"}
    response = httpx.post(f"{server.api_url}/flow_runs/filter", json=body, timeout=60)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _away_when(server: PrefectServer, reached: Callable[[], bool]) -> float:
    """Stop the server once ``reached()`` (a slowed reply is in flight), start it again ``OUTAGE_SECONDS``
    later; returns the seconds it was unreachable (the restart's own time included)."""
    deadline = time.monotonic() + 120
    while not reached():
        assert time.monotonic() < deadline, "the run never reached the slowed call"
        time.sleep(0.02)
    stopped = time.monotonic()
    with server.away():
        time.sleep(OUTAGE_SECONDS)
    return time.monotonic() - stopped


def _no_problems(env: FlowEnv) -> list[str]:
    return check_all(
        env.linnworks, env.warehouse, env.runtime.ledger, env.location_id, env.settings.export_identifier_tag
    )


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_export_waits_for_the_orchestrator_and_finishes(
    orchestrator: PrefectServer, alert_inbox: AlertInbox, rel_env: FlowEnv
) -> None:
    """The server goes away while the first 3PL create is slowed; the run waits for it and completes."""
    references = rel_env.create_orders(4)
    rel_env.shipbob.inject("slow", method="POST", path=ORDERS_PATH, times=1, delay_seconds=3.0)
    # lease_seconds: the default, which outlives the outage (the tests' 60 s does not: tag moves are refused)
    settings = rel_env.settings.model_copy(update={"export_batch_size": 2, "lease_seconds": 600})
    run = start_lw3pl_run(settings, orchestrator, "export-orders")
    away = _away_when(orchestrator, lambda: rel_env.shipbob.count(method="POST", path=ORDERS_PATH) >= 1)
    finished = finish(run)
    print(f"export: the server was unreachable for {away:.0f} s; the run exited {finished.returncode}")
    assert finished.returncode == 0, finished.output[-4000:]
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert sorted(o.reference for o in rel_env.warehouse.list_orders()) == sorted(references)
    assert rel_env.shipbob.count(status=422, method="POST", path=ORDERS_PATH) == 0
    assert _no_problems(rel_env) == []
    assert [run["state_type"] for run in _flow_runs(orchestrator, "export-orders")] == ["COMPLETED"]
    assert alert_inbox.received == []  # a run that finished is no alert


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_reconcile_waits_for_the_orchestrator_and_finishes(
    orchestrator: PrefectServer, alert_inbox: AlertInbox, rel_env: FlowEnv
) -> None:
    """The server goes away while the first tracking write is slowed; the run waits for it and processes
    every order once, tracking written and read back before processing."""
    references = rel_env.create_orders(3)
    assert export_orders()["exported"] == len(references)
    rel_env.advance(hours=2)
    rel_env.linnworks.add_fault("slow", "Orders/SetOrderShippingInfo", count=1, delay_seconds=3.0)
    settings = rel_env.settings.model_copy(
        update={"lease_seconds": 600}
    )  # the default: longer than an outage
    run = start_lw3pl_run(settings, orchestrator, "reconcile-shipments")
    away = _away_when(orchestrator, lambda: bool(rel_env.linnworks.requests("Orders/SetOrderShippingInfo")))
    finished = finish(run)
    print(f"reconcile: server unreachable for {away:.0f} s; the run exited {finished.returncode}")
    assert finished.returncode == 0, finished.output[-4000:]
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.PROCESSED}
    for reference in references:  # one process call each (C3 in the checks: tracking read back first)
        assert calls_naming(rel_env, "Orders/ProcessOrdersInBatch", reference) == 1
    assert _no_problems(rel_env) == []
    assert [run["state_type"] for run in _flow_runs(orchestrator, "reconcile-shipments")] == ["COMPLETED"]
    assert alert_inbox.received == []
