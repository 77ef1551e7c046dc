"""One ShipBob call on the wire: auth headers, pacing and the classification of ShipBob's replies.

httpx exceptions and HTTP statuses become ``clients.errors`` here and nowhere else; the retry loop is the
shared ``clients._send.Sender``. What may be repeated is the caller's choice (``Safety``):

* ``Safety.READ`` / ``Safety.IDEMPOTENT`` (reads, cancel, upserts keyed by reference): transient faults
  (connect errors, timeouts, dropped replies, 408/5xx, 429, unreadable bodies) are retried within the
  policy's bounds.
* ``Safety.UNSAFE`` (a new order): only faults where ShipBob certainly did nothing are retried (connect
  errors before the request left, 429). Anything after the request may have reached ShipBob (read
  timeout, dropped reply, 5xx, an unreadable 2xx) raises ``OutcomeUnknownError``: the core looks the
  reference up before anything else.

A version ShipBob no longer serves is a stop, never a retry and never a per-record refusal: a reply
that says the version is retired or unsupported, or a 404 on a path the caller did not expect to be
missing (every path the adapter calls exists in the version it speaks), raises ``ApiVersionError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import Any

import httpx

from clients._http import is_transient_status, request_id, transport_error
from clients._json import JSON_CONTENT, dumps
from clients._json import loads as loads_json
from clients._pacing import Pacer
from clients._retry import RetryPolicy, capped_retry_after
from clients._send import Reply, Safety, Sender, UnreadableReplyError
from clients.errors import (
    AuthenticationError,
    CallContext,
    MalformedResponseError,
    RateLimitedError,
    RecordError,
    RetryableError,
    StopError,
    excerpt,
)

__all__ = ["RETRY_AFTER_CAP", "SERVICE", "ApiVersionError", "Reply", "RetryPolicy", "Safety", "Transport"]

logger = logging.getLogger("lw3pl.shipbob")

SERVICE = "shipbob"
PACING_KEY = "shipbob"
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "traceparent")
VERSIONING_PAGE = "https://developer.shipbob.com/versioning"
# ShipBob's window is one rolling minute, so a wait much past it is not obeyed literally (partner seconds).
RETRY_AFTER_CAP = 90.0
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
        self._per_minute = per_minute
        self._sender = Sender("ShipBob", pacer, policy, monotonic, sleep, time_scale, logger)

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
        content = None if body is None else dumps(body)  # encoded once, whatever the attempts
        return self._sender.send(
            f"{method} {path}",
            PACING_KEY,
            safety,
            lambda attempt: self._attempt(method, path, params, content, accept, attempt),
        )

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        content: bytes | None,
        accept: Collection[int],
        attempt: int,
    ) -> Reply:
        context = CallContext(SERVICE, method, path)
        headers = None if content is None else JSON_CONTENT
        self._pacer.acquire(PACING_KEY, self._per_minute)
        try:
            response = self._client.request(method, path, params=params, content=content, headers=headers)
        except httpx.HTTPError as error:
            raise transport_error(error, f"ShipBob {method} {path}", context) from None
        context = _context(response, method, path)
        logger.info(
            "shipbob call",
            extra={"method": method, "path": path, "status": response.status_code, "attempt": attempt},
        )
        if _names_retired_version(response, accept):
            raise ApiVersionError(self._version, context)
        _raise_for_status(response, context, accept)
        return Reply(response.status_code, _parse_json(response, context), response.headers, context)


def _context(response: httpx.Response, method: str, path: str) -> CallContext:
    partner_id = request_id(response.headers, _REQUEST_ID_HEADERS)
    body = excerpt(response.text) if response.status_code >= 400 and response.content else None
    return CallContext(SERVICE, method, path, response.status_code, partner_id, body)


def _names_retired_version(response: httpx.Response, accept: Collection[int]) -> bool:
    """A refusal that is about the version, or a 404 the caller had no reason to expect."""
    status = response.status_code
    if status == 404 and status not in accept:
        return True
    if status not in (400, 404, 410):
        return False
    text = response.text.lower()
    return "version" in text and any(word in text for word in _RETIRED_WORDS)


def _raise_for_status(response: httpx.Response, context: CallContext, accept: Collection[int]) -> None:
    status = response.status_code
    if 200 <= status < 300 or status in accept:
        return
    if status == 429:
        retry_after = capped_retry_after(response.headers, "x-retry-after", RETRY_AFTER_CAP)
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
        raise RetryableError(f"ShipBob answered {status}", effect_possible=True, context=context)
    raise RecordError(f"ShipBob refused the request ({status})", context=context)


def _parse_json(response: httpx.Response, context: CallContext) -> Any:
    if not response.content:
        return None
    try:
        return loads_json(response.content)
    except ValueError:
        pass
    failed = replace(context, body_excerpt=excerpt(response.text))
    message = "ShipBob sent a reply that is not JSON"
    if 200 <= response.status_code < 300:
        raise UnreadableReplyError(message, context=failed)  # a proxy page or a cut reply: read again
    raise MalformedResponseError(message, context=failed)
