"""The runtime a task works with: the Linnworks client, the 3PL adapter, the ledger and the settings.

A flow resolves its :class:`Account` once (:func:`resolve_account`: a credentials block, or the environment)
and passes that small handle to every task; a task looks its runtime up with :func:`runtime_for`. Clients and
credentials are never parameters (Prefect stores and shows those); the runtime is built where the secrets are
unwrapped, once per process and account, and shared by the task-runner threads. Tests and the demo register a
runtime they built with :func:`registered_runtime`.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from clients.errors import StopError
from clients.linnworks import LinnworksClient
from clients.shipbob import ShipBobAdapter, ShipBobConfig
from clients.threepl import ThreePLAdapter
from ledger import Changes, Ledger, Move, OrderRecord, State
from lw3pl.core.blocks import settings_from_block
from lw3pl.core.settings import Settings

if TYPE_CHECKING:  # Prefect's client is imported only where a shared budget is used
    from tasks.pacing import PrefectRateLimitPacer

__all__ = [
    "PART_SIZE",
    "Account",
    "Runtime",
    "batches_in_flight",
    "build_runtime",
    "close_runtimes",
    "existing_runtime",
    "in_parts",
    "leased",
    "make_adapter",
    "move_all",
    "parts",
    "registered_runtime",
    "resolve_account",
    "run_owner",
    "runtime_for",
    "shared_pacer",
]

logger = logging.getLogger("lw3pl.context")

T = TypeVar("T")


@dataclass
class Runtime:
    """Everything a task needs to talk to the outside world, for one seller account."""

    settings: Settings
    linnworks: LinnworksClient
    threepl: ThreePLAdapter
    ledger: Ledger
    pacer: PrefectRateLimitPacer | None = None
    """The shared-budget pacer the Linnworks client uses, if any: it holds a Prefect API connection."""

    def close(self) -> None:
        self.linnworks.close()
        self.threepl.close()
        self.ledger.close()
        if self.pacer is not None:
            self.pacer.close()


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
    # Imported here: asyncssh and its cryptography cost every ``lw3pl run`` of a ShipBob seller ~0.3 s of CPU.
    from clients.sftp import SftpAdapter, SftpConfig

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


# The collector's thresholds for a process that works in batches (see _settle_heap): the young generation
# is collected every 20,000 net container allocations instead of 700, the older ones as often as before.
_GC_THRESHOLDS = (20_000, 10, 10)
_heap_settled = threading.Event()


def _settle_heap() -> None:
    """Once per process, before its first runtime: keep the collector off what the imports built.

    Prefect, SQLAlchemy and the pydantic schemas leave ~180,000 objects that live as long as the process,
    and every full collection walked them all again. A batch allocates many containers (JSON replies,
    models, rows), so with the default thresholds the collector ran ~230 young and 2-3 full collections per
    1,000 exported orders, holding the GIL 0.4-0.5 s, a tenth of the run; frozen and with the higher
    threshold, about 0.1 s (bench/cycle.py timed through ``gc.callbacks``). Frozen objects are never
    collected, so freezing once bounds what could be kept to what was alive then (collected just before).
    """
    if _heap_settled.is_set():
        return
    _heap_settled.set()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


def build_runtime(settings: Settings, *, pacer: PrefectRateLimitPacer | None = None) -> Runtime:
    """Clients and ledger for ``settings``; the ledger schema is migrated on first use."""
    _settle_heap()
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
    threepl = make_adapter(settings)
    return Runtime(settings=settings, linnworks=linnworks, threepl=threepl, ledger=ledger, pacer=pacer)


class Account(BaseModel):
    """Which seller a task works for: small, non-secret and serialisable, so it is a plain task parameter.

    Prefect stores it with the run and hashes it into cache keys, so two sellers never share a cached result;
    the credentials stay in the process, in the runtime :func:`runtime_for` finds for it.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(
        min_length=1, description="LW3PL_ACCOUNT: the seller in the ledger, rate limits, artifacts"
    )
    block: str | None = Field(
        default=None, description="the lw3pl Credentials block of its credentials; None: the environment"
    )


_lock = threading.Lock()
_runtimes: dict[str | None, Runtime] = {}


def resolve_account(credentials_block: str | None = None) -> Account:
    """The account a flow works for; its runtime is built here, once per process and block (or the env)."""
    runtime = _runtime_of(credentials_block)
    return Account(name=runtime.settings.lw3pl_account, block=credentials_block)


def runtime_for(account: Account) -> Runtime:
    """The clients, ledger and settings of ``account``: built on first use in this process, then shared."""
    runtime = _runtime_of(account.block)
    if runtime.settings.lw3pl_account != account.name:
        source = f"block {account.block!r}" if account.block else "the environment"
        raise StopError(
            f"account {account.name!r} was asked for, but {source} now names account "
            f"{runtime.settings.lw3pl_account!r}: start the run again (LW3PL_ACCOUNT changed meanwhile)"
        )
    return runtime


def _runtime_of(credentials_block: str | None) -> Runtime:
    with _lock:
        runtime = _runtimes.get(credentials_block)
        if runtime is not None:
            return runtime
        settings = _settings(credentials_block)
        runtime = _runtimes[credentials_block] = build_runtime(settings, pacer=shared_pacer(settings))
    _release_dead_claims_at_start(runtime)
    return runtime


def _release_dead_claims_at_start(runtime: Runtime) -> None:
    """Free dead workers' claims as soon as a process starts working for the account, not only when it
    reaches a claim: a run that fails before claiming (a partner fault, a kill) would otherwise leave a
    killed worker's orders waiting for the next run that gets that far (the soak measured 476 s)."""
    from tasks.dead_owners import release_dead_claims

    release_dead_claims(runtime.ledger)


def _settings(credentials_block: str | None) -> Settings:
    if credentials_block is None:
        return Settings()
    return settings_from_block(credentials_block)


def close_runtimes() -> None:
    """Close and forget every runtime of this process (tests: so the next run builds from its settings)."""
    with _lock:
        runtimes = list(_runtimes.values())
        _runtimes.clear()
    for runtime in runtimes:
        runtime.close()


def shared_pacer(settings: Settings) -> PrefectRateLimitPacer | None:
    """How the Linnworks budget is shared (LINNWORKS_PACER); None means the client's in-process pacer.

    ``auto``: Prefect's global limits when a Prefect server is configured (one budget for every worker of the
    account), else in-process. ``local`` suits one worker per account: it reaches ~97 % of each limit, where a
    server round trip per token holds one caller near 80 % (bench/cycle.py, section 3). Either way the budget
    is the account's own: two sellers on one worker never spend each other's.
    """
    from tasks.pacing import PrefectRateLimitPacer, prefect_server_configured

    wanted = settings.linnworks_pacer
    if wanted == "prefect" or (wanted == "auto" and prefect_server_configured()):
        return PrefectRateLimitPacer(
            settings.lw3pl_account, settings.partner_time_scale, patience=settings.prefect_outage_seconds
        )
    return None


@contextmanager
def registered_runtime(runtime: Runtime, credentials_block: str | None = None) -> Iterator[Account]:
    """Serve ``runtime`` for ``credentials_block`` (None: the environment's account) until the block ends.

    Tests and the demo build their runtime from sandbox settings and register it here, instead of the flow
    building one from the environment or a Prefect block; what was registered before comes back after.
    """
    with _lock:
        previous = _runtimes.get(credentials_block)
        _runtimes[credentials_block] = runtime
    try:
        yield Account(name=runtime.settings.lw3pl_account, block=credentials_block)
    finally:
        with _lock:
            if previous is None:
                _runtimes.pop(credentials_block, None)
            else:
                _runtimes[credentials_block] = previous


def existing_runtime(credentials_block: str | None = None) -> Runtime | None:
    """The runtime registered or already built in this process for ``credentials_block``, without building one
    (the read-only check must not migrate a ledger)."""
    with _lock:
        return _runtimes.get(credentials_block)


def run_owner() -> str:
    """A lease owner name unique to this task invocation: ``host:pid:flow-run-id:suffix``.

    The host and process let a later run on this host see the owner died; the flow run lets any host see
    Prefect marked it Crashed (tasks.dead_owners). Outside a flow run the id part reads ``no-flow-run``.
    """
    from prefect.runtime import flow_run

    return f"{socket.gethostname()}:{os.getpid()}:{flow_run.id or 'no-flow-run'}:{uuid4().hex[:8]}"


@contextmanager
def leased(
    runtime: Runtime,
    states: Collection[State],
    owner: str,
    *,
    limit: int,
    references: Collection[str] | None = None,
) -> Iterator[list[OrderRecord]]:
    """Lease up to ``limit`` orders for one task, and give every lease back when the task ends.

    Claims of workers known dead are released first, so their orders are claimable now (tasks.dead_owners).
    """
    from tasks.dead_owners import holding, release_dead_claims

    with holding(owner):
        release_dead_claims(runtime.ledger)
        claimed = runtime.ledger.claim(
            states, owner, limit=limit, lease_seconds=runtime.settings.lease_seconds, references=references
        )
        try:
            yield claimed
        finally:
            runtime.ledger.release([record.reference for record in claimed], owner)


PART_SIZE = 100
"""Orders per part of a batch task: one Linnworks call (GetOrdersById, AssignOrderIdentifier,
ProcessOrdersInBatch) and a few ledger transactions each. A task may hold several parts (fewer task runs
cost less on the Prefect server and in this process); Linnworks documents no cap on ids per call, and the
one cap seen on a similar endpoint is 100, so no call carries more."""


def batches_in_flight(ledger: Ledger, most: int) -> int:
    """Batch tasks a flow keeps in flight: ``most`` on PostgreSQL, where the second hides one batch's round
    trips to the database; one on SQLite (``Ledger.one_writer``), where a second batch's commits wait for
    the one writer, and beside the other batch's partner calls each of its row steps hands the interpreter
    lock to another thread and waits to get it back (bench/contention.py). Each flow's ``most`` gives its
    figures."""
    return 1 if ledger.one_writer else most


def parts(items: Sequence[T]) -> list[Sequence[T]]:
    """``items`` in consecutive slices of PART_SIZE, the last one shorter."""
    return [items[start : start + PART_SIZE] for start in range(0, len(items), PART_SIZE)]


def in_parts(
    runtime: Runtime,
    owner: str,
    states: Collection[State],
    limit: int,
    act: Callable[[list[OrderRecord]], object],
) -> int:
    """Lease up to ``limit`` orders in ``states`` PART_SIZE at a time, ``act`` on each part (never an
    empty one) and give its leases back before the next; stop after a part that came back short. Returns
    how many were claimed."""
    claimed_in_all = 0
    for part in map(len, parts(range(limit))):
        with leased(runtime, states, owner, limit=part) as claimed:
            if claimed:  # a batch beside this one may have claimed every waiting order first
                act(claimed)
        claimed_in_all += len(claimed)
        if len(claimed) < part:
            break  # nothing more is waiting
    return claimed_in_all


def move_all(
    runtime: Runtime,
    references: Sequence[str],
    to: State,
    *,
    expected_from: Collection[State],
    owner: str,
    detail: str,
) -> list[OrderRecord]:
    """Move orders one outside call settled together, in ONE ledger transaction; the records that moved.

    Each order is checked on its own (``transition_each``): one whose lease was lost to another worker, or
    that another run moved meanwhile, is left exactly as it is, logged and left out of the result, and the
    others move. The lease rules are the ledger's: nothing is written for an order this owner does not hold.
    """
    if not references:
        return []
    expected, cleared = frozenset(expected_from), Changes(last_error=None)
    moves = [
        Move(reference=ref, to=to, expected_from=expected, detail=detail, changes=cleared)
        for ref in references
    ]
    moved: list[OrderRecord] = []
    for outcome in runtime.ledger.transition_each(moves, owner=owner):
        if outcome.moved and outcome.record is not None:
            moved.append(outcome.record)
        else:
            logger.warning("order %s not moved to %s: %s", outcome.reference, to, outcome.reason)
    return moved
