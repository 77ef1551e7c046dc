"""The Linnworks session: authenticate once, reuse the token, refresh before the idle expiry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Session", "SessionState"]

IDLE_EXPIRY_SECONDS = 20 * 60.0
_REFRESH_MARGIN = 0.9  # refresh at 18 of the 20 idle minutes: a paced or slow call must not straddle expiry


@dataclass(frozen=True)
class SessionState:
    """One authorised session: the raw token for ``Authorization`` and the data host."""

    token: str
    server: str

    def __repr__(self) -> str:
        return f"SessionState(server={self.server!r})"


class Session:
    """Thread-safe holder of the current session; one authentication at a time.

    Args:
        authenticate: performs Auth/AuthorizeByApplication and returns the new state.
        clock: monotonic seconds (injected).
        time_scale: the partner's time runs this many times faster (sandbox benchmarks).
    """

    def __init__(
        self, authenticate: Callable[[], SessionState], clock: Callable[[], float], time_scale: float = 1.0
    ) -> None:
        self._authenticate = authenticate
        self._clock = clock
        self._refresh_after = IDLE_EXPIRY_SECONDS * _REFRESH_MARGIN / time_scale
        self._state: SessionState | None = None
        self._last_used = 0.0
        self._lock = threading.Lock()

    def current(self) -> SessionState:
        """The session to use now, authenticating first if there is none or it has idled too long."""
        with self._lock:
            now = self._clock()
            if self._state is None or now - self._last_used >= self._refresh_after:
                self._state = self._authenticate()
                now = self._clock()
            self._last_used = now
            return self._state

    def invalidate(self, token: str) -> None:
        """Forget the session ``token`` (after a 401); a newer session from another thread is kept."""
        with self._lock:
            if self._state is not None and self._state.token == token:
                self._state = None

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be logged: the current session token."""
        state = self._state
        return () if state is None else (state.token,)
