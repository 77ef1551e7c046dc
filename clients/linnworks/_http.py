"""One Linnworks call on the wire: pacing, session, encoding, error mapping and the retry loop.

httpx exceptions and HTTP statuses are translated into ``clients.errors`` here and nowhere else.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn
from urllib.parse import urlencode
from uuid import UUID

import httpx
from pydantic import ValidationError

from clients._http import is_transient_status, request_id, transport_error
from clients._json import loads as loads_json
from clients._pacing import Pacer
from clients._retry import RetryPolicy, capped_retry_after
from clients._send import Reply, Safety, Sender
from clients.errors import (
    AuthenticationError,
    CallContext,
    MalformedResponseError,
    RateLimitedError,
    RecordError,
    RetryableError,
    StopError,
)

from ._base import WIRE, BaseSession, _AuthorizeByApplicationRequest
from ._encoding import encode_fields
from ._limits import ENDPOINTS, EndpointSpec
from ._redact import scrub_fields, scrub_text
from ._session import Session, SessionState

__all__ = ["AUTH_ENDPOINT", "Caller", "Credentials", "Reply", "Safety"]

logger = logging.getLogger("lw3pl.linnworks")

SERVICE = "linnworks"
AUTH_ENDPOINT = "Auth/AuthorizeByApplication"
_FORM = "application/x-www-form-urlencoded; charset=UTF-8"
_QUOTA_TEXT = re.compile(r"quota exceeded|maximum admitted \d+ per minute", re.IGNORECASE)
_REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "x-ms-request-id",
    "x-amzn-requestid",
)
_DEBUG_BODY_CHARS = 2000
_BAD_CREDENTIALS = (
    "Linnworks rejected the application credentials. Check LINNWORKS_APPLICATION_ID and "
    "LINNWORKS_APPLICATION_SECRET (from the app's page in the Linnworks developer portal) and "
    "LINNWORKS_INSTALLATION_TOKEN (shown when the app was installed on the Linnworks account; "
    "reinstall the app to get a new one)."
)


@dataclass(frozen=True)
class Credentials:
    """The three values that open a session, unwrapped from SecretStr only here."""

    application_id: str
    application_secret: str
    installation_token: str

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


class Caller:
    """Sends calls for ``LinnworksClient``: thread-safe, one httpx.Client shared by all threads."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        auth_url: str,
        credentials: Credentials,
        pacer: Pacer,
        retry: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        time_scale: float,
    ) -> None:
        self._http = http
        self._auth_url = auth_url.rstrip("/")
        self._credentials = credentials
        self._pacer = pacer
        self._retry = retry
        self._clock = clock
        self._sender = Sender("Linnworks", pacer, retry, clock, sleep, time_scale, logger)
        self.session = Session(self._authenticate, clock, time_scale)

    # --- public ----------------------------------------------------------------------------------------

    def call(self, endpoint: str, values: Mapping[str, Any], safety: Safety) -> Reply:
        """Call ``endpoint`` (e.g. ``"Orders/GetOrdersById"``) with every declared parameter in ``values``."""
        spec = ENDPOINTS[endpoint]
        fields = encode_fields(endpoint, spec, values)
        return self._sender.send(
            endpoint, endpoint, safety, lambda attempt: self._data_attempt(endpoint, spec, fields, attempt)
        )

    # --- one attempt -----------------------------------------------------------------------------------

    def _data_attempt(
        self, endpoint: str, spec: EndpointSpec, fields: list[tuple[str, str]], attempt: int
    ) -> Reply:
        self._pacer.acquire(endpoint, spec.per_minute)
        state = self.session.current()
        response = self._send(endpoint, spec, f"{state.server}/api/{endpoint}", fields, state.token, attempt)
        if response.status_code == 401:
            # The session expired or was revoked: one new session, one repeat (a 401 executed nothing).
            self.session.invalidate(state.token)
            self._pacer.acquire(endpoint, spec.per_minute)
            state = self.session.current()
            response = self._send(
                endpoint, spec, f"{state.server}/api/{endpoint}", fields, state.token, attempt
            )
            if response.status_code == 401:
                raise AuthenticationError(
                    "Linnworks refused a fresh session token; " + _BAD_CREDENTIALS,
                    context=self._context(spec, response, endpoint),
                )
        return self._read(endpoint, spec, response)

    # --- authentication --------------------------------------------------------------------------------

    def _authenticate(self) -> SessionState:
        spec = ENDPOINTS[AUTH_ENDPOINT]
        request = _AuthorizeByApplicationRequest(
            application_id=_guid_setting(self._credentials.application_id, "LINNWORKS_APPLICATION_ID"),
            application_secret=_guid_setting(
                self._credentials.application_secret, "LINNWORKS_APPLICATION_SECRET"
            ),
            token=_guid_setting(self._credentials.installation_token, "LINNWORKS_INSTALLATION_TOKEN"),
        )
        fields = encode_fields(AUTH_ENDPOINT, spec, {"request": request})
        url = f"{self._auth_url}/api/{AUTH_ENDPOINT}"

        def attempt_once(attempt: int) -> Reply:
            self._pacer.acquire(AUTH_ENDPOINT, spec.per_minute)
            response = self._send(AUTH_ENDPOINT, spec, url, fields, None, attempt)
            self._raise_for_auth_status(spec, response)
            return self._read(AUTH_ENDPOINT, spec, response)

        reply = self._sender.send(AUTH_ENDPOINT, AUTH_ENDPOINT, Safety.READ, attempt_once)
        try:
            session = BaseSession.model_validate(reply.data, **WIRE)
        except ValidationError as error:
            raise MalformedResponseError(
                "Linnworks Auth/AuthorizeByApplication replied without a usable Token and Server "
                f"({describe_validation_error(error)})",
                context=reply.context,
            ) from None
        logger.info("Linnworks session opened on %s", session.server)
        return SessionState(token=session.token, server=session.server.rstrip("/"))

    def _raise_for_auth_status(self, spec: EndpointSpec, response: httpx.Response) -> None:
        status = response.status_code
        if status in (400, 401, 403) and not _QUOTA_TEXT.search(response.text):
            raise AuthenticationError(_BAD_CREDENTIALS, context=self._context(spec, response, AUTH_ENDPOINT))
        if status == 404:
            raise StopError(
                f"Linnworks authentication URL {self._auth_url} has no {AUTH_ENDPOINT}; "
                "check LINNWORKS_AUTH_URL",
                context=self._context(spec, response, AUTH_ENDPOINT),
            )

    # --- the wire --------------------------------------------------------------------------------------

    def _send(
        self,
        endpoint: str,
        spec: EndpointSpec,
        url: str,
        fields: list[tuple[str, str]],
        token: str | None,
        attempt: int,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = token  # the raw session token, no "Bearer"
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("Linnworks %s request: %s", endpoint, scrub_fields(fields, self._secrets()))
        started = self._clock()
        try:
            if spec.verb == "GET":
                query = urlencode(fields)  # as the SDK does: the form body, appended to the URL
                response = self._http.request("GET", f"{url}?{query}" if query else url, headers=headers)
            else:
                headers["Content-Type"] = _FORM
                response = self._http.request(
                    "POST", url, content=urlencode(fields).encode(), headers=headers
                )
        except httpx.HTTPError as error:
            self._log_attempt(endpoint, spec, type(error).__name__, attempt, started)
            context = CallContext(SERVICE, spec.verb, _path(endpoint))
            raise transport_error(error, f"Linnworks {endpoint}", context) from None
        self._log_attempt(endpoint, spec, str(response.status_code), attempt, started)
        if logger.isEnabledFor(logging.DEBUG):
            body = scrub_text(response.text, self._secrets(), _DEBUG_BODY_CHARS)
            logger.debug("Linnworks %s reply %s: %s", endpoint, response.status_code, body)
        return response

    def _log_attempt(
        self, endpoint: str, spec: EndpointSpec, outcome: str, attempt: int, started: float
    ) -> None:
        elapsed_ms = (self._clock() - started) * 1000
        logger.info(
            "Linnworks %s %s -> %s (attempt %d, %.0f ms)",
            spec.verb,
            _path(endpoint),
            outcome,
            attempt,
            elapsed_ms,
        )

    # --- reading the reply -----------------------------------------------------------------------------

    def _read(self, endpoint: str, spec: EndpointSpec, response: httpx.Response) -> Reply:
        context = self._context(spec, response, endpoint)
        if not 200 <= response.status_code < 300:
            self._raise_for_status(endpoint, response, context)
        try:
            data = _decode_body(endpoint, response, context)
        except MalformedResponseError as error:
            excerpt = scrub_text(response.text, self._secrets(), 300)
            raise MalformedResponseError(
                error.message, context=replace(context, body_excerpt=excerpt)
            ) from None
        has_body = bool(response.content.strip())
        return Reply(response.status_code, data, response.headers, context, has_body=has_body)

    def _raise_for_status(self, endpoint: str, response: httpx.Response, context: CallContext) -> NoReturn:
        """Linnworks' refusals as ``clients.errors``: what the shared retry loop and the caller act on."""
        status, text = response.status_code, response.text
        if status == 429 or (400 <= status < 500 and _QUOTA_TEXT.search(text)):
            retry_after = capped_retry_after(response.headers, "Retry-After", self._retry.max_retry_after)
            message = f"Linnworks {endpoint}: rate limit reached"
            raise RateLimitedError(message, retry_after=retry_after, context=context)
        if is_transient_status(status):
            message = f"Linnworks {endpoint} answered {status}"
            raise RetryableError(message, effect_possible=True, context=context)
        if status in (403, 404):
            raise StopError(_stop_message(endpoint, status), context=context)
        refusal = _linnworks_message(text, self._secrets())
        raise RecordError(f"Linnworks {endpoint} refused the request: {refusal}", context=context)

    def _context(self, spec: EndpointSpec, response: httpx.Response, endpoint: str) -> CallContext:
        ok = 200 <= response.status_code < 300
        return CallContext(
            service=SERVICE,
            method=spec.verb,
            path=_path(endpoint),
            status=response.status_code,
            request_id=request_id(response.headers, _REQUEST_ID_HEADERS),
            body_excerpt=None if ok else scrub_text(response.text, self._secrets(), 300),
        )

    def _secrets(self) -> tuple[str, ...]:
        credentials = self._credentials
        own = (credentials.application_secret, credentials.installation_token, credentials.application_id)
        return own + self.session.secrets()


def describe_validation_error(error: ValidationError) -> str:
    """Where a reply had the wrong shape, without echoing the values (they may be personal data)."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
        for item in error.errors(include_input=False)
    ]
    more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


def _decode_body(endpoint: str, response: httpx.Response, context: CallContext) -> Any:
    if response.status_code == 204 or not response.content.strip():
        return None
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type or response.content.lstrip()[:1] == b"<":
        raise MalformedResponseError(
            f"Linnworks {endpoint} replied with HTML instead of JSON", context=context
        )
    try:
        return loads_json(response.content)
    except ValueError:
        raise MalformedResponseError(
            f"Linnworks {endpoint} replied with unreadable JSON ({len(response.content)} bytes)",
            context=context,
        ) from None


def _stop_message(endpoint: str, status: int) -> str:
    if status == 403:
        return (
            f"Linnworks {endpoint} is forbidden (403): the app lacks a permission; "
            "grant it in the app's permissions in Linnworks and reinstall"
        )
    return f"Linnworks {endpoint} does not exist on this server (404): check the host and the API path"


def _linnworks_message(text: str, secrets: tuple[str, ...]) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    message = data.get("Message") if isinstance(data, dict) else None
    return scrub_text(str(message) if message else text or "(empty body)", secrets, 300)


def _path(endpoint: str) -> str:
    return f"/api/{endpoint}"


def _guid_setting(value: str, setting: str) -> str:
    try:
        return str(UUID(value.strip()))
    except ValueError:
        raise AuthenticationError(
            f"{setting} is not set to a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        ) from None
