"""Fixtures every test package may use, and how the suite runs in parallel (``make test``: pytest-xdist).

Under ``-n N --dist loadgroup`` each test goes to whichever worker is free, except tests in one
``xdist_group``: those run one after another on one worker. The end-to-end tests form one group, so their
shared Prefect stack starts once; a module whose last test reads what its earlier tests recorded marks itself
with a group of its own. xdist hands out the groups first (largest first), then the other tests in collection
order; the tests whose length is set by the clock rather than the CPU (:data:`LONG_FIRST`: the orchestrator
outages (one waits ~5 min for the lost-run alert), the two-minute soaks, the 429 storm) are moved to the
front, so they run beside the rest instead of after it (collected in order, they started last and kept CI
waiting minutes on one busy worker).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.shipbob import conformance as shipbob_conformance

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_postgres_database("lw3pl_test") as url:
        yield url


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """Create an empty PostgreSQL database named ``<prefix>_<random>``, yield its URL, drop it."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


PREFECT_STARTUP_TIMEOUT = 300
"""Seconds a Prefect test server may take to start: each xdist worker starts its own, all at once, and on a
loaded 2-core machine that took over 120 s."""
E2E_GROUP = "e2e"
E2E_DIR = Path(__file__).parent / "e2e"
LONG_FIRST = tuple(
    Path(__file__).parent / "reliability" / name
    for name in ("test_orchestrator_outage.py", "test_soak.py", "test_budget_storm.py")
)
"""Modules whose tests wait minutes on the clock whatever the machine: they start first, in this order."""


@pytest.fixture(autouse=True, scope="session")
def own_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """LW3PL_DATA_DIR in a temporary folder: what defaults to ``.lw3pl/`` in the checkout (the demo's
    ledger) is this worker's own, not shared with another worker or the developer's runs."""
    before = os.environ.get("LW3PL_DATA_DIR")
    os.environ["LW3PL_DATA_DIR"] = str(tmp_path_factory.mktemp("lw3pl-data"))
    yield
    if before is None:
        os.environ.pop("LW3PL_DATA_DIR", None)
    else:
        os.environ["LW3PL_DATA_DIR"] = before


@pytest.hookimpl(tryfirst=True)  # before xdist turns group marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.xdist_group(E2E_GROUP))
    # A stable sort: the long modules' tests first (in LONG_FIRST's order), every other test where it was.
    items.sort(key=lambda item: LONG_FIRST.index(item.path) if item.path in LONG_FIRST else len(LONG_FIRST))


def pytest_configure(config: pytest.Config) -> None:
    shipbob_conformance.start()  # journal every request the ShipBob sandboxes receive


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Fail the run if the adapter sent a request outside the spec. Under xdist each worker journals its
    # own requests and hands its findings to the controller, which reports them all.
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[shipbob_conformance.WORKER_OUTPUT] = shipbob_conformance.collect()
    else:
        shipbob_conformance.finish(session)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the controller receives a worker's findings
def pytest_testnodedown(node: Any, error: object) -> None:
    shipbob_conformance.add(getattr(node, "workeroutput", {}).get(shipbob_conformance.WORKER_OUTPUT, {}))
