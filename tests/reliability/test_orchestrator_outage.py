"""Issue 13 item 2: the orchestrator goes away for 30 s in the middle of a run, then comes back.

Each test has its own ``prefect server`` (a fresh PostgreSQL database, tests/e2e/prefect_stack.py) with the
automations of automations.yaml, their notification a webhook to a loopback HTTP server. The server process
is stopped while a slowed partner reply is in flight in an ``lw3pl run`` process (a known slow point, not a
timer) and started again on the same port and database 30 s later. Nothing may be lost or sent twice.

* export: the run waits for the server (the shared Linnworks budget lives there) and finishes.
* reconcile: the same; every shipped order is processed once, its tracking written first. Beside it a
  ``check-configuration`` run (read only, so it touches none of the orders) is SIGKILLed while the server is
  away: it can never report its end, so automations.yaml's lw3pl-run-lost must mark it Crashed once its
  heartbeats have been missing for ``within``, and lw3pl-run-failed must alert, naming it.

A run that finished is no alert: the test asserts none was sent for it and that the server recorded it
Completed.

Why ``within`` is 310 s here (600 s in automations.yaml) and no shorter: Prefect links a state-change event
to the run's previous one (``follows``) when the two are less than 5 minutes apart, and a restarted server's
trigger service has forgotten every event it saw before the restart (its causal ordering is kept in memory),
so it holds such an event for 15 minutes before evaluating it. A Crashed state set less than 5 minutes after
the run's Running state would therefore alert 15 minutes late; with ``within`` above 5 minutes it follows
nothing and alerts at once (prefect/server/models/events.py ``_timing_is_tight``,
prefect/server/events/ordering/memory.py ``wait_for_leader``; Prefect 3.9).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
LOST_RUN_WITHIN = 310
"""lw3pl-run-lost's ``within`` on the test servers: the shortest that keeps the Crashed event unlinked to the
run's Running state (5 minutes apart, see the module docstring) plus 10 s for the heartbeat being sent a
moment before the Running state is recorded."""
ALERT_MARGIN_SECONDS = 60.0
"""How late after last heartbeat + ``within`` the alert may come: the proactive trigger is evaluated every 5 s
(PREFECT_SERVER_EVENTS_PROACTIVE_GRANULARITY), then the Crashed state, its event, the failure trigger and the
webhook call take moments; the rest is slack for a loaded 2-core machine."""


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
    """automations.yaml as a seller applies it (what ``prefect automation create`` sends), block id set and
    lw3pl-run-lost's ``within`` shortened to ``LOST_RUN_WITHIN``."""
    text = (REPO / "automations.yaml").read_text().replace(BLOCK_ID_PLACEHOLDER, block_id)
    for automation in yaml.safe_load(text)["automations"]:
        if automation["name"] == "lw3pl-run-lost":
            automation["trigger"]["within"] = LOST_RUN_WITHIN
        spec = AutomationCore.model_validate(automation)
        response = httpx.post(f"{server.api_url}/automations/", json=spec.model_dump(mode="json"), timeout=60)
        assert response.status_code == 201, response.text


def _flow_runs(server: PrefectServer, flow_name: str) -> list[dict[str, Any]]:
    body = {"flows": {"name": {"any_": [flow_name]}}, "sort": "EXPECTED_START_TIME_ASC"}
    response = httpx.post(f"{server.api_url}/flow_runs/filter", json=body, timeout=60)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _wait_until(reached: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not reached():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _away_when(
    server: PrefectServer, reached: Callable[[], bool], meanwhile: Callable[[], None] = lambda: None
) -> float:
    """Stop the server once ``reached()`` (a slowed reply is in flight), call ``meanwhile()``, start it again
    ``OUTAGE_SECONDS`` later; returns the seconds it was unreachable (the restart's own time included)."""
    _wait_until(reached, "the run never reached the slowed call")
    stopped = time.monotonic()
    with server.away():
        meanwhile()
        time.sleep(OUTAGE_SECONDS)
    return time.monotonic() - stopped


def _last_heartbeat(server: PrefectServer, flow_run_id: str) -> datetime | None:
    """When the server last recorded a heartbeat of the flow run, if it did."""
    body = {
        "filter": {
            "event": {"name": ["prefect.flow-run.heartbeat"]},
            "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
        },
        "limit": 50,
    }
    response = httpx.post(f"{server.api_url}/events/filter", json=body, timeout=60)
    response.raise_for_status()
    times = [datetime.fromisoformat(event["occurred"]) for event in response.json()["events"]]
    return max(times, default=None)


def _wait_for_alert(inbox: AlertInbox, until: datetime) -> None:
    while not inbox.received and datetime.now(UTC) < until:
        time.sleep(0.5)


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


@pytest.mark.timeout(900)  # the file's 600 s plus the wait for the alert (LOST_RUN_WITHIN + margin)
@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_reconcile_waits_for_the_orchestrator_and_a_run_killed_meanwhile_is_alerted(
    orchestrator: PrefectServer, alert_inbox: AlertInbox, rel_env: FlowEnv
) -> None:
    """The server goes away while the first tracking write is slowed; the run waits for it and processes
    every order once, tracking written and read back before processing. A check-configuration run killed
    while the server is away ends Crashed on the server and the failure webhook names it."""
    references = rel_env.create_orders(3)
    assert export_orders()["exported"] == len(references)
    rel_env.advance(hours=2)
    # the run to kill: held in a slowed read (it would time out at 30 s), then frozen so that it neither
    # finishes nor moves on while the reconcile reaches its own slow point; killed during the outage
    identifier_reads = len(rel_env.linnworks.requests("OpenOrders/GetIdentifiers"))  # the setup's
    rel_env.linnworks.add_fault("slow", "OpenOrders/GetIdentifiers", count=1, delay_seconds=20.0)
    doomed = start_lw3pl_run(rel_env.settings, orchestrator, "check-configuration")
    _wait_until(
        lambda: len(rel_env.linnworks.requests("OpenOrders/GetIdentifiers")) > identifier_reads,
        "the check never read the identifiers",
    )
    [doomed_run] = _flow_runs(orchestrator, "check-configuration")
    _wait_until(lambda: _last_heartbeat(orchestrator, doomed_run["id"]) is not None, "no heartbeat", 60)
    os.kill(doomed.pid, signal.SIGSTOP)

    rel_env.linnworks.add_fault("slow", "Orders/SetOrderShippingInfo", count=1, delay_seconds=3.0)
    settings = rel_env.settings.model_copy(
        update={"lease_seconds": 600}
    )  # the default: longer than an outage
    run = start_lw3pl_run(settings, orchestrator, "reconcile-shipments")
    away = _away_when(
        orchestrator,
        lambda: bool(rel_env.linnworks.requests("Orders/SetOrderShippingInfo")),
        meanwhile=lambda: os.kill(doomed.pid, signal.SIGKILL),
    )
    finished = finish(run)
    print(f"reconcile: server unreachable for {away:.0f} s; the run exited {finished.returncode}")
    assert finished.returncode == 0, finished.output[-4000:]
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.PROCESSED}
    for reference in references:  # one process call each (C3 in the checks: tracking read back first)
        assert calls_naming(rel_env, "Orders/ProcessOrdersInBatch", reference) == 1
    assert _no_problems(rel_env) == []
    assert [run["state_type"] for run in _flow_runs(orchestrator, "reconcile-shipments")] == ["COMPLETED"]

    assert finish(doomed).returncode == -signal.SIGKILL
    last_heartbeat = _last_heartbeat(orchestrator, doomed_run["id"])
    assert last_heartbeat is not None
    bound = last_heartbeat.timestamp() + LOST_RUN_WITHIN + ALERT_MARGIN_SECONDS
    _wait_for_alert(alert_inbox, datetime.fromtimestamp(bound, UTC))
    late = datetime.now(UTC).timestamp() - last_heartbeat.timestamp() - LOST_RUN_WITHIN
    print(f"the killed run's alert came {late:.0f} s after its last heartbeat + within ({LOST_RUN_WITHIN} s)")
    assert [run["state_name"] for run in _flow_runs(orchestrator, "check-configuration")] == ["Crashed"]
    assert alert_inbox.received == [  # one alert, for the killed run only
        {
            "subject": "lw3pl: check-configuration Crashed",
            "body": f"{doomed_run['name']}: Its heartbeats stopped before it ended: its process died or lost "
            "the Prefect server.",
        }
    ]
