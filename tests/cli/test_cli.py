"""The lw3pl command line: exit codes, one-paragraph errors, and hand-off to the sandbox stack."""

from __future__ import annotations

import pytest
from pytest_mock import MockerFixture

from clients.errors import StopError
from flows.registry import FLOWS, load_flow
from lw3pl import cli


def test_cli_demo_exit_code(mocker: MockerFixture) -> None:
    """``lw3pl demo`` returns run_demo's exit code."""
    mocker.patch("lw3pl.demo.run_demo", return_value=1)
    assert cli.main(["demo"]) == 1


def test_cli_stop_error_is_one_paragraph_exit_1(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A StopError prints one clear paragraph (no traceback) and exits 1."""
    mocker.patch("lw3pl.demo.run_demo", side_effect=StopError("Check LINNWORKS_AUTH_URL"))
    assert cli.main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "LINNWORKS_AUTH_URL" in err and "Traceback" not in err
    assert err.count("\n\n") == 0


def test_cli_sandbox_calls_the_stack(mocker: MockerFixture) -> None:
    """``lw3pl sandbox`` hands its documented options (defaults filled in) to sandbox.stack.serve_forever."""
    serve = mocker.patch("sandbox.stack.serve_forever")
    assert cli.main(["sandbox", "--seed", "3", "--orders", "5"]) == 0
    serve.assert_called_once_with(["--orders", "5", "--time-scale", "60.0", "--seed", "3"])


def test_run_refuses_an_unknown_flow(capsys: pytest.CaptureFixture[str]) -> None:
    """``lw3pl run`` names the six flows when given another name, exit 2 (usage error)."""
    with pytest.raises(SystemExit) as raised:
        cli.main(["run", "ship-everything"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "export-orders" in err and "fulfilment-cycle" in err


def test_every_registered_flow_imports_and_matches_prefect_yaml() -> None:
    """Each flow ``lw3pl run`` offers is importable and is a deployment entrypoint in prefect.yaml."""
    import pathlib

    import yaml

    spec = yaml.safe_load(pathlib.Path("prefect.yaml").read_text())
    entrypoints = {d["name"]: d["entrypoint"] for d in spec["deployments"]}
    assert set(entrypoints) == set(FLOWS)
    for name, target in FLOWS.items():
        flow = load_flow(name)
        module, function = target.split(":")
        assert entrypoints[name] == f"{module.replace('.', '/')}.py:{function}"
        assert flow.name == name
