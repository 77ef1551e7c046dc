"""Client-side pacing below Linnworks' per-method limits.

Linnworks limits each API method separately, so the client paces with the method name as the key of the
shared ``clients._pacing`` pacers. Limits are per account: ``shared_pacer`` gives every client of one
account in this process the same pacer, so two clients cannot each spend the whole budget.
"""

from __future__ import annotations

import hashlib
import threading

from clients._pacing import SpacingPacer

__all__ = ["shared_pacer"]

_SHARED: dict[tuple[str, float], SpacingPacer] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacer(account_key: str, time_scale: float = 1.0) -> SpacingPacer:
    """The process-wide pacer of one Linnworks account (real clock), shared by every client built for it.

    ``account_key`` is hashed; it may contain the installation token.
    """
    key = (hashlib.sha256(account_key.encode()).hexdigest(), time_scale)
    with _SHARED_LOCK:
        pacer = _SHARED.get(key)
        if pacer is None:
            pacer = _SHARED[key] = SpacingPacer(time_scale=time_scale)
        return pacer
