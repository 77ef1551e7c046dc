"""``lw3pl sandbox``: documented options, the export lines a person needs, and ``add-orders`` over HTTP."""

from __future__ import annotations

import pytest

from lw3pl import cli
from sandbox.stack import ADMIN_URL_VARIABLE, FULFILMENT_CENTRE, SandboxStack


def test_sandbox_help_documents_orders_time_scale_seed_and_add_orders(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``lw3pl sandbox --help`` names every option a person drives the sandbox with."""
    with pytest.raises(SystemExit):
        cli.main(["sandbox", "--help"])
    out = capsys.readouterr().out
    for option in ("--orders N", "--time-scale X", "--seed S", "add-orders"):
        assert option in out, out


def test_describe_prints_the_service_map_adapter_and_admin_url() -> None:
    """The printed export lines carry a service map and the adapter, so sandbox orders are not quarantined."""
    with SandboxStack(time_scale=60, only=["linnworks", "shipbob"]) as stack:
        text = stack.describe()
        assert """export SHIPPING_SERVICE_MAP='{"*": "Standard"}'""" in text
        assert "export THREEPL_ADAPTER=shipbob" in text
        assert f"export {ADMIN_URL_VARIABLE}={stack.linnworks.data_url}/_admin" in text
        assert "export PARTNER_TIME_SCALE=60" in text


def test_add_orders_places_paid_open_orders_at_the_fulfilment_centre_of_a_running_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``lw3pl sandbox add-orders 3`` creates the location if missing and three orders there, over HTTP."""
    with SandboxStack(only=["linnworks"]) as stack:
        admin = f"{stack.linnworks.data_url}/_admin"
        assert cli.main(["sandbox", "add-orders", "3", "--admin-url", admin]) == 0
        assert cli.main(["sandbox", "add-orders", "2", "--admin-url", admin]) == 0
        [location] = [
            loc
            for loc in stack.linnworks.account.stock_locations()
            if loc["LocationName"] == FULFILMENT_CENTRE
        ]
        orders = stack.linnworks.orders(str(location["StockLocationId"]), "open")
    assert len(orders) == 5
    assert capsys.readouterr().out.count("orders placed") == 2


def test_add_orders_without_an_admin_url_says_where_to_find_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADMIN_URL_VARIABLE, raising=False)
    assert cli.main(["sandbox", "add-orders", "1"]) == 1
    assert ADMIN_URL_VARIABLE in capsys.readouterr().err
