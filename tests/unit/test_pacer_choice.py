"""LINNWORKS_PACER decides how the Linnworks budget is shared: Prefect global limits or in-process."""

from __future__ import annotations

import pytest

from lw3pl.core.settings import Settings
from tasks.context import shared_pacer
from tasks.pacing import PrefectRateLimitPacer


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
