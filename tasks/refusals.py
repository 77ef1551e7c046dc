"""A refusal storm is a stop, not a quarantine (issue 13, item 7).

When the 3PL refuses every create the same way, the fault is in the set-up (a retired API version, a wrong
token, URL or channel, a mapping every order shares), not in the orders: quarantining them one by one hides
the cause and makes a person release each. :class:`RefusalWatch` sees each create's outcome as it completes
and calls a storm when a status comes back that cannot be about one order (401, 403, 404, 410), or when the
first ``STORM_SIZE`` outcomes of a batch are the same refusal (status and reason). The batch then stops
sending, puts the refused orders back to ``pending`` and the run fails with one message naming the setting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from clients.errors import Lw3plError, RecordError, StopError
from clients.threepl import SubmitOutcome, SubmitResult

__all__ = ["STORM_SIZE", "WIRE_STATUSES", "RefusalStorm", "RefusalWatch", "Sent", "refusal_key"]

STORM_SIZE = 3
"""The first this many outcomes of a batch, all the same refusal, are a storm."""

WIRE_STATUSES = frozenset({401, 403, 404, 410})
"""Statuses about the account, the URL or the API version, never about one order."""

_SETTINGS = {
    401: "SHIPBOB_API_TOKEN (the token was rejected)",
    403: "SHIPBOB_API_TOKEN's scopes and SHIPBOB_CHANNEL_ID",
    404: "SHIPBOB_API_URL and SHIPBOB_API_VERSION (the orders path does not exist there)",
    410: "SHIPBOB_API_VERSION (the 3PL says the API version is gone)",
}
_SAME_REASON = (
    "the mapping settings every order shares (SHIPPING_SERVICE_MAP, COUNTRY_CODE_MAP, the SKUs at the "
    "3PL, SHIPBOB_CHANNEL_ID)"
)


@dataclass(frozen=True)
class Sent:
    """What one create came back with: a result, an error, or nothing (not sent: the batch stopped)."""

    reference: str
    result: SubmitResult | None = None
    error: Lw3plError | None = None

    @property
    def sent(self) -> bool:
        return self.result is not None or self.error is not None


def refusal_key(sent: Sent) -> tuple[int | None, str] | None:
    """(status, reason) of a refusal about the order's content or the set-up; None for anything else."""
    if isinstance(sent.error, (RecordError, StopError)):
        return (sent.error.status, sent.error.message)
    if sent.result is not None and sent.result.outcome is SubmitOutcome.REJECTED:
        return (422, sent.result.reason())
    return None


class RefusalStorm(StopError):
    """The 3PL refused the batch's creates the same way: a set-up problem; the orders stay pending."""

    def __init__(self, key: tuple[int | None, str], refused: int) -> None:
        status, reason = key
        setting = _SETTINGS.get(status or 0, _SAME_REASON)
        super().__init__(
            f"the 3PL refused {refused} order creates with the same answer (status {status}: {reason}); "
            f"no order was quarantined, they stay pending. Check {setting}, then run export-orders again"
        )
        self.key = key


@dataclass
class RefusalWatch:
    """Judges create outcomes in the order they complete; thread-safe, shared by one batch's senders."""

    seen: list[tuple[int | None, str] | None] = field(default_factory=list)
    storm: tuple[int | None, str] | None = None
    stopped: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, sent: Sent) -> None:
        """Record one outcome; a storm sets ``stopped`` so no further create is sent."""
        if not sent.sent:
            return
        key = refusal_key(sent)
        with self._lock:
            if self.storm is not None:
                return
            if key is not None and (isinstance(sent.error, StopError) or key[0] in WIRE_STATUSES):
                self._call(key)
                return
            if len(self.seen) < STORM_SIZE:
                self.seen.append(key)
                if len(self.seen) == STORM_SIZE and key is not None and len(set(self.seen)) == 1:
                    self._call(key)

    def _call(self, key: tuple[int | None, str]) -> None:
        self.storm = key
        self.stopped.set()

    def is_storm(self, sent: Sent) -> bool:
        """Whether this order's outcome is the storm's refusal (or it was never sent): it stays pending."""
        return self.storm is not None and (not sent.sent or refusal_key(sent) == self.storm)
