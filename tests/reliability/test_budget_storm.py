"""Issue 13 item 5 (RELIABILITY scenario 7, measured): three workers of one account, one Linnworks budget,
a storm of 429s in every Retry-After form.

Three ``lw3pl run export-orders`` processes share the account's budget through the global concurrency limits
of the test's own Prefect server (tasks/pacing.py). The Linnworks sandbox enforces its published per-method
limits on a time-scaled minute and, one after another while the workers run, answers 429 with
``Retry-After`` in seconds, as an HTTP date, missing, garbage and huge. Everything is measured from the
sandbox's request log: the combined calls of each method in every rolling (scaled) minute, and the calls of
the refused method inside each hold.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.rates import most_in_window
from flows.export import export_orders
from ledger import State
from sandbox.linnworks import LinnworksSandbox
from tasks.pacing import block_size
from tests.e2e.prefect_stack import PrefectServer, prefect_server
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all
from tests.reliability.workers import finish, start_lw3pl_run

TIME_SCALE = 12.0  # a Linnworks minute lasts 5 s
MINUTE = 60.0 / TIME_SCALE
WORKERS = 3
ORDERS = 300
METHOD = "Orders/GetExtendedProperties"  # one call per order (write_remote_id_property)
CAP = 120.0  # RetryPolicy.max_retry_after, in partner seconds
CALLS_BETWEEN_STORMS = 30


@dataclass(frozen=True)
class Storm:
    """One injected 429: how its Retry-After is written and the partner seconds it asks for."""

    style: str
    seconds: int

    @property
    def honoured(self) -> float:
        """Partner seconds a client must wait (capped); missing or garbage: the client's own back-off."""
        return min(self.seconds, CAP) if self.style in {"seconds", "http_date"} else 0.0


STORMS = [
    Storm("seconds", 24),
    Storm("http_date", 24),
    Storm("missing", 0),
    Storm("garbage", 0),
    Storm("seconds", 86_400),  # huge: obeyed up to the cap, not literally
]


@pytest.fixture
def orchestrator(tmp_path: Path) -> Iterator[PrefectServer]:
    home = tmp_path / "prefect"
    home.mkdir()
    with prefect_server(home) as server:
        yield server


def _seconds(call: dict[str, Any]) -> float:
    return datetime.fromisoformat(call["time"]).timestamp()


def _storm_while_running(linnworks: LinnworksSandbox, done: threading.Event) -> None:
    """Inject the storms one at a time, each after the workers made some calls since the last one fired."""
    for storm in STORMS:
        served = len(linnworks.requests(METHOD))
        while len(linnworks.requests(METHOD)) < served + CALLS_BETWEEN_STORMS:
            if done.wait(0.05):
                return
        linnworks.add_fault(
            "rate_limit", METHOD, count=1, retry_after=storm.style, retry_after_seconds=storm.seconds
        )


def _calls_by_method(calls: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_method: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        if call["method"]:
            by_method.setdefault(call["method"], []).append(call)
    return by_method


def _calls_inside_holds(calls: list[dict[str, Any]], refusals: list[tuple[Storm, float]]) -> list[int]:
    """For each honoured 429: the calls of the method (any worker) after it and before its hold ended."""
    times = [_seconds(call) for call in calls]
    return [
        sum(1 for moment in times if at < moment < at + storm.honoured / TIME_SCALE)
        for storm, at in refusals
        if storm.honoured
    ]


def _refusals(calls: list[dict[str, Any]]) -> list[tuple[Storm, float]]:
    """The injected 429s in the order they fired (the storms were added one at a time, in STORMS' order)."""
    injected = [call for call in calls if call["status"] == 429 and call["reason"] == "injected 429"]
    return [(storm, _seconds(call)) for storm, call in zip(STORMS, injected, strict=False)]


@pytest.mark.postgres
@pytest.mark.timeout(600)
@pytest.mark.parametrize("ledger_url", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "partner_time_scale": TIME_SCALE,
            "write_remote_id_property": True,
            "linnworks_pacer": "prefect",
        }
    ],
)
def test_three_workers_share_one_budget_through_a_429_storm(
    orchestrator: PrefectServer, rel_env: FlowEnv
) -> None:
    """Three export workers, 300 orders, five 429s: no rolling minute over a method's published limit, the
    sandbox never refuses on its own, a hold keeps every worker back, and every order is sent once."""
    references = rel_env.create_orders(ORDERS)
    linnworks = rel_env.linnworks
    linnworks.configure(time_scale=TIME_SCALE, rate_limits=True)
    linnworks.clear_requests()
    done = threading.Event()
    storms = threading.Thread(target=_storm_while_running, args=(linnworks, done))
    storms.start()
    started = time.monotonic()
    # The default lease (600 s): a batch held back through the holds outlives the tests' 60 s.
    settings = rel_env.settings.model_copy(update={"lease_seconds": 600})
    workers = [start_lw3pl_run(settings, orchestrator, "export-orders") for _ in range(WORKERS)]
    finished = [finish(worker) for worker in workers]
    elapsed = time.monotonic() - started
    done.set()
    storms.join()
    calls = linnworks.requests()
    linnworks.configure(rate_limits=False)
    by_method = _calls_by_method(calls)
    busiest = {
        method: most_in_window(map(_seconds, method_calls), MINUTE)
        for method, method_calls in by_method.items()
    }
    refusals = _refusals(by_method[METHOD])
    inside = _calls_inside_holds(by_method[METHOD], refusals)
    print(f"{WORKERS} workers, {ORDERS} orders, {len(calls)} Linnworks calls in {elapsed:.1f} s (time scale "
          f"{TIME_SCALE:g}); busiest rolling minute per method (limit 250): {busiest}; "
          f"calls inside each honoured hold: {inside} (bound {2 * block_size(250) * WORKERS})")  # fmt: skip

    assert [f.returncode for f in finished] == [0] * WORKERS, [f.output[-2000:] for f in finished]
    limits = {method: linnworks.spec.by_name(method).rate_limit for method in by_method}
    assert all(busiest[method] <= limits[method] for method in by_method), (busiest, limits)
    natural = [c for c in calls if c["status"] == 429 and c["reason"] != "injected 429"]
    assert natural == [], natural  # the sandbox never had to refuse a call on its own
    assert [storm for storm, _ in refusals] == STORMS  # every Retry-After form was answered
    # Another worker spends at most the tokens it already held (two blocks) inside a hold.
    assert all(count <= 2 * block_size(250) * WORKERS for count in inside), inside
    assert "Traceback" not in "".join(f.output for f in finished)
    records = rel_env.runtime.ledger.get_many(references)
    assert State.QUARANTINED not in {r.state for r in records.values()}
    # Each 429 is retried after its hold, so the workers sent and tagged every order themselves.
    assert export_orders()["exported"] == 0
    records = rel_env.runtime.ledger.get_many(references)
    assert {records[ref].state for ref in references} == {State.EXPORTED}
    assert sorted(o.reference for o in rel_env.warehouse.list_orders()) == sorted(references)
    assert check_all(
        rel_env.linnworks, rel_env.warehouse, rel_env.runtime.ledger, rel_env.location_id,
        rel_env.settings.export_identifier_tag,
    ) == []  # fmt: skip
