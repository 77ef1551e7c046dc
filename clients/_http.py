"""What an HTTP exchange's outcome means, answered the same way for every partner client.

Each client still decides what to raise (its own messages; which operations may be repeated, and what a lost
reply means for them). These helpers answer only the questions every client asks: did the request certainly
not leave, is this status worth another attempt, which header carries the partner's request id, and what an
httpx exception means in ``clients.errors`` (``transport_error``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

from clients.errors import CallContext, Lw3plError, RetryableError, StopError

__all__ = ["TRANSIENT_STATUSES", "is_transient_status", "never_sent", "request_id", "transport_error"]

TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})


def is_transient_status(status: int) -> bool:
    """True for a timeout (408) or any server error (5xx): a later attempt may not meet it."""
    return status in TRANSIENT_STATUSES or status >= 500


def never_sent(error: httpx.HTTPError) -> bool:
    """True when no connection was made, so the partner certainly did not act on the request."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def request_id(headers: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The partner's request id: the first of the header ``names`` (lower case) with a non-empty value."""
    for name in names:
        value = headers.get(name)
        if value:
            return str(value)
    return None


def transport_error(error: httpx.HTTPError, operation: str, context: CallContext) -> Lw3plError:
    """An httpx failure of ``operation`` (e.g. ``"Linnworks Orders/GetOrderById"``) as the error to raise.

    Connect failures are retryable and certainly had no effect; timeouts and dropped connections are
    retryable but the partner may have acted (``effect_possible``); a wrong scheme or proxy is a stop.
    """
    name = type(error).__name__
    if never_sent(error):
        return RetryableError(f"{operation}: could not connect ({name})", context=context)
    if not isinstance(error, httpx.TransportError) or isinstance(
        error, httpx.UnsupportedProtocol | httpx.ProxyError
    ):
        return StopError(f"{operation}: cannot call the server ({name})", context=context)
    what = "no reply in time" if isinstance(error, httpx.TimeoutException) else "connection dropped"
    return RetryableError(f"{operation}: {what} ({name})", effect_possible=True, context=context)
