"""Fixtures for the Linnworks contract tests: a real sandbox over loopback and a recording client."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import SecretStr

from clients.linnworks import LinnworksClient, RetryPolicy
from sandbox.linnworks import LinnworksSandbox

TIME_SCALE = 60.0  # one-second rate-limit minutes on both sides: pacing stays on but costs milliseconds


@dataclass(frozen=True)
class SentRequest:
    """One request exactly as the client put it on the wire."""

    verb: str
    path: str
    params: dict[str, str]
    names: tuple[str, ...]
    content_type: str | None
    test: str


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to a real HTTP transport and keeps a copy of each for the conformance check."""

    def __init__(self, log: list[SentRequest], test: str) -> None:
        self._inner = httpx.HTTPTransport()
        self._log = log
        self._test = test

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read().decode()
        pairs = parse_qsl(
            request.url.query.decode() if request.method == "GET" else body, keep_blank_values=True
        )
        self._log.append(
            SentRequest(
                request.method,
                request.url.path,
                dict(pairs),
                tuple(n for n, _ in pairs),
                request.headers.get("Content-Type"),
                self._test,
            )
        )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


SENT: list[SentRequest] = []
"""Every request sent by the contract tests in this session (read by the conformance test)."""


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[LinnworksSandbox]:
    """One Linnworks sandbox for the module, rate limits on, minutes scaled to one second."""
    with LinnworksSandbox(seed=3, time_scale=TIME_SCALE, rate_limits=True) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: LinnworksSandbox) -> LinnworksSandbox:
    """The module's sandbox, reset to its seeded state for this test."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def linnworks(sandbox: LinnworksSandbox, request: pytest.FixtureRequest) -> Iterator[LinnworksClient]:
    """A client for the sandbox whose every request is recorded in ``SENT``."""
    client = LinnworksClient(
        sandbox.application_id,
        SecretStr(sandbox.application_secret),
        SecretStr(sandbox.installation_token),
        auth_url=sandbox.auth_url,
        transport=RecordingTransport(SENT, request.node.name),
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_total_seconds=30.0, rng=random.Random(5)),
        timeout=5.0,
        time_scale=TIME_SCALE,
    )
    with client:
        yield client
