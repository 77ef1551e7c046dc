"""One way to send a partner request with retries, shared by every HTTP client.

A client classifies its partner's replies into ``clients.errors`` (each client knows its partner's statuses,
headers and bodies); ``Sender.send`` does the rest the same way for every partner:

* a ``RetryableError`` is tried again within the ``RetryPolicy`` (attempts, total time, Retry-After cap);
* a ``RateLimitedError`` also pushes back the pacer's later slots (``Pacer.defer``), so every thread waits;
* a call that is ``Safety.UNSAFE`` (a non-idempotent write) is never repeated once the request may have
  reached the partner (``effect_possible``): it raises ``OutcomeUnknownError`` and the caller looks it up;
* an ``UnreadableReplyError`` (a 2xx whose body could not be read) is read again, and reported as
  ``MalformedResponseError`` when the attempts run out.

Delays are in the partner's seconds; a client talking to a sped-up sandbox (``time_scale``) waits
``delay / time_scale`` real seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from clients._pacing import Pacer
from clients._retry import RetryPolicy
from clients.errors import (
    CallContext,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitedError,
    RetryableError,
)

__all__ = ["Reply", "Safety", "Sender", "UnreadableReplyError"]

T = TypeVar("T")


class Safety(Enum):
    """What repeating a call could do, which decides whether a lost reply may be retried."""

    READ = "read"
    IDEMPOTENT = "idempotent write"
    UNSAFE = "non-idempotent write"


@dataclass(frozen=True)
class Reply:
    """A reply the client accepted: its status, parsed JSON (None for an empty body or ``null``), headers."""

    status: int
    data: Any
    headers: Mapping[str, str]
    context: CallContext
    has_body: bool = True


class UnreadableReplyError(RetryableError):
    """A 2xx whose body could not be read (a proxy page, a cut reply): read again, then call it malformed."""

    def __init__(self, message: str, *, context: CallContext | None = None) -> None:
        super().__init__(message, effect_possible=True, context=context)


@dataclass(frozen=True)
class Sender:
    """The retry loop of one client: its partner's name (for messages and logs), pacer, policy and clocks."""

    partner: str
    pacer: Pacer
    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    time_scale: float = 1.0
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("lw3pl.clients"))

    def send(self, operation: str, pacing_key: str, safety: Safety, attempt_once: Callable[[int], T]) -> T:
        """``attempt_once(attempt)`` until it returns, or the error says stop, or the policy gives up.

        ``operation`` names the call in messages (``"Orders/ProcessOrder"``, ``"POST /order"``);
        ``pacing_key`` is the pacer key a 429 defers.
        """
        started = self.clock()
        attempt = 1
        while True:
            try:
                return attempt_once(attempt)
            except RetryableError as error:
                delay = self._delay_or_raise(operation, safety, error, attempt, started)
                self.logger.info(
                    "%s %s: retrying after %s in %.2f s", self.partner, operation, type(error).__name__, delay
                )
                self._wait(pacing_key, error, delay)
            attempt += 1

    def _delay_or_raise(
        self, operation: str, safety: Safety, error: RetryableError, attempt: int, started: float
    ) -> float:
        if safety is Safety.UNSAFE and error.effect_possible:
            raise OutcomeUnknownError(
                f"{self.partner} {operation}: no usable reply ({error.message}); the write may have "
                "happened, look the record up before trying again",
                context=error.context,
            ) from error
        elapsed = (self.clock() - started) * self.time_scale
        delay = self.policy.next_delay(error, attempt, elapsed)
        if delay is None and isinstance(error, UnreadableReplyError):
            raise MalformedResponseError(error.message, context=error.context) from error
        if delay is None:
            raise error
        return delay

    def _wait(self, pacing_key: str, error: RetryableError, delay: float) -> None:
        real = delay / self.time_scale
        if isinstance(error, RateLimitedError):
            self.pacer.defer(pacing_key, real)  # every thread of this key waits, not only this one
        if real > 0:
            self.sleep(real)
