"""Flow tests: a session-wide Prefect test server, and sandboxes + runtime per test (SQLite and PostgreSQL).

``flow_env`` starts the Linnworks and ShipBob sandboxes on loopback (real HTTP), a warehouse on a manual
clock, a ledger (parametrized: SQLite file, PostgreSQL database), registers the runtime as the environment's
account, and runs the setup flow. Tests drive the warehouse clock with ``env.advance(hours=...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.settings import (
    PREFECT_CLIENT_MAX_RETRIES,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_RESULTS_LOCAL_STORAGE_PATH,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness
from pydantic import SecretStr

from flows.setup import setup_fulfilment_centre
from lw3pl.core.settings import Settings
from sandbox.linnworks import LinnworksSandbox
from sandbox.sftp import SftpSandbox
from sandbox.shipbob.server import ShipBobSandbox
from sandbox.warehouse import ManualClock, Warehouse, WarehouseConfig
from tasks.context import Account, Runtime, build_runtime, registered_runtime
from tests.conftest import PREFECT_STARTUP_TIMEOUT


@pytest.fixture(autouse=True, scope="session")
def prefect_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the session, heartbeats off, results in a temporary folder."""
    with (
        prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_TIMEOUT),
        temporary_settings(
            {
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                PREFECT_RESULTS_LOCAL_STORAGE_PATH: tmp_path_factory.mktemp("results"),
                # The test server's SQLite answers 503 while busy: ride out load spikes on a 2-core box.
                PREFECT_CLIENT_MAX_RETRIES: 12,
            }
        ),
    ):
        yield


@dataclass
class FlowEnv:
    """Sandboxes, warehouse, settings and runtime of one flow test."""

    linnworks: LinnworksSandbox
    shipbob: ShipBobSandbox
    warehouse: Warehouse
    clock: ManualClock
    settings: Settings
    runtime: Runtime
    location_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def create_orders(self, count: int, **options: Any) -> list[str]:
        """Open orders at the fulfilment centre (paid, unparked, unlocked unless told otherwise)."""
        return self.linnworks.create_orders(count, self.location_id, **options)

    def advance(self, hours: float) -> None:
        """Move the warehouse's time forward and let it work (ship, hold, backorder)."""
        self.clock.now += timedelta(hours=hours)
        self.warehouse.advance()

    @property
    def account(self) -> Account:
        """The handle the flows resolve: the runtime is registered as the environment's account."""
        return Account(name=self.settings.lw3pl_account)

    @property
    def location_uuid(self) -> UUID:
        return UUID(self.location_id)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A ledger URL: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_settings(
    linnworks: LinnworksSandbox, shipbob: ShipBobSandbox, ledger_url: str, **overrides: Any
) -> Settings:
    """Settings pointing at the sandboxes; time-scaled so client pacing does not slow the tests."""
    values: dict[str, Any] = {
        "linnworks_auth_url": linnworks.auth_url,
        "linnworks_application_id": linnworks.application_id,
        "linnworks_application_secret": SecretStr(linnworks.application_secret),
        "linnworks_installation_token": SecretStr(linnworks.installation_token),
        "threepl_adapter": "shipbob",
        "shipbob_api_url": shipbob.url,
        "shipbob_api_token": SecretStr(shipbob.token),
        "shipbob_channel_id": shipbob.channel_id,
        "ledger_url": ledger_url,
        "shipping_service_map": {"*": "Standard"},
        "partner_time_scale": 1000.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def warehouse_config() -> WarehouseConfig:
    """Every order ships whole, in one parcel, one hour after it reaches the warehouse (override per test)."""
    return WarehouseConfig.deterministic(ship_delay=timedelta(hours=1))


@contextmanager
def running_flow_env(
    ledger_url: str, config: WarehouseConfig, *, seed: int, **settings_overrides: Any
) -> Iterator[FlowEnv]:
    """Start the sandboxes, stock the warehouse, register the runtime and run the setup flow."""
    clock = ManualClock()
    warehouse = Warehouse(seed=seed, clock=clock, config=config)
    with (
        LinnworksSandbox(seed=seed, rate_limits=False) as linnworks,
        ShipBobSandbox(warehouse=warehouse, rate_limits=False, auto_advance=False) as shipbob,
    ):
        for item in linnworks.stock_items():
            warehouse.upsert_product(item["SKU"], title=item["SKU"])
            warehouse.set_on_hand(item["SKU"], 500)
        settings = make_settings(linnworks, shipbob, ledger_url, **settings_overrides)
        runtime = build_runtime(settings)
        env = FlowEnv(linnworks, shipbob, warehouse, clock, settings, runtime)
        try:
            with registered_runtime(runtime):
                setup_fulfilment_centre()
                env.location_id = next(
                    loc["StockLocationId"]
                    for loc in linnworks.account.locations.values()
                    if loc["LocationName"] == settings.fulfilment_centre_name
                )
                yield env
        finally:
            runtime.close()


@pytest.fixture
def flow_env(ledger_url: str, warehouse_config: WarehouseConfig) -> Iterator[FlowEnv]:
    """Sandboxes + runtime + a fulfilment centre set up by the setup flow."""
    with running_flow_env(ledger_url, warehouse_config, seed=7) as env:
        yield env


@contextmanager
def running_sftp_env(
    tmp_path: Path, **settings_overrides: Any
) -> Iterator[tuple[LinnworksSandbox, SftpSandbox, Runtime, str]]:
    """The SFTP warehouse's flow environment (SQLite ledger, deterministic warehouse on a manual clock):
    the Linnworks sandbox, the SFTP sandbox, the registered runtime and the fulfilment centre's id."""
    warehouse = Warehouse(seed=5, clock=ManualClock(), config=WarehouseConfig.deterministic())
    with (
        LinnworksSandbox(seed=5, rate_limits=False) as linnworks,
        SftpSandbox(warehouse=warehouse, root=tmp_path / "sftp") as sftp,
    ):
        for item in linnworks.stock_items():
            warehouse.upsert_product(item["SKU"], title=item["SKU"])
            warehouse.set_on_hand(item["SKU"], 500)
        values: dict[str, Any] = {
            "linnworks_auth_url": linnworks.auth_url,
            "linnworks_application_id": linnworks.application_id,
            "linnworks_application_secret": SecretStr(linnworks.application_secret),
            "linnworks_installation_token": SecretStr(linnworks.installation_token),
            "threepl_adapter": "sftp",
            "sftp_host": sftp.host,
            "sftp_port": sftp.port,
            "sftp_username": sftp.username,
            "sftp_password": SecretStr(sftp.password),
            "sftp_host_key": sftp.host_public_key,
            "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}",
            "shipping_service_map": {"*": "Standard"},
        }
        settings = Settings(**{**values, **settings_overrides})
        runtime = build_runtime(settings)
        try:
            with registered_runtime(runtime):
                setup_fulfilment_centre()
                location = next(
                    loc["StockLocationId"]
                    for loc in linnworks.account.locations.values()
                    if loc["LocationName"] == settings.fulfilment_centre_name
                )
                yield linnworks, sftp, runtime, location
        finally:
            runtime.close()
