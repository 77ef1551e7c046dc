"""The ShipBob adapter against the sandbox over real sockets: faults, pacing and secrets."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from clients.errors import AuthenticationError, OutcomeUnknownError
from clients.shipbob import ApiVersionError, RetryPolicy, ShipBobAdapter, ShipBobConfig
from clients.threepl import SubmitOutcome
from sandbox.shipbob import ORDERS_PATH, VERSION, ShipBobSandbox
from sandbox.warehouse import Warehouse, WarehouseConfig
from tests.shipbob.helpers import make_order


class SharedTime:
    """One fake monotonic clock for the sandbox's window and the adapter's pacer; sleeping moves it."""

    def __init__(self) -> None:
        self.now = 5000.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def warehouse() -> Warehouse:
    stock = Warehouse(seed=4, config=WarehouseConfig.deterministic())
    stock.seed_catalogue(3, on_hand=(10_000, 10_000))
    stock.upsert_product("SKU-1", title="Widget")
    stock.set_on_hand("SKU-1", 10_000)
    return stock


@pytest.fixture
def sandbox(warehouse: Warehouse) -> Iterator[ShipBobSandbox]:
    with ShipBobSandbox(warehouse=warehouse, rate_limits=False) as running:
        yield running


def adapter_for(sandbox: ShipBobSandbox, *, timeout: float = 5.0, token: str | None = None) -> ShipBobAdapter:
    config = ShipBobConfig(
        sandbox.url,
        SecretStr(token or sandbox.token),
        sandbox.channel_id,
        pace=False,
        timeout=timeout,
        retry=RetryPolicy(wait=False),
    )
    return ShipBobAdapter(config)


@pytest.mark.parametrize("fault", ["drop", "accept_then_drop"])
def test_lost_create_is_resolved_by_lookup(sandbox: ShipBobSandbox, fault: str) -> None:
    """A create cut off before or after ShipBob acted raises OutcomeUnknownError; the lookup tells which."""
    adapter = adapter_for(sandbox)
    sandbox.inject(fault, method="POST", path=ORDERS_PATH)
    with pytest.raises(OutcomeUnknownError):
        adapter.submit_order(make_order("LOST-1"))
    found = adapter.find_order("LOST-1")
    assert (found is not None) is (fault == "accept_then_drop")
    if found is None:
        assert adapter.submit_order(make_order("LOST-1")).outcome is SubmitOutcome.ACCEPTED
    assert len(sandbox.warehouse.list_orders(references=["LOST-1"])) == 1
    assert sandbox.count(method="POST", path=ORDERS_PATH) == 1 + (fault == "drop")
    adapter.close()


def test_slow_create_reply_is_an_unknown_outcome(sandbox: ShipBobSandbox) -> None:
    """A create whose reply comes after the read timeout is not repeated; the order exists once."""
    adapter = adapter_for(sandbox, timeout=0.2)
    sandbox.inject("slow", method="POST", path=ORDERS_PATH, delay_seconds=0.6)
    with pytest.raises(OutcomeUnknownError):
        adapter.submit_order(make_order("SLOW-1"))
    assert adapter.find_order("SLOW-1") is not None
    assert sandbox.count(method="POST", path=ORDERS_PATH) == 1
    adapter.close()


def test_reads_ride_out_injected_faults(sandbox: ShipBobSandbox) -> None:
    """A lookup survives a 429, a 503, an HTML page and a dropped connection in a row."""
    adapter = adapter_for(sandbox)
    assert adapter.submit_order(make_order("READ-1")).outcome is SubmitOutcome.ACCEPTED
    for kind in ("429", "503", "html", "drop"):
        sandbox.inject(kind, method="GET", path=ORDERS_PATH)
    adapter_with_attempts = ShipBobAdapter(
        ShipBobConfig(
            sandbox.url,
            SecretStr(sandbox.token),
            sandbox.channel_id,
            pace=False,
            retry=RetryPolicy(max_attempts=6, wait=False),
        )
    )
    assert adapter_with_attempts.find_order("READ-1") is not None
    adapter.close()
    adapter_with_attempts.close()


def test_paced_adapter_never_trips_the_window(warehouse: Warehouse) -> None:
    """With the adapter's pacer and the sandbox's window on one clock, 320 calls draw no 429."""
    shared = SharedTime()
    with ShipBobSandbox(warehouse=warehouse, monotonic=shared.clock) as sandbox:
        config = ShipBobConfig(
            sandbox.url, SecretStr(sandbox.token), sandbox.channel_id, retry=RetryPolicy(max_attempts=1)
        )
        adapter = ShipBobAdapter(config, sleep=shared.sleep, monotonic=shared.clock)
        for number in range(320):
            adapter.find_order(f"NONE-{number}")
        adapter.close()
        assert sandbox.count(429) == 0 and sandbox.count(200) == 320
    assert shared.now - 5000.0 >= 120.0  # two full minutes were needed, as 150/minute implies


def test_token_stays_out_of_errors_logs_and_repr(
    sandbox: ShipBobSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A rejected token raises AuthenticationError whose text, the logs and the repr never show it."""
    canary = "sbpat_canary_0123456789abcdef"
    adapter = adapter_for(sandbox, token=canary)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as caught:
        adapter.find_order("ANY")
    assert canary not in str(caught.value) and canary not in repr(adapter)
    assert canary not in caplog.text and all(canary not in str(record.__dict__) for record in caplog.records)
    adapter.close()


def test_a_version_shipbob_does_not_serve_stops_the_run(sandbox: ShipBobSandbox) -> None:
    """Every path 404s under an unknown version: one StopError naming the setting and the page, no retry."""
    config = ShipBobConfig(
        sandbox.url, SecretStr(sandbox.token), sandbox.channel_id, api_version="2019-01", pace=False
    )
    adapter = ShipBobAdapter(config)
    with pytest.raises(ApiVersionError) as caught:
        adapter.poll_events(None)
    message = str(caught.value)
    assert "SHIPBOB_API_VERSION" in message and "developer.shipbob.com/versioning" in message
    assert "'2019-01'" in message
    assert sandbox.count(path="/2019-01/order") == 1, "a wrong version is not retried"
    adapter.close()


def test_the_adapter_speaks_only_its_version(sandbox: ShipBobSandbox) -> None:
    """Orders, polls, cancels, products and stock all go to /2026-01/...; nothing to a retired version."""
    adapter = adapter_for(sandbox)
    adapter.submit_order(make_order("V-1"))
    adapter.poll_events(None)
    adapter.cancel_order("V-1", "test")
    adapter.fetch_inventory()
    adapter.close()
    paths = {record.path for record in sandbox.requests}
    assert paths and all(path.startswith(f"/{VERSION}/") for path in paths), paths
