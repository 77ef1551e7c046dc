"""Fault injection: what a flaky Linnworks does to a client (REFERENCE §12.22).

A rule names a method (``Orders/ProcessOrder``, any case) or ``*`` (every data-host method; the auth
method must be named explicitly), and fires either on the next ``count`` matching calls or with a
``probability`` per call drawn from the sandbox's seeded RNG (optionally capped by ``count``).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["FAULT_KINDS", "FaultBook", "FaultRule"]

FaultKind = Literal["rate_limit", "server_error", "slow", "drop_before", "drop_after", "revoke_session"]
RetryAfterStyle = Literal["seconds", "http_date", "missing", "garbage"]
FAULT_KINDS: tuple[str, ...] = (
    "rate_limit",
    "server_error",
    "slow",
    "drop_before",
    "drop_after",
    "revoke_session",
)
RETRY_AFTER_STYLES: tuple[str, ...] = ("seconds", "http_date", "missing", "garbage")
AUTH_METHOD = "auth/authorizebyapplication"


@dataclass
class FaultRule:
    """One injected fault.

    Attributes:
        kind: ``rate_limit`` (429 + quota body + Retry-After), ``server_error`` (``status``, default 503),
            ``slow`` (reply after ``delay_seconds``, work done normally), ``drop_before`` (close the socket
            without doing the work), ``drop_after`` (do the work, then close the socket: the lost reply),
            ``revoke_session`` (the caller's session token stops working: 401 now and after).
        method: ``Controller/Method`` or ``*``.
        count: Fire on this many matching calls (default 1 when ``probability`` is not set).
        probability: Fire with this probability per matching call instead (seeded RNG).
        status: HTTP status for ``server_error``.
        delay_seconds: Delay for ``slow``.
        retry_after: How the 429 states ``Retry-After``: integer seconds, an HTTP date, missing, or garbage.
        retry_after_seconds: The value for ``seconds`` / ``http_date``.
    """

    kind: FaultKind
    method: str = "*"
    count: int | None = None
    probability: float | None = None
    status: int = 503
    delay_seconds: float = 1.0
    retry_after: RetryAfterStyle = "seconds"
    retry_after_seconds: int = 1
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.retry_after not in RETRY_AFTER_STYLES:
            raise ValueError(
                f"unknown retry_after {self.retry_after!r}; one of {', '.join(RETRY_AFTER_STYLES)}"
            )
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.count is None and self.probability is None:
            self.count = 1

    def applies_to(self, method: str) -> bool:
        wanted = self.method.lower()
        if wanted == "*":
            return method.lower() != AUTH_METHOD
        return wanted == method.lower()

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The active rules; ``pick`` decides (under the server lock) which one fires for a call."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.exhausted or not rule.applies_to(method):
                continue
            if rule.probability is not None and self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None
