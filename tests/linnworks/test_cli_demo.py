"""The lw3pl command line and demo v0: exit codes, the demo table, setup steps that are idempotent."""

from __future__ import annotations

import io

import pytest
from pytest_mock import MockerFixture

from clients.errors import StopError
from clients.linnworks import LinnworksClient
from lw3pl import cli
from lw3pl.demo import ensure_export_identifier, ensure_fulfilment_centre, run_demo
from sandbox.linnworks import LinnworksSandbox


def test_demo_lists_open_orders_of_the_fulfilment_centre() -> None:
    """``lw3pl demo`` sets up the FC and prints its seeded open orders as a table, exit 0."""
    out = io.StringIO()
    assert run_demo(out, order_count=4) == 0
    text = out.getvalue()
    assert "Fulfilment centre: 3PL Warehouse" in text
    assert "Export identifier: SENT_TO_3PL" in text
    assert "4 open orders at 3PL Warehouse" in text
    assert "UNPAID" in text and "yes" in text, "the unpaid and the parked order are listed"
    assert "@" not in text, "no customer e-mail addresses in the table"


def test_cli_demo_exit_code(mocker: MockerFixture) -> None:
    """``lw3pl demo`` returns run_demo's exit code."""
    mocker.patch("lw3pl.demo.run_demo", return_value=0)
    assert cli.main(["demo"]) == 0


def test_cli_stop_error_is_one_paragraph_exit_1(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A StopError prints one clear paragraph (no traceback) and exits 1."""
    mocker.patch("lw3pl.demo.run_demo", side_effect=StopError("Check LINNWORKS_AUTH_URL"))
    assert cli.main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "LINNWORKS_AUTH_URL" in err and "Traceback" not in err
    assert err.count("\n\n") == 0


def test_cli_run_is_not_yet_available(capsys: pytest.CaptureFixture[str]) -> None:
    """``lw3pl run FLOW`` says it is not yet available and exits 2."""
    assert cli.main(["run", "export-orders"]) == 2
    assert "not yet available" in capsys.readouterr().err


def test_cli_sandbox_calls_the_stack(mocker: MockerFixture) -> None:
    """``lw3pl sandbox`` hands its remaining arguments to sandbox.stack.serve_forever."""
    serve = mocker.patch("sandbox.stack.serve_forever")
    assert cli.main(["sandbox", "--seed", "3"]) == 0
    serve.assert_called_once_with(["--seed", "3"])


def test_setup_is_idempotent_and_fixes_an_existing_location(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox
) -> None:
    """An existing location without the FC flags is updated, not duplicated; the identifier is made once."""
    sandbox.add_location("3PL Warehouse")
    centre = ensure_fulfilment_centre(linnworks, "3PL Warehouse")
    assert centre.is_fulfillment_center and centre.fulfilment_center_deduct_stock_when_processed
    assert ensure_fulfilment_centre(linnworks, "3pl warehouse") == centre
    assert [loc.location_name for loc in linnworks.get_stock_locations()].count("3PL Warehouse") == 1
    first = ensure_export_identifier(linnworks, "SENT_TO_3PL")
    assert ensure_export_identifier(linnworks, "SENT_TO_3PL") == first
    assert [i.tag for i in linnworks.get_identifiers()].count("SENT_TO_3PL") == 1
