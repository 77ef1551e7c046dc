"""Fixtures for the SFTP adapter tests: a deterministic warehouse, the SFTP sandbox, an adapter on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from clients.sftp import SftpAdapter, SftpConfig
from clients.threepl import Address, FulfilmentOrder, OrderLine
from sandbox.sftp import SftpSandbox
from sandbox.warehouse import Warehouse, WarehouseConfig

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Clock:
    """A settable UTC clock shared by the warehouse, the clerk and the adapter."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def warehouse(clock: Clock) -> Warehouse:
    """Five SKUs with 50 units each; every order ships whole, in one parcel, 30 minutes after arrival."""
    wh = Warehouse(seed=7, clock=clock, config=WarehouseConfig.deterministic())
    wh.seed_catalogue(5, on_hand=(50, 50))
    return wh


@pytest.fixture
def sandbox(warehouse: Warehouse) -> Iterator[SftpSandbox]:
    with SftpSandbox(warehouse=warehouse, password="sandbox-secret-CANARY-51") as box:
        yield box


def config_for(box: SftpSandbox, **overrides: object) -> SftpConfig:
    """Adapter settings that log in to ``box``."""
    values: dict[str, object] = {
        "host": box.host,
        "port": box.port,
        "username": box.username,
        "password": SecretStr(box.password),
        "host_public_key": box.host_public_key,
        "call_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return SftpConfig.model_validate(values)


@pytest.fixture
def make_adapter(sandbox: SftpSandbox, clock: Clock) -> Iterator[Callable[..., SftpAdapter]]:
    made: list[SftpAdapter] = []

    def make(**overrides: object) -> SftpAdapter:
        max_rows = int(str(overrides.pop("max_rows_per_poll", 5000)))
        adapter = SftpAdapter(config_for(sandbox, **overrides), clock=clock, max_rows_per_poll=max_rows)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def adapter(make_adapter: Callable[..., SftpAdapter]) -> SftpAdapter:
    return make_adapter()


def make_order(
    reference: str, *, name: str = "Ada Lovelace", sku: str = "SKU-0001", quantity: int = 2
) -> FulfilmentOrder:
    """A one-line order for ``reference``."""
    return FulfilmentOrder(
        reference=reference,
        display_ref=f"#{reference}",
        ship_to=Address(
            name=name, line1="1 High Street", city="London", postcode="N1 1AA", country_code="GB"
        ),
        service_code="Standard",
        lines=[OrderLine(line_ref=f"{reference}-L1", sku=sku, quantity=quantity, title="Widget")],
    )
