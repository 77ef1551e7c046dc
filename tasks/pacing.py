"""One Linnworks budget per account, shared by every flow and worker: Prefect global concurrency limits.

Each Linnworks method has its own per-minute limit, so each gets a limit named
``linnworks-<account>-<controller>-<method>`` with ``slot_decay_per_second = per_minute / 60`` (a token
bucket the Prefect server enforces across processes and hosts). The burst (``limit``) is kept small because
Linnworks counts a rolling minute. Without a Prefect server (the demo, the benchmarks) the client's own
in-process pacer is used instead; see :func:`make_pacer`.
"""

from __future__ import annotations

import contextlib
import re
import threading

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import rate_limit
from prefect.exceptions import ObjectAlreadyExists
from prefect.settings import PREFECT_API_URL

__all__ = ["PrefectRateLimitPacer", "limit_name", "prefect_server_configured"]

_BURST = 3
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def limit_name(account: str, method: str) -> str:
    """The global-concurrency-limit name for one Linnworks method of one account."""
    return _UNSAFE.sub("-", f"linnworks-{account}-{method}".lower()).strip("-")


def prefect_server_configured() -> bool:
    """True when a Prefect server is configured (PREFECT_API_URL), i.e. limits can be shared."""
    return bool(PREFECT_API_URL.value())


class PrefectRateLimitPacer:
    """The client's ``Pacer``: one token from the method's server-side bucket per call.

    Limits are created on first use (idempotently), so a new account or method needs no setup step.
    """

    def __init__(self, account: str = "default", time_scale: float = 1.0) -> None:
        self._account = account
        self._time_scale = time_scale  # sandboxes only: their minute lasts 60 / time_scale seconds
        self._ensured: set[str] = set()
        self._lock = threading.Lock()

    def acquire(self, method: str, per_minute: int) -> None:
        name = limit_name(self._account, method)
        self._ensure(name, per_minute)
        rate_limit(name, occupy=1, strict=True)

    def defer(self, method: str, seconds: float) -> None:
        """Minimal ``Pacer.defer`` (added in w9b for mypy); the owner of tasks/pacing.py implements it.

        Until then only the calling thread waits (the client's retry loop sleeps the delay itself).
        """

    def _ensure(self, name: str, per_minute: int) -> None:
        with self._lock:
            if name in self._ensured:
                return
            spec = GlobalConcurrencyLimitCreate(
                name=name,
                limit=_BURST,
                slot_decay_per_second=per_minute * self._time_scale / 60.0,
                active=True,
            )
            # Another worker may have created it first: that is fine.
            with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(spec)
            self._ensured.add(name)
