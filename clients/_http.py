"""What an HTTP exchange's outcome means, answered the same way for every partner client.

Each client still decides what to raise (its own messages; which operations may be repeated, and what a lost
reply means for them). These helpers answer only the questions every client asks: did the request certainly
not leave, is this status worth another attempt, which header carries the partner's request id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

__all__ = ["TRANSIENT_STATUSES", "is_transient_status", "never_sent", "request_id"]

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
