"""Fixtures for the Linnworks sandbox tests: a running sandbox, an injected clock, a raw HTTP helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.linnworks import ZERO_GUID, LinnworksSandbox

FC_ID = "7c6a1f0e-0000-4000-8000-000000000001"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def form_value(value: Any) -> str:
    """A parameter written the way the official SDK writes form fields."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class Api:
    """Raw HTTP against the sandbox (deliberately not the project's client)."""

    def __init__(self, lw: LinnworksSandbox, client: httpx.Client) -> None:
        self.lw = lw
        self.client = client
        self.token: str | None = None

    def credentials(self) -> dict[str, str]:
        return {
            "ApplicationId": self.lw.application_id,
            "ApplicationSecret": self.lw.application_secret,
            "Token": self.lw.installation_token,
        }

    def login(self) -> str:
        reply = self.client.post(
            f"{self.lw.auth_url}/api/Auth/AuthorizeByApplication",
            data={"request": json.dumps(self.credentials())},
        )
        assert reply.status_code == 200, reply.text
        self.token = str(reply.json()["Token"])
        return self.token

    def call(
        self, method: str, *, verb: str = "POST", encoding: str = "form", **params: Any
    ) -> httpx.Response:
        """Call ``Controller/Method`` with ``params`` as a form body, a JSON body or a query string."""
        headers = {"Authorization": self.token} if self.token else {}
        url = f"{self.lw.data_url}/api/{method}"
        if encoding == "json":
            return self.client.request(verb, url, headers=headers, json=params)
        fields = {key: form_value(value) for key, value in params.items()}
        if encoding == "query" or verb == "GET":
            return self.client.request(verb, url, headers=headers, params=fields)
        return self.client.request(verb, url, headers=headers, data=fields)

    def ok(self, method: str, **params: Any) -> Any:
        """Call and return the JSON reply, failing the test on a non-2xx status."""
        reply = self.call(method, **params)
        assert reply.status_code in (200, 204), f"{method}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lw(clock: FakeClock) -> Iterator[LinnworksSandbox]:
    """A running sandbox on a hand-driven clock."""
    with LinnworksSandbox(seed=7, clock=clock) as sandbox:
        yield sandbox


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def api(lw: LinnworksSandbox, http: httpx.Client) -> Api:
    """A logged-in raw API helper."""
    helper = Api(lw, http)
    helper.login()
    return helper


@pytest.fixture
def fc(lw: LinnworksSandbox) -> str:
    """A fulfilment-centre location that deducts stock when processed, stocked with SOCK-BLK x 40."""
    lw.add_location(
        "3PL Leeds",
        StockLocationId=FC_ID,
        IsFulfillmentCenter=True,
        FulfilmentCenterDeductStockWhenProcessed=True,
    )
    lw.set_stock_level("SOCK-BLK", FC_ID, 40)
    return FC_ID


__all__ = ["FC_ID", "ZERO_GUID", "Api", "FakeClock", "form_value"]
