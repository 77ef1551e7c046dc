"""The ``Ledger`` facade: the one object tasks hold, composed of the per-record parts.

``ledger.orders`` (the saga), ``ledger.leases``, ``ledger.events``, ``ledger.stock`` and ``ledger.catalogue``
share one engine and one migration history. The facade's methods delegate to them, so existing callers keep
working; new code may call a part directly. Every mutating call is one transaction, committed before it
returns; the batch methods (``register``, ``transition_each``, ``apply_events``, ``record_events``, ...)
commit a whole batch in one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy.engine import URL

from ledger._catalogue import Catalogue
from ledger._engine import migrate as migrate_schema
from ledger._events import Events
from ledger._leases import Leases
from ledger._orders import Orders
from ledger._records import (
    Changes,
    EventEffect,
    EventOutcome,
    HeldStockChange,
    HoldStatus,
    LedgerStats,
    Move,
    MoveOutcome,
    NewEvent,
    NewOrder,
    OrderRecord,
    OrderSummary,
    RegisterResult,
    StockState,
    TransitionRecord,
)
from ledger._states import State
from ledger._stock import SHIPPED_UNPROCESSED_STATES, Stock
from ledger._store import Store, utc_now

__all__ = ["SHIPPED_UNPROCESSED_STATES", "Changes", "Ledger", "utc_now"]


class Ledger:
    """The durable record of every order of one account at one 3PL (see the package docstring).

    Thread-safe: each call uses its own session and transaction; share one instance across a thread pool.

    Args:
        url: SQLAlchemy URL; ``sqlite:///path/ledger.db`` (directory created if missing) or
            ``postgresql://user@host/db`` (psycopg 3).
        account: the Linnworks account this ledger instance reads and writes; rows of other accounts in the
            same database are invisible to it.
        threepl: the 3PL name (e.g. ``"shipbob"``, ``"sftp"``); part of every key like ``account``.
        clock: returns the current timezone-aware UTC time (inject a fake one in tests).
        migrate: run ``ledger.migrate(url)`` first (idempotent).

    Raises (from any call):
        LedgerUnavailableError: the database cannot be reached or dropped the connection; stop the run.

    Example:
        >>> ledger = Ledger("sqlite:///.lw3pl/ledger.db", account="acme", migrate=True)
        >>> ledger.register([NewOrder(reference=order_id, num_order_id="1001", payload_hash=h)])
        >>> claimed = ledger.claim([State.PENDING], owner="worker-1", limit=100, lease_seconds=300)
        >>> ledger.transition_each(
        ...     [Move(reference=o.reference, to=State.SUBMITTING, expected_from={State.PENDING},
        ...           changes={"count_attempt": True}) for o in claimed],
        ...     owner="worker-1",
        ... )
    """

    def __init__(
        self,
        url: str | URL,
        *,
        account: str = "default",
        threepl: str = "shipbob",
        clock: Callable[[], datetime] = utc_now,
        migrate: bool = False,
    ) -> None:
        if migrate:
            migrate_schema(url)
        self.account = account
        self.threepl = threepl
        self._store = Store(url, account=account, threepl=threepl, clock=clock)
        self.orders = Orders(self._store)
        self.leases = Leases(self._store)
        self.events = Events(self._store, self.orders)
        self.stock = Stock(self._store)
        self.catalogue = Catalogue(self._store)

    def __repr__(self) -> str:
        return f"Ledger({self._store.database!r}, account={self.account!r}, threepl={self.threepl!r})"

    @property
    def one_writer(self) -> bool:
        """Whether the database takes one write transaction at a time (SQLite): batches of one run then
        queue for it rather than overlap, so a flow runs them one after the other."""
        return self._store.one_writer

    def close(self) -> None:
        """Close the connection pool."""
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def stats(self) -> LedgerStats:
        """Statements sent and commits made through this ledger since it was opened (for benchmarks)."""
        return self._store.stats()

    # --- orders ------------------------------------------------------------------------------------------

    def register(self, orders: Sequence[NewOrder]) -> RegisterResult:
        """See ``Orders.register``: a ``pending`` row per new reference; existing rows untouched."""
        return self.orders.register(orders)

    def get(self, reference: str) -> OrderRecord | None:
        """The order with this reference, or None."""
        return self.orders.get(reference)

    def get_many(self, references: Iterable[str]) -> dict[str, OrderRecord]:
        """The known orders among ``references``, keyed by reference (unknown ones are absent)."""
        return self.orders.get_many(references)

    def summaries(self, references: Iterable[str]) -> dict[str, OrderSummary]:
        """See ``Orders.summaries``: what report rows show of each known order, without its whole record."""
        return self.orders.summaries(references)

    def in_states(
        self, states: Collection[State], *, limit: int | None = None, updated_before: datetime | None = None
    ) -> list[OrderRecord]:
        """Orders in ``states``, least recently updated first (``updated_before`` finds stuck ones)."""
        return self.orders.in_states(states, limit=limit, updated_before=updated_before)

    def references_in(self, states: Collection[State]) -> list[str]:
        """The references of the orders in ``states``, in ``in_states``' order, without their records."""
        return self.orders.references_in(states)

    def counts_by_state(self, states: Collection[State] | None = None) -> dict[State, int]:
        """How many orders are in each state (every state present, zero included); with ``states``, only
        those are counted, the others show zero."""
        return self.orders.counts_by_state(states)

    def quarantined(self) -> list[OrderRecord]:
        """Quarantined orders, oldest first; each has ``quarantine_reason`` and ``quarantined_from``."""
        return self.orders.in_states([State.QUARANTINED])

    def history(self, reference: str) -> list[TransitionRecord]:
        """The order's state changes, oldest first (the audit trail)."""
        return self.orders.history(reference)

    def transition(
        self,
        reference: str,
        to: State,
        *,
        expected_from: Collection[State],
        owner: str | None,
        detail: str = "",
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Move one order; see ``Orders.transition``. Both checks are stated by every caller.

        ``owner`` is the lease the caller holds; ``None`` says, explicitly, that the move is made without one
        (a 3PL event, which applies to the order whichever run holds it): ``expected_from`` alone guards it.
        """
        return self.orders.transition_unchecked(
            reference, to, expected_from=expected_from, owner=owner, detail=detail, **changes
        )

    def transition_each(self, moves: Sequence[Move], *, owner: str) -> list[MoveOutcome]:
        """See ``Orders.transition_each``: many moves, one transaction, one outcome per move."""
        return self.orders.transition_each(moves, owner=owner)

    def transition_many(
        self,
        references: Sequence[str],
        to: State,
        *,
        expected_from: Collection[State],
        owner: str | None,
        detail: str = "",
    ) -> list[OrderRecord]:
        """See ``Orders.transition_many``: several orders to one state, all or nothing."""
        return self.orders.transition_many(
            references, to, expected_from=expected_from, owner=owner, detail=detail
        )

    def update(
        self,
        reference: str,
        *,
        expected_from: Collection[State],
        owner: str | None,
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Apply ``changes`` without a state change (e.g. record an error and stay), with the same checks."""
        return self.orders.update(reference, expected_from=expected_from, owner=owner, **changes)

    def quarantine(
        self,
        reference: str,
        reason: str,
        *,
        expected_from: Collection[State],
        owner: str | None,
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """See ``Orders.quarantine``: park the order for a person, with a reason they can act on.

        The lease and the expected states are stated as for ``transition``; a person's release from
        quarantine (``release_quarantine``, the CLI) is the one move made without them.
        """
        return self.orders.quarantine(reference, reason, expected_from=expected_from, owner=owner, **changes)

    def release_quarantine(self, reference: str, to: State | None = None, *, detail: str = "") -> OrderRecord:
        """See ``Orders.release_quarantine``: a person returns a quarantined order (no lease needed)."""
        return self.orders.release_quarantine(reference, to, detail=detail)

    # --- leases ------------------------------------------------------------------------------------------

    def claim(
        self,
        states: Collection[State],
        owner: str,
        *,
        limit: int,
        lease_seconds: float,
        references: Collection[str] | None = None,
    ) -> list[OrderRecord]:
        """See ``Leases.claim``: lease up to ``limit`` free orders in ``states``."""
        return self.leases.claim(
            states, owner, limit=limit, lease_seconds=lease_seconds, references=references
        )

    def renew(self, references: Iterable[str], owner: str, *, lease_seconds: float) -> list[str]:
        """Extend ``owner``'s unexpired leases; returns the references renewed (a missing one was lost)."""
        return self.leases.renew(references, owner, lease_seconds=lease_seconds)

    def release(self, references: Iterable[str], owner: str) -> list[str]:
        """Give up ``owner``'s leases on these orders so others may claim them now; returns those released."""
        return self.leases.release(references, owner)

    def lease_owners(self) -> list[str]:
        """See ``Leases.owners``: every owner holding an unexpired lease now."""
        return self.leases.owners()

    def release_claims_of(self, owners: Collection[str]) -> list[str]:
        """See ``Leases.release_claims_of``: free every lease of owners known to be dead."""
        return self.leases.release_claims_of(owners)

    def release_dead_local_owners(self, host: str | None = None) -> list[str]:
        """See ``Leases.release_dead_local_owners``: free leases of ``host:pid:..`` owners now dead."""
        return self.leases.release_dead_local_owners(host)

    # --- events and cursors ------------------------------------------------------------------------------

    def record_event(
        self, event_id: str, reference: str, kind: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> bool:
        """See ``Events.record_event``: True when the event is new."""
        return self.events.record_event(event_id, reference, kind, occurred_at, payload)

    def record_events(self, events: Sequence[NewEvent]) -> list[bool]:
        """See ``Events.record_events``: one bool per event, one transaction."""
        return self.events.record_events(events)

    def apply_events(self, page: Sequence[EventEffect], *, owner: str | None) -> list[EventOutcome]:
        """See ``Events.apply_events``: record a page of events and apply their moves in one transaction.

        ``owner=None`` says, explicitly, that no lease is held (3PL events): ``expected_from`` alone guards.
        """
        return self.events.apply_events(page, owner=owner)

    def events_seen(self, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` were recorded already."""
        return self.events.events_seen(event_ids)

    def latest_event_at(self, references: Iterable[str], kind: str) -> dict[str, datetime]:
        """See ``Events.latest_at``: when each order's latest recorded event of ``kind`` happened."""
        return self.events.latest_at(references, kind)

    def get_cursor(self, name: str) -> str | None:
        """The saved value of checkpoint ``name`` (e.g. the 3PL event poll position), or None."""
        return self.events.get_cursor(name)

    def set_cursor(self, name: str, value: str) -> None:
        """Save checkpoint ``name``."""
        self.events.set_cursor(name, value)

    # --- stock -------------------------------------------------------------------------------------------

    def stock_state(self, skus: Iterable[str] | None = None) -> dict[str, StockState]:
        """The last level written per SKU and its snapshot time (all SKUs when ``skus`` is None)."""
        return self.stock.stock_state(skus)

    def record_stock_written(self, sku: str, level: int, as_of: datetime) -> bool:
        """See ``Stock.record_stock_written``: False when a newer snapshot was recorded already."""
        return self.stock.record_stock_written(sku, level, as_of)

    def record_stock_written_many(self, writes: Sequence[tuple[str, int, datetime]]) -> list[bool]:
        """``record_stock_written`` for a batch of (sku, level, as_of) in one transaction."""
        return self.stock.record_stock_written_many(writes)

    def hold_stock_change(
        self, sku: str, current: int, proposed: int, as_of: datetime, reason: str
    ) -> HeldStockChange:
        """See ``Stock.hold_stock_change``: hold a change for review; one open hold per SKU."""
        return self.stock.hold_stock_change(sku, current, proposed, as_of, reason)

    def held_stock_changes(self, status: HoldStatus | None = HoldStatus.HELD) -> list[HeldStockChange]:
        """Stock holds with ``status`` (all of them when None), oldest first."""
        return self.stock.held_stock_changes(status)

    def resolve_held(self, hold_id: int, *, approve: bool, note: str = "") -> HeldStockChange:
        """See ``Stock.resolve_held``: a person approves or rejects a held change."""
        return self.stock.resolve_held(hold_id, approve=approve, note=note)

    def shipped_unprocessed_units(self) -> dict[str, int]:
        """See ``Stock.shipped_unprocessed_units``: units shipped for orders not processed yet, per SKU."""
        return self.stock.shipped_unprocessed_units()

    # --- catalogue ---------------------------------------------------------------------------------------

    def catalogue_hashes(self, skus: Iterable[str]) -> dict[str, str]:
        """The hash last sent to the 3PL for each of ``skus`` (unknown SKUs are absent)."""
        return self.catalogue.catalogue_hashes(skus)

    def record_catalogue_hash(self, sku: str, value: str) -> None:
        """Remember what was sent to the 3PL for ``sku``."""
        self.catalogue.record_catalogue_hash(sku, value)

    def record_catalogue_hashes(self, hashes: Mapping[str, str]) -> None:
        """``record_catalogue_hash`` for many SKUs in one transaction."""
        self.catalogue.record_catalogue_hashes(hashes)
