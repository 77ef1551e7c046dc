"""One ShipBob call on the wire: auth headers, pacing, the retry loop and the error mapping.

httpx exceptions and HTTP statuses become ``clients.errors`` here and nowhere else. What may be repeated
is the caller's choice (``Safety``); this module only applies it:

* ``Safety.REPEATABLE`` (reads, cancel, upserts keyed by reference): transient faults (connect errors,
  timeouts, dropped replies, 408/5xx, 429, unreadable bodies) are retried within the policy's bounds.
* ``Safety.CREATE`` (a new order): only faults where ShipBob certainly did nothing are retried (connect
  errors before the request left, 429). Anything after the request may have reached ShipBob (read
  timeout, dropped reply, 5xx, an unreadable 2xx) raises ``OutcomeUnknownError``: the core looks the
  reference up before anything else.

A version ShipBob no longer serves is a stop, never a retry and never a per-record refusal: a reply
that says the version is retired or unsupported, or a 404 on a path the caller did not expect to be
missing (every path the adapter calls exists in the version it speaks), raises ``ApiVersionError``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from clients._http import is_transient_status, never_sent, request_id
from clients._pacing import Pacer
from clients._retry import RetryPolicy as BaseRetryPolicy
from clients._retry import parse_retry_after
from clients.errors import (
    AuthenticationError,
    CallContext,
    Lw3plError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitedError,
    RecordError,
    RetryableError,
    StopError,
    excerpt,
)

__all__ = ["SERVICE", "ApiVersionError", "Reply", "RetryPolicy", "Safety", "Transport"]

logger = logging.getLogger("lw3pl.shipbob")

SERVICE = "shipbob"
PACING_KEY = "shipbob"
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "traceparent")
VERSIONING_PAGE = "https://developer.shipbob.com/versioning"
_RETIRED_WORDS = ("retired", "unsupported", "not supported", "no longer", "deprecated", "blocked")


class ApiVersionError(StopError):
    """ShipBob does not serve the API version this run speaks; the message says what to change."""

    def __init__(self, version: str, context: CallContext) -> None:
        super().__init__(
            f"ShipBob does not serve API version {version!r} ({context.method} {context.path} answered "
            f"{context.status}). lw3pl stopped this run instead of retrying or quarantining orders. Set "
            f"SHIPBOB_API_VERSION to a version ShipBob supports (see {VERSIONING_PAGE}); the adapter "
            "and its sandbox move together, so upgrade lw3pl if the version you need is newer than its "
            "default.",
            context=context,
        )


class Safety(Enum):
    REPEATABLE = "repeatable"
    CREATE = "create"


@dataclass(frozen=True)
class Reply:
    """A reply whose status the caller said it handles, with its body parsed as JSON."""

    status: int
    data: Any
    headers: Mapping[str, str]
    context: CallContext


@dataclass
class RetryPolicy(BaseRetryPolicy):
    """``clients._retry.RetryPolicy`` with ShipBob's cap on ``x-retry-after``; times are partner seconds.

    ShipBob's window is one rolling minute, so a wait much past it is not obeyed literally (``Transport``
    divides every delay by ``time_scale`` before sleeping).
    """

    max_retry_after: float = 90.0


class Transport:
    """Sends ShipBob requests with the retry policy and maps every failure into ``clients.errors``."""

    def __init__(
        self,
        client: httpx.Client,
        pacer: Pacer,
        policy: RetryPolicy,
        *,
        version: str,
        per_minute: int = 150,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._version = version
        self._client = client
        self._pacer = pacer
        self._policy = policy
        self._per_minute = per_minute
        self._time_scale = time_scale
        self._sleep = sleep
        self._monotonic = monotonic

    def call(
        self,
        method: str,
        path: str,
        *,
        safety: Safety,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        accept: Collection[int] = (),
    ) -> Reply:
        """One logical call: 2xx and the statuses in ``accept`` come back, everything else raises."""
        started = self._monotonic()
        attempt = 1
        while True:
            try:
                return self._attempt(method, path, safety, params, body, accept, attempt)
            except RetryableError as error:
                elapsed = (self._monotonic() - started) * self._time_scale
                delay = self._policy.next_delay(error, attempt, elapsed)
                if delay is None and isinstance(error, _UnreadableReply):
                    raise MalformedResponseError(error.message, context=error.context) from error
                if delay is None:
                    raise
                self._wait(error, delay)
                attempt += 1

    def _wait(self, error: RetryableError, delay: float) -> None:
        real = delay / self._time_scale
        defer = getattr(self._pacer, "defer", None)
        if isinstance(error, RateLimitedError) and callable(defer):
            defer(PACING_KEY, real)  # every thread waits, not only this one
        if real > 0:
            self._sleep(real)

    def _attempt(
        self,
        method: str,
        path: str,
        safety: Safety,
        params: Mapping[str, str] | None,
        body: Any,
        accept: Collection[int],
        attempt: int,
    ) -> Reply:
        context = CallContext(SERVICE, method, path)
        self._pacer.acquire(PACING_KEY, self._per_minute)
        try:
            response = self._client.request(method, path, params=params, json=body)
        except httpx.TransportError as error:
            raise _transport_error(error, context, safety) from None
        context = _context(response, method, path)
        logger.info(
            "shipbob call",
            extra={"method": method, "path": path, "status": response.status_code, "attempt": attempt},
        )
        if _names_retired_version(response, accept):
            raise ApiVersionError(self._version, context)
        _raise_for_status(response, context, safety, accept)
        return Reply(response.status_code, _parse_json(response, context, safety), response.headers, context)


def _context(response: httpx.Response, method: str, path: str) -> CallContext:
    partner_id = request_id(response.headers, _REQUEST_ID_HEADERS)
    body = excerpt(response.text) if response.status_code >= 400 and response.content else None
    return CallContext(SERVICE, method, path, response.status_code, partner_id, body)


def _transport_error(error: httpx.TransportError, context: CallContext, safety: Safety) -> Lw3plError:
    """Connect failures never reached ShipBob; anything later may have, which matters for creates."""
    name = type(error).__name__
    if never_sent(error) or safety is Safety.REPEATABLE:
        return RetryableError(f"ShipBob transport error ({name})", context=context)
    return OutcomeUnknownError(f"ShipBob may have received the create; reply lost ({name})", context=context)


def _names_retired_version(response: httpx.Response, accept: Collection[int]) -> bool:
    """A refusal that is about the version, or a 404 the caller had no reason to expect."""
    status = response.status_code
    if status == 404 and status not in accept:
        return True
    if status not in (400, 404, 410):
        return False
    text = response.text.lower()
    return "version" in text and any(word in text for word in _RETIRED_WORDS)


def _raise_for_status(
    response: httpx.Response, context: CallContext, safety: Safety, accept: Collection[int]
) -> None:
    status = response.status_code
    if 200 <= status < 300 or status in accept:
        return
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("x-retry-after"))
        raise RateLimitedError("ShipBob rate limit exceeded", retry_after=retry_after, context=context)
    if status == 401:
        raise AuthenticationError(
            "ShipBob rejected the personal access token (revoked or expired?): set SHIPBOB_API_TOKEN to a "
            "valid one from ShipBob's Integrations > API Tokens page",
            context=context,
        )
    if status == 403:
        raise StopError(
            "ShipBob refused access: check the token's scopes and the channel id", context=context
        )
    if is_transient_status(status):
        if safety is Safety.CREATE:
            raise OutcomeUnknownError(f"ShipBob answered {status} to a create", context=context)
        raise RetryableError(f"ShipBob answered {status}", context=context)
    raise RecordError(f"ShipBob refused the request ({status})", context=context)


def _parse_json(response: httpx.Response, context: CallContext, safety: Safety) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        pass
    message = "ShipBob sent a reply that is not JSON"
    failed = CallContext(
        context.service,
        context.method,
        context.path,
        context.status,
        context.request_id,
        excerpt(response.text),
    )
    if safety is Safety.CREATE and 200 <= response.status_code < 300:
        raise OutcomeUnknownError(f"{message} to a create", context=failed)
    if 200 <= response.status_code < 300:
        raise _UnreadableReply(message, context=failed)  # a proxy page or a cut reply: read again
    raise MalformedResponseError(message, context=failed)


class _UnreadableReply(RetryableError):
    """A 2xx whose body could not be read; repeated like a transient fault, then reported as malformed."""
