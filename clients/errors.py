"""One exception tree for every outside system, shaped by what the caller should do.

::

    Lw3plError
    ├── StopError                  stop: configuration or credentials are wrong; a person must fix them
    │   └── AuthenticationError    credentials rejected (after the one re-authentication)
    ├── RetryableError             retry: transient fault; a repeat is harmless
    │   └── RateLimitedError       retry later: the partner said to wait (``retry_after`` seconds)
    ├── OutcomeUnknownError        reconcile: a write may have happened; look it up, never repeat blindly
    └── RecordError                quarantine: this one record is bad (rejected, malformed); the rest go on
        └── MalformedResponseError the partner replied with something we cannot read

Clients translate transport exceptions and status codes into this tree once, at the edge. Nothing above
``clients/`` imports httpx or asyncssh; tasks decide retries by the class of the error alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthenticationError",
    "CallContext",
    "Lw3plError",
    "MalformedResponseError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "RecordError",
    "RetryableError",
    "StopError",
]

_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class CallContext:
    """What a person needs to find the failed call: never headers, never secrets."""

    service: str
    method: str
    path: str
    status: int | None = None
    request_id: str | None = None
    body_excerpt: str | None = None

    def describe(self) -> str:
        parts = [f"{self.service} {self.method} {self.path}"]
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        if self.body_excerpt:
            parts.append(f"body: {self.body_excerpt}")
        return ", ".join(parts)


def excerpt(text: str, limit: int = _EXCERPT_CHARS) -> str:
    """A short single-line excerpt of a reply body, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Lw3plError(Exception):
    """Base of every error lw3pl raises on purpose."""

    def __init__(self, message: str, *, context: CallContext | None = None) -> None:
        self.message = message
        self.context = context
        super().__init__(message if context is None else f"{message} ({context.describe()})")

    @property
    def status(self) -> int | None:
        return None if self.context is None else self.context.status


class StopError(Lw3plError):
    """Configuration or credentials are wrong: stop the run, a person must act."""


class AuthenticationError(StopError):
    """The partner rejected our credentials."""


class RetryableError(Lw3plError):
    """A transient fault; repeating the call is harmless unless ``effect_possible`` and the call is unsafe.

    ``effect_possible`` is True when the request may have reached the partner (a read timeout, a dropped
    reply, a 5xx): a non-idempotent write must then be looked up, not repeated (``clients._send``).
    """

    def __init__(
        self, message: str, *, effect_possible: bool = False, context: CallContext | None = None
    ) -> None:
        super().__init__(message, context=context)
        self.effect_possible = effect_possible


class RateLimitedError(RetryableError):
    """The partner asked us to slow down; wait ``retry_after`` seconds (None: unknown) before retrying."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, context: CallContext | None = None
    ) -> None:
        super().__init__(message, context=context)
        self.retry_after = retry_after


class OutcomeUnknownError(Lw3plError):
    """A write whose reply was lost: look the record up before doing anything else with it."""


class RecordError(Lw3plError):
    """This one record cannot be handled as it is; quarantine it with this message and go on."""


class MalformedResponseError(RecordError):
    """The partner's reply could not be read (HTML with 200, truncated JSON, wrong types)."""
