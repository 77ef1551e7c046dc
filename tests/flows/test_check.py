"""``lw3pl check`` against the demo's sandbox stack, and the identifier setup leaves for it (issue 8).

The demo's sandboxes and settings (``lw3pl.demo.demo_sandboxes``), the setup flow run once, a dozen paid
open orders at the fulfilment centre. The command reads its settings from the environment, as a new user's
shell would give them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr

from flows.check import check_configuration, check_settings
from flows.setup import setup_fulfilment_centre
from lw3pl.cli import main
from lw3pl.core.settings import Settings
from lw3pl.demo import demo_sandboxes
from tasks.check import CheckStatus
from tasks.context import build_runtime, registered_runtime

ORDERS = 12
SERVICES_ITEM = "shipping services of open orders"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The demo's stack after setup, with paid open orders at the fulfilment centre."""
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("LW3PL_DATA_DIR", str(tmp_path))
    with demo_sandboxes(seed=4) as stack:
        _setup(stack.settings)
        location = _location_id(stack)
        stack.linnworks.create_orders(ORDERS, location)
        stack.location_id = location
        yield stack


def _setup(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        with registered_runtime(runtime):
            setup_fulfilment_centre()
    finally:
        runtime.close()


def _location_id(stack: Any) -> str:
    name = stack.settings.fulfilment_centre_name
    return next(
        str(loc["StockLocationId"])
        for loc in stack.linnworks.account.locations.values()
        if loc["LocationName"] == name
    )


def _export_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Put ``settings`` in the environment the way a user sets them (JSON for maps, secrets in clear)."""
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, dict):
            value = json.dumps(value)
        monkeypatch.setenv(name.upper(), str(value))


def _services(stack: Any) -> Counter[str]:
    orders = stack.linnworks.orders(stack.location_id, state="open")
    return Counter(order["ShippingInfo"]["PostalServiceName"] for order in orders)


def test_check_without_the_service_map_names_unmapped_services_and_fails(
    demo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No SHIPPING_SERVICE_MAP: every open order's service is named with its count, and the exit code is 1."""
    unmapped = demo.settings.model_copy(update={"shipping_service_map": {}})
    _export_env(monkeypatch, unmapped)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "NOT READY" in out and SERVICES_ITEM in out
    row = next(row for row in check_settings(unmapped).rows if row.item == SERVICES_ITEM)
    assert row.status is CheckStatus.FAIL and "SHIPPING_SERVICE_MAP" in row.fix
    services = _services(demo)
    assert sum(services.values()) == ORDERS
    for service, count in services.items():
        assert f"{service!r} ({count} orders)" in row.detail


def test_check_with_the_demo_settings_passes(
    demo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's settings after setup: every row ok (or warn), and the exit code is 0."""
    _export_env(monkeypatch, demo.settings)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "ready: an export would send every eligible order" in out
    report = check_settings(demo.settings)
    assert report.ready
    statuses = {row.item: row.status for row in report.rows}
    assert statuses[SERVICES_ITEM] is CheckStatus.OK
    assert statuses["export identifier"] is CheckStatus.OK
    assert statuses["ledger (reachable, migrated)"] is CheckStatus.OK


def test_setup_gives_the_identifier_its_tag_as_name(demo: Any) -> None:
    """Point 2: the export identifier's Name is its Tag; one made with another Name is renamed by setup."""
    tag = demo.settings.export_identifier_tag
    identifier = demo.linnworks.account.identifier(tag)
    assert identifier["Name"] == identifier["Tag"] == tag
    identifier["Name"] = f"Sent to 3PL ({tag})"  # as an older version created it
    row = next(r for r in check_settings(demo.settings).rows if r.item == "export identifier")
    assert row.status is CheckStatus.WARN
    _setup(demo.settings)
    assert demo.linnworks.account.identifier(tag)["Name"] == tag


def test_check_with_nothing_configured_reports_instead_of_raising(tmp_path: Path) -> None:
    """No credentials and an unreachable ledger: FAIL rows that say what to set, not an exception."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        lw3pl_data_dir=tmp_path,
        ledger_url="postgresql://nobody@127.0.0.1:1/none",
    )
    report = check_settings(settings)
    statuses = {row.item: row.status for row in report.rows}
    assert not report.ready
    assert statuses["Linnworks credentials and session"] is CheckStatus.FAIL
    assert statuses["3PL (shipbob): credentials, channel, API"] is CheckStatus.FAIL
    assert statuses["ledger (reachable, migrated)"] is CheckStatus.FAIL
    assert "LINNWORKS_APPLICATION_ID" in report.table()


def test_check_counts_only_orders_an_export_would_send(demo: Any) -> None:
    """An order already tagged with the export identifier is not eligible, so its service is not counted."""
    tag = demo.settings.export_identifier_tag
    tagged = demo.linnworks.orders(demo.location_id, state="open")[0]
    runtime = build_runtime(demo.settings)
    try:
        runtime.linnworks.assign_order_identifier([UUID(tagged["OrderId"])], tag)
    finally:
        runtime.close()
    expected = _services(demo) - Counter([tagged["ShippingInfo"]["PostalServiceName"]])
    unmapped = demo.settings.model_copy(update={"shipping_service_map": {}})
    row = next(row for row in check_settings(unmapped).rows if row.item == SERVICES_ITEM)
    listed = ", ".join(f"{service!r} ({count} orders)" for service, count in sorted(expected.items()))
    assert row.detail == f"not in SHIPPING_SERVICE_MAP: {listed}"


def _run_check_flow(settings: Settings) -> Any:
    runtime = build_runtime(settings)
    try:
        with registered_runtime(runtime):
            return check_configuration(return_state=True)
    finally:
        runtime.close()


def test_the_check_configuration_flow_fails_only_when_not_ready(demo: Any) -> None:
    """The deployment's flow: completed with no FAIL for the demo's settings, failed naming the services row
    without the map."""
    ready = _run_check_flow(demo.settings)
    assert ready.is_completed() and ready.result()["FAIL"] == 0
    unmapped = _run_check_flow(demo.settings.model_copy(update={"shipping_service_map": {}}))
    assert unmapped.is_failed() and SERVICES_ITEM in str(unmapped.message)
