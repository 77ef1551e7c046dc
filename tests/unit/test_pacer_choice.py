"""LINNWORKS_PACER decides how the Linnworks budget is shared: Prefect global limits or in-process."""

from __future__ import annotations

import socket

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from clients.errors import StopError
from lw3pl.core.settings import Settings
from tasks.context import shared_pacer
from tasks.pacing import PrefectRateLimitPacer, PrefectUnreachableError


@pytest.mark.parametrize(
    ("choice", "server", "expected"),
    [
        ("auto", True, PrefectRateLimitPacer),
        ("auto", False, type(None)),
        ("local", True, type(None)),
        ("prefect", False, PrefectRateLimitPacer),
    ],
    ids=["auto-with-server", "auto-without-server", "local-despite-server", "prefect-forced"],
)
def test_pacer_follows_the_setting(
    choice: str, server: bool, expected: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auto uses Prefect's limits only when a server is configured; local and prefect force the choice."""
    monkeypatch.setattr("tasks.pacing.prefect_server_configured", lambda: server)
    pacer = shared_pacer(Settings(linnworks_pacer=choice))
    assert isinstance(pacer, expected)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port  # nothing listens once the socket is closed


def test_an_unreachable_prefect_server_is_waited_for_then_the_run_stops_with_one_message() -> None:
    """A refused connection is not an error at once (a server restart): the pacer waits ``patience``
    seconds, trying again, then raises a StopError naming the server and the settings to check."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    url = f"http://127.0.0.1:{_closed_port()}/api"
    with temporary_settings({PREFECT_API_URL: url, PREFECT_CLIENT_MAX_RETRIES: 0}):
        pacer = PrefectRateLimitPacer("outage", patience=1.0, clock=lambda: now[0], sleep=sleep)
        with pytest.raises(PrefectUnreachableError) as raised:
            pacer.acquire("Orders/GetOrdersById", 250)
        pacer.close()
    assert isinstance(raised.value, StopError)
    assert sum(waits) == pytest.approx(1.0) and len(waits) == 2  # tried again (each refused try costs ~1.5 s)
    assert url in str(raised.value) and "PREFECT_API_URL" in str(raised.value)
