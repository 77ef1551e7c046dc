"""The runtime a task works with: the Linnworks client, the 3PL adapter, the ledger and the settings.

Tasks get it with :func:`current_runtime` instead of parameters, because clients and credentials must not be
flow parameters (they are stored and shown by Prefect). It is built once per process from the environment
(or a credentials block) and shared by the task-runner threads; tests and the demo install their own with
:func:`use_runtime`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import uuid4

from clients.errors import StopError
from clients.linnworks import LinnworksClient, Pacer
from clients.sftp import SftpAdapter, SftpConfig
from clients.shipbob import ShipBobAdapter, ShipBobConfig
from clients.threepl import ThreePLAdapter
from ledger import Ledger, LedgerError, OrderRecord, State
from lw3pl.settings import Settings

__all__ = [
    "Runtime",
    "build_runtime",
    "current_runtime",
    "flow_runtime",
    "installed_runtime",
    "leased",
    "make_adapter",
    "move_all",
    "run_owner",
    "shared_pacer",
    "use_runtime",
]


@dataclass
class Runtime:
    """Everything a task needs to talk to the outside world, for one seller account."""

    settings: Settings
    linnworks: LinnworksClient
    threepl: ThreePLAdapter
    ledger: Ledger

    @property
    def account_key(self) -> str:
        """A non-secret fingerprint of the Linnworks account (for cache keys): same account, same key."""
        settings = self.settings
        material = "|".join(
            [
                settings.linnworks_auth_url,
                settings.linnworks_application_id,
                settings.linnworks_installation_token.get_secret_value(),
            ]
        )
        return f"{settings.lw3pl_account}-{hashlib.sha256(material.encode()).hexdigest()[:16]}"

    def close(self) -> None:
        self.linnworks.close()
        self.threepl.close()
        self.ledger.close()


def make_adapter(settings: Settings) -> ThreePLAdapter:
    """The 3PL adapter THREEPL_ADAPTER names, built from the settings (secrets unwrapped in the adapter)."""
    if settings.threepl_adapter == "shipbob":
        if not settings.shipbob_api_token.get_secret_value() or settings.shipbob_channel_id is None:
            raise StopError("ShipBob is not configured: set SHIPBOB_API_TOKEN and SHIPBOB_CHANNEL_ID")
        config = ShipBobConfig(
            base_url=settings.shipbob_api_url,
            token=settings.shipbob_api_token,
            channel_id=settings.shipbob_channel_id,
            api_version=settings.shipbob_api_version,
            time_scale=settings.partner_time_scale,
        )
        return ShipBobAdapter(config)
    if not settings.sftp_host or not settings.sftp_username:
        raise StopError(
            "SFTP is not configured: set SFTP_HOST, SFTP_USERNAME and SFTP_PASSWORD or SFTP_KEY_FILE"
        )
    sftp = SftpConfig(
        host=settings.sftp_host,
        port=settings.sftp_port,
        username=settings.sftp_username,
        password=settings.sftp_password if settings.sftp_password.get_secret_value() else None,
        key_file=settings.sftp_key_file,
        host_public_key=settings.sftp_host_key or None,
        known_hosts=settings.sftp_known_hosts,
        inbound_dir=settings.sftp_inbound_dir,
        outbound_dir=settings.sftp_outbound_dir,
    )
    return SftpAdapter(sftp)


def build_runtime(settings: Settings, *, pacer: Pacer | None = None) -> Runtime:
    """Clients and ledger for ``settings``; the ledger schema is migrated on first use."""
    if not settings.linnworks_application_id:
        raise StopError(
            "Linnworks is not configured: set LINNWORKS_APPLICATION_ID, LINNWORKS_APPLICATION_SECRET and "
            "LINNWORKS_INSTALLATION_TOKEN (or name an lw3pl Credentials block)"
        )
    linnworks = LinnworksClient(
        settings.linnworks_application_id,
        settings.linnworks_application_secret,
        settings.linnworks_installation_token,
        auth_url=settings.linnworks_auth_url,
        pacer=pacer,
        time_scale=settings.partner_time_scale,
    )
    ledger = Ledger(
        settings.resolved_ledger_url,
        account=settings.lw3pl_account,
        threepl=settings.threepl_adapter,
        migrate=True,
    )
    return Runtime(settings=settings, linnworks=linnworks, threepl=make_adapter(settings), ledger=ledger)


_lock = threading.Lock()
_installed: Runtime | None = None
_built: dict[str, Runtime] = {}


def current_runtime(credentials_block: str | None = None) -> Runtime:
    """The installed runtime, or one built (once per process) from the environment and the named block."""
    with _lock:
        if _installed is not None:
            return _installed
        key = credentials_block or ""
        if key not in _built:
            settings = _settings(credentials_block)
            _built[key] = build_runtime(settings, pacer=shared_pacer(settings))
        return _built[key]


def _settings(credentials_block: str | None) -> Settings:
    if credentials_block is None:
        return Settings()
    from lw3pl.blocks import settings_from_block  # Prefect block API only when a block is named

    return settings_from_block(credentials_block)


def shared_pacer(settings: Settings) -> Pacer | None:
    """How the Linnworks budget is shared (LINNWORKS_PACER); None means the client's in-process pacer.

    ``auto``: Prefect's global limits when a Prefect server is configured (one budget for every worker of the
    account), else in-process. ``local`` suits one worker per account: it reaches ~97 % of each limit, where a
    server round trip per token holds one caller near 80 % (bench/cycle.py, section 3).
    """
    from tasks.pacing import PrefectRateLimitPacer, prefect_server_configured

    wanted = settings.linnworks_pacer
    if wanted == "prefect" or (wanted == "auto" and prefect_server_configured()):
        return PrefectRateLimitPacer(settings.lw3pl_account, settings.partner_time_scale)
    return None


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make ``runtime`` the one every task in this process uses, until the block ends."""
    global _installed
    with _lock:
        previous, _installed = _installed, runtime
    try:
        yield runtime
    finally:
        with _lock:
            _installed = previous


def installed_runtime() -> Runtime | None:
    """The runtime :func:`use_runtime` installed (demo, tests, a parent flow), without building one."""
    with _lock:
        return _installed


@contextmanager
def flow_runtime(credentials_block: str | None = None) -> Iterator[Runtime]:
    """The runtime for one flow run: the installed one (demo, tests, a parent flow) or one built here."""
    with _lock:
        installed = _installed
    if installed is not None:
        yield installed
        return
    with use_runtime(current_runtime(credentials_block)) as runtime:
        yield runtime


def run_owner() -> str:
    """A lease owner name unique to this task invocation (host, process, random suffix)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


@contextmanager
def leased(
    runtime: Runtime,
    states: Collection[State],
    owner: str,
    *,
    limit: int,
    references: Collection[str] | None = None,
) -> Iterator[list[OrderRecord]]:
    """Lease up to ``limit`` orders for one task, and give every lease back when the task ends."""
    claimed = runtime.ledger.claim(
        states, owner, limit=limit, lease_seconds=runtime.settings.lease_seconds, references=references
    )
    try:
        yield claimed
    finally:
        runtime.ledger.release([record.reference for record in claimed], owner)


def move_all(
    runtime: Runtime,
    references: Sequence[str],
    to: State,
    *,
    expected_from: Collection[State],
    owner: str,
    detail: str,
) -> list[OrderRecord]:
    """Move orders one outside call settled together, in one ledger transaction.

    If any of them fails its check (a lease lost to another worker, a state changed meanwhile), the batch
    write is undone and the orders are moved one by one, so each order gets exactly the outcome it would get
    alone (the same errors, raised by the one that fails).
    """
    if not references:
        return []
    try:
        return runtime.ledger.transition_many(
            references, to, expected_from=expected_from, owner=owner, detail=detail
        )
    except LedgerError:
        return [
            runtime.ledger.transition(ref, to, expected_from=expected_from, owner=owner, detail=detail)
            for ref in references
        ]
