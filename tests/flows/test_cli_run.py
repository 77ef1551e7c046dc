"""``lw3pl run FLOW``: a summary and exit 0 on success; one clear message and exit 1 on failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lw3pl.cli import main
from sandbox.linnworks import LinnworksSandbox
from tasks.context import close_runtimes
from tests.flows.conftest import FlowEnv

CANARY = "c0ffee00-dead-beef-0000-5ec12e7ca7a1"


def test_run_export_prints_a_summary_and_exits_0(
    flow_env: FlowEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """A successful run says what it did in one paragraph."""
    flow_env.create_orders(3)
    assert main(["run", "export-orders"]) == 0
    assert "export-orders completed: 3 exported." in capsys.readouterr().out


@pytest.fixture
def env_built_runtime() -> Iterator[None]:
    """Forget runtimes built from the environment, before and after (they are cached per process)."""
    close_runtimes()
    yield
    close_runtimes()


def test_wrong_credentials_give_one_clear_message(
    env_built_runtime: None,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    """A rejected secret stops the run (exit 1), names the setting to fix, shows no traceback, no secret."""
    with LinnworksSandbox(seed=11) as linnworks:
        monkeypatch.setenv("LINNWORKS_AUTH_URL", linnworks.auth_url)
        monkeypatch.setenv("LINNWORKS_APPLICATION_ID", linnworks.application_id)
        monkeypatch.setenv("LINNWORKS_APPLICATION_SECRET", CANARY)
        monkeypatch.setenv("LINNWORKS_INSTALLATION_TOKEN", linnworks.installation_token)
        monkeypatch.setenv("SHIPBOB_API_TOKEN", "unused")
        monkeypatch.setenv("SHIPBOB_CHANNEL_ID", "1")
        monkeypatch.setenv("LEDGER_URL", f"sqlite:///{tmp_path}/ledger.db")
        assert main(["run", "setup-fulfilment-centre"]) == 1
    captured = capfd.readouterr()
    output = captured.out + captured.err
    assert "setup-fulfilment-centre failed:" in captured.err
    assert "LINNWORKS_APPLICATION_SECRET" in captured.err
    assert "Traceback" not in output
    assert CANARY not in output
