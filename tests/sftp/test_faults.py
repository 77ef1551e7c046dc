"""Connection faults, credentials and secrets: the SFTP adapter against the sandbox's fault settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import asyncssh
import pytest
from pydantic import SecretStr, ValidationError

from clients.errors import AuthenticationError, OutcomeUnknownError, RetryableError, StopError
from clients.sftp import SftpAdapter, SftpConfig
from clients.threepl import SubmitOutcome
from sandbox.sftp import SftpSandbox
from sandbox.warehouse import Warehouse
from tests.sftp.conftest import config_for, make_order


def test_a_dropped_connection_is_retryable_and_the_next_call_reconnects(
    adapter: SftpAdapter, sandbox: SftpSandbox
) -> None:
    """A request whose connection drops raises RetryableError; the next call opens a new connection."""
    assert adapter.find_order("D-1") is None
    sandbox.faults.drop_next_requests = 1
    with pytest.raises(RetryableError, match="connection failed"):
        adapter.submit_order(make_order("D-1"))
    assert adapter.submit_order(make_order("D-1")).outcome is SubmitOutcome.ACCEPTED
    assert adapter.connections_opened == 2


def test_a_network_blip_between_calls_costs_one_retryable_error(
    adapter: SftpAdapter, sandbox: SftpSandbox
) -> None:
    """When the server drops every connection, the next call fails retryably and the one after works."""
    adapter.find_order("D-2")
    assert sandbox.drop_connections() == 1
    with pytest.raises(RetryableError):
        adapter.find_order("D-2")
    assert adapter.find_order("D-2") is None


def test_accept_then_drop_is_outcome_unknown_and_the_lookup_prevents_a_duplicate(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse
) -> None:
    """The file lands but the rename reply is lost: OutcomeUnknownError; find_order sees it; one order."""
    sandbox.faults.drop_after_order_rename = 1
    with pytest.raises(OutcomeUnknownError, match="may or may not be in place"):
        adapter.submit_order(make_order("U-1"))
    found = adapter.find_order("U-1")
    assert found is not None and found.remote_id == "ord_U-1.csv"
    assert adapter.submit_order(make_order("U-1")).outcome is SubmitOutcome.DUPLICATE
    sandbox.process_once()
    assert len(warehouse.list_orders(references=["U-1"])) == 1


def test_a_slow_reply_beyond_the_call_timeout_is_retryable(
    make_adapter: Callable[..., SftpAdapter], sandbox: SftpSandbox
) -> None:
    """A request that outlasts call_timeout_seconds raises RetryableError and the connection is replaced."""
    # 1 s, not less: a call (the first one connects) must fit in it on a loaded 2-core machine.
    adapter = make_adapter(call_timeout_seconds=1.0)
    adapter.find_order("S-1")
    sandbox.faults.delay_seconds = 2.0
    with pytest.raises(RetryableError, match="TimeoutError"):
        adapter.find_order("S-1")
    sandbox.faults.delay_seconds = 0
    assert adapter.find_order("S-1") is None
    assert adapter.connections_opened == 2


def test_a_wrong_password_stops_with_the_settings_to_check(sandbox: SftpSandbox) -> None:
    """Refused credentials raise AuthenticationError naming SFTP_USERNAME and SFTP_PASSWORD, no secret."""
    config = config_for(sandbox, password=SecretStr("wrong-CANARY-pw"))
    with SftpAdapter(config) as adapter, pytest.raises(AuthenticationError) as caught:
        adapter.find_order("x")
    message = str(caught.value)
    assert "SFTP_USERNAME='warehouse'" in message and "SFTP_PASSWORD" in message
    assert "wrong-CANARY-pw" not in message and sandbox.password not in message


def test_a_refused_connection_stops_naming_the_host(sandbox: SftpSandbox) -> None:
    """Nothing listening on the port: StopError naming SFTP_HOST and the port."""
    config = config_for(sandbox, port=1)
    with SftpAdapter(config) as adapter, pytest.raises(StopError, match=r"SFTP_HOST=127\.0\.0\.1:1\b"):
        adapter.find_order("x")


def test_an_unknown_host_key_stops_before_logging_in(sandbox: SftpSandbox) -> None:
    """A server whose key differs from the trusted one is refused: StopError naming SFTP_HOST_KEY."""
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    adapter = SftpAdapter(config_for(sandbox, host_public_key=stranger))
    with adapter, pytest.raises(StopError, match="SFTP_HOST_KEY"):
        adapter.find_order("x")


def test_a_known_hosts_file_is_accepted(sandbox: SftpSandbox, tmp_path: Path) -> None:
    """The host key can come from a known_hosts file instead of a single key."""
    known = tmp_path / "known_hosts"
    known.write_text(sandbox.known_hosts_line + "\n")
    with SftpAdapter(config_for(sandbox, host_public_key=None, known_hosts=known)) as adapter:
        assert adapter.find_order("x") is None


def test_key_file_authentication(warehouse: Warehouse, tmp_path: Path) -> None:
    """A private key file logs in without any password."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    key.write_private_key(str(key_file))
    public = key.export_public_key().decode()
    with SftpSandbox(warehouse=warehouse, authorized_client_key=public) as box:
        config = config_for(box, password=None, key_file=key_file)
        with SftpAdapter(config) as adapter:
            assert adapter.submit_order(make_order("K-1")).outcome is SubmitOutcome.ACCEPTED


def test_a_missing_key_file_stops_naming_the_setting(sandbox: SftpSandbox, tmp_path: Path) -> None:
    """An unreadable key file raises StopError naming SFTP_KEY_FILE."""
    config = config_for(sandbox, password=None, key_file=tmp_path / "absent")
    with SftpAdapter(config) as adapter, pytest.raises(StopError, match="SFTP_KEY_FILE"):
        adapter.find_order("x")


def test_a_missing_folder_stops_naming_the_folder_settings(sandbox: SftpSandbox) -> None:
    """An inbound folder the server does not have raises StopError naming SFTP_INBOUND_DIR."""
    adapter = SftpAdapter(config_for(sandbox, inbound_dir="no-such-dir"))
    with adapter, pytest.raises(StopError, match="SFTP_INBOUND_DIR"):
        adapter.submit_order(make_order("N-1"))


def test_a_config_without_any_credential_is_refused() -> None:
    """Neither password nor key file: the configuration itself is invalid."""
    with pytest.raises(ValidationError, match="SFTP_PASSWORD or SFTP_KEY_FILE"):
        SftpConfig(host="h", username="u", password=SecretStr(""))


def test_the_password_never_reaches_logs_reprs_or_errors(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    """With every logger at DEBUG, a canary password appears in no log record, repr or error text."""
    canary = "CANARY-sftp-password-4b1d"
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    with SftpSandbox(warehouse=warehouse, password=canary) as box:
        config = config_for(box, password=SecretStr(canary), call_timeout_seconds=1.0)
        with SftpAdapter(config) as adapter:
            adapter.submit_order(make_order("L-1"))
            box.process_once()
            adapter.ack(adapter.poll_events(None).events)
            box.faults.delay_seconds = 2.0
            try:
                adapter.find_order("L-1")
            except RetryableError as exc:
                errors.append(str(exc))
            box.faults.delay_seconds = 0
        bad = config_for(box, password=SecretStr(canary + "-wrong"))
        with SftpAdapter(bad) as adapter:
            try:
                adapter.find_order("L-1")
            except AuthenticationError as exc:
                errors.append(str(exc))
        texts = [repr(config), repr(bad), str(config.model_dump()), *errors]
    assert len(errors) == 2 and "sftp connected" in caplog.text
    assert canary not in caplog.text
    assert not [text for text in texts if canary in text]


@pytest.mark.parametrize("seed", [3, 17])
def test_random_drops_never_lose_or_duplicate_an_order(
    adapter: SftpAdapter, sandbox: SftpSandbox, warehouse: Warehouse, seed: int
) -> None:
    """Under seeded random drops, the core's procedure (find before retrying) makes exactly one order each."""
    sandbox.faults.reseed(seed)
    sandbox.faults.drop_rate = 0.05
    sandbox.faults.drop_after_order_rename_rate = 0.2
    references = [f"Z-{seed}-{n}" for n in range(30)]
    outcomes: dict[str, str] = {}
    for reference in references:
        outcomes[reference] = _submit_like_the_core(adapter, reference)
    sandbox.faults.drop_rate = sandbox.faults.drop_after_order_rename_rate = 0
    sandbox.process_once()
    counts = {ref: len(warehouse.list_orders(references=[ref])) for ref in references}
    assert counts == dict.fromkeys(references, 1), f"seed {seed}: {outcomes}"
    assert "unknown" in {o.split("+")[0] for o in outcomes.values()}, f"seed {seed} never lost a reply"


def _submit_like_the_core(adapter: SftpAdapter, reference: str) -> str:
    """Submit; retry retryable faults; after an unknown outcome, look up before submitting again."""
    history: list[str] = []
    for _ in range(50):
        try:
            if history and history[-1] == "unknown" and adapter.find_order(reference) is not None:
                return "+".join([*history, "found"])
            result = adapter.submit_order(make_order(reference))
            return "+".join([*history, result.outcome.value])
        except OutcomeUnknownError:
            history.append("unknown")
        except RetryableError:
            history.append("retry" if not history or history[-1] != "unknown" else "unknown")
    raise AssertionError(f"{reference}: no outcome after 50 attempts: {history}")
