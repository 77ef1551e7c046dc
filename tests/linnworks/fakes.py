"""Small stateful fakes for the Linnworks client's unit tests (httpx.MockTransport apps, a fake clock)."""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from pydantic import SecretStr

from clients.linnworks import LinnworksClient, NoPacer, Pacer, RetryPolicy

APP_ID = "8c4a5e0e-1c1f-4d59-9a57-0d6a3f1c2b10"
CANARY_SECRET = "c0ffee00-5ec2-4e70-8a11-ca4a21ec2e70"
INSTALL_TOKEN = "70ce11aa-2b2b-4c4c-8d8d-0000ca4a2170"
AUTH_URL = "https://api.linnworks.test"
SERVER = "https://eu-ext.linnworks.test"

Action = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic time that only moves when someone sleeps (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    endpoint: str
    fields: dict[str, str]
    authorization: str | None
    content_type: str | None
    raw: httpx.Request


def reply(
    status: int = 200, payload: Any = None, *, text: str | None = None, headers: dict[str, str] | None = None
) -> Action:
    """An action answering with ``payload`` as JSON (or ``text`` verbatim)."""

    def act(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        if payload is None and status in (200, 204):
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=payload, headers=headers)

    return act


def fail(error: type[httpx.TransportError]) -> Action:
    """An action raising an httpx transport error, as the network would."""

    def act(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return act


@dataclass
class FakeLinnworks:
    """Auth host + data host: ``ok`` answers per endpoint, ``script`` queues one-off actions first."""

    ok: dict[str, Action] = field(default_factory=dict)
    script: dict[str, deque[Action]] = field(default_factory=lambda: defaultdict(deque))
    auth_script: deque[Action] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)

    def queue(self, endpoint: str, *actions: Action) -> None:
        self.script[endpoint].extend(actions)

    def handler(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.removeprefix("/api/")
        fields = _fields(request)
        self.seen.append(
            Seen(
                request.method,
                endpoint,
                fields,
                request.headers.get("Authorization"),
                request.headers.get("Content-Type"),
                request,
            )
        )
        if request.url.host == httpx.URL(AUTH_URL).host:
            return self._auth(request, fields)
        assert request.url.host == httpx.URL(SERVER).host, request.url
        if self.script[endpoint]:
            return self.script[endpoint].popleft()(request)
        token = request.headers.get("Authorization")
        if token not in self.tokens or token in self.revoked:
            return httpx.Response(
                401, json={"Code": None, "Message": "Authorization has been denied for this request."}
            )
        action = self.ok.get(endpoint, reply(200, []))
        return action(request)

    def _auth(self, request: httpx.Request, fields: dict[str, str]) -> httpx.Response:
        if self.auth_script:
            return self.auth_script.popleft()(request)
        credentials = json.loads(fields["request"])
        if credentials != {
            "ApplicationId": APP_ID,
            "ApplicationSecret": CANARY_SECRET,
            "Token": INSTALL_TOKEN,
        }:
            return httpx.Response(401, json={"Code": "-", "Message": "Invalid application credentials"})
        token = str(uuid.uuid4())
        self.tokens.append(token)
        return httpx.Response(200, json={"Token": token, "Server": SERVER, "TTL": 1, "Id": str(uuid.uuid4())})

    def data_calls(self, endpoint: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if s.raw.url.host != httpx.URL(AUTH_URL).host and endpoint in (None, s.endpoint)
        ]

    def auth_calls(self) -> list[Seen]:
        return [s for s in self.seen if s.raw.url.host == httpx.URL(AUTH_URL).host]


def _fields(request: httpx.Request) -> dict[str, str]:
    if request.method == "GET":
        return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def make_client(
    fake: FakeLinnworks,
    clock: FakeClock | None = None,
    *,
    retry: RetryPolicy | None = None,
    pacer: Pacer | None = None,
    secret: str = CANARY_SECRET,
    app_id: str = APP_ID,
) -> LinnworksClient:
    """A client wired to ``fake`` with a fake clock, no pacing and a no-wait retry policy by default."""
    clock = clock or FakeClock()
    return LinnworksClient(
        app_id,
        SecretStr(secret),
        SecretStr(INSTALL_TOKEN),
        auth_url=AUTH_URL,
        transport=httpx.MockTransport(fake.handler),
        pacer=pacer or NoPacer(),
        clock=clock,
        sleep=clock.sleep,
        retry=retry or RetryPolicy(max_attempts=4, max_total_seconds=600.0, rng=random.Random(7)),
    )
