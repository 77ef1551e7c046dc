"""The ``Ledger`` repository: every mutating method is one transaction, committed before it returns."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, TypeVar, Unpack

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from ledger._engine import BEGIN_MODE, make_engine
from ledger._engine import migrate as migrate_schema
from ledger._errors import (
    EmptyReasonError,
    IllegalTransitionError,
    LeaseLostError,
    LedgerError,
    StateConflictError,
    UnknownOrderError,
)
from ledger._records import (
    HeldStockChange,
    HoldStatus,
    NewEvent,
    NewOrder,
    OrderRecord,
    RegisterResult,
    ShipmentSeen,
    ShippedLine,
    StockState,
    TransitionRecord,
    merge_lines,
)
from ledger._schema import CatalogueRow, CursorRow, EventRow, OrderRow, StockHoldRow, StockRow, TransitionRow
from ledger._states import State, is_allowed

__all__ = ["SHIPPED_UNPROCESSED_STATES", "Changes", "Ledger", "utc_now"]

# Orders whose shipped units Linnworks still counts in open orders (it deducts them when processed).
# A quarantined order counts when it was quarantined from one of these states.
SHIPPED_UNPROCESSED_STATES: frozenset[State] = frozenset(
    {State.PARTIALLY_SHIPPED, State.SHIPPED, State.TRACKING_WRITTEN, State.ON_HOLD}
)
_CHUNK = 500
_T = TypeVar("_T")
_Insert = postgresql.Insert | sqlite.Insert


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


class Changes(TypedDict, total=False):
    """Fields ``transition``, ``update`` and ``quarantine`` may change in the same transaction.

    Keys left out are left alone. ``shipment`` appends one shipment (idempotent by its id: tracking numbers
    added, lines summed per SKU); ``shipped_lines`` and ``tracking_numbers`` replace the whole list;
    ``last_error=None`` clears the error; ``count_attempt=True`` adds one to ``attempts``.
    """

    remote_id: str
    carrier: str
    tracking_numbers: Sequence[str]
    shipped_lines: Sequence[ShippedLine]
    shipment: ShipmentSeen
    last_error: str | None
    count_attempt: bool
    payload_hash: str
    num_order_id: str


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

    Example:
        >>> ledger = Ledger("sqlite:///.lw3pl/ledger.db", account="acme", migrate=True)
        >>> ledger.register([NewOrder(reference=order_id, num_order_id="1001", payload_hash=h)])
        >>> for order in ledger.claim([State.PENDING], owner="worker-1", limit=50, lease_seconds=300):
        ...     ledger.transition(order.reference, State.SUBMITTING, owner="worker-1", count_attempt=True)
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
        self._clock = clock
        self._engine = make_engine(url)
        self._writer = sessionmaker(self._engine, expire_on_commit=False)
        self._reader = sessionmaker(self._engine.execution_options(**{BEGIN_MODE: "DEFERRED"}))

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"Ledger({url!r}, account={self.account!r}, threepl={self.threepl!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- orders: registering and reading -------------------------------------------------------------

    def register(self, orders: Sequence[NewOrder]) -> RegisterResult:
        """Insert a ``pending`` row for each reference not yet known; existing rows are left untouched.

        Idempotent and safe under concurrency (the unique constraint decides). A reference given twice in
        ``orders`` counts once, with its first values.

        Returns:
            The rows created, and the rows that already existed (with their current state).
        """
        first = {order.reference: order for order in reversed(orders)}
        with self._write() as session:
            now = self._now()
            created = [ref for ref in sorted(first) if self._insert_order(session, first[ref], now)]
            rows = self._rows_by_reference(session, list(first))
        new_refs = set(created)
        in_input_order = [rows[ref] for ref in dict.fromkeys(order.reference for order in orders)]
        return RegisterResult(
            new=tuple(_order(r) for r in in_input_order if r.reference in new_refs),
            existing=tuple(_order(r) for r in in_input_order if r.reference not in new_refs),
        )

    def get(self, reference: str) -> OrderRecord | None:
        """The order with this reference, or None."""
        return self.get_many([reference]).get(reference)

    def get_many(self, references: Iterable[str]) -> dict[str, OrderRecord]:
        """The known orders among ``references``, keyed by reference (unknown ones are absent)."""
        with self._read() as session:
            rows = self._rows_by_reference(session, list(references))
            return {ref: _order(row) for ref, row in rows.items()}

    def in_states(
        self, states: Collection[State], *, limit: int | None = None, updated_before: datetime | None = None
    ) -> list[OrderRecord]:
        """Orders in ``states``, least recently updated first (``updated_before`` finds stuck ones)."""
        query = (
            self._orders().where(OrderRow.state.in_(list(states))).order_by(OrderRow.updated_at, OrderRow.id)
        )
        if updated_before is not None:
            query = query.where(OrderRow.updated_at < updated_before)
        with self._read() as session:
            return [_order(row) for row in session.scalars(query.limit(limit))]

    def counts_by_state(self) -> dict[State, int]:
        """How many orders are in each state (every state present, zero included)."""
        query = (
            sa.select(OrderRow.state, sa.func.count())
            .where(OrderRow.account == self.account, OrderRow.threepl == self.threepl)
            .group_by(OrderRow.state)
        )
        with self._read() as session:
            found = {State(state): count for state, count in session.execute(query)}
        return {state: found.get(state, 0) for state in State}

    def quarantined(self) -> list[OrderRecord]:
        """Quarantined orders, oldest first; each has ``quarantine_reason`` and ``quarantined_from``."""
        return self.in_states([State.QUARANTINED])

    def history(self, reference: str) -> list[TransitionRecord]:
        """The order's state changes, oldest first (the audit trail)."""
        query = (
            sa.select(TransitionRow)
            .join(OrderRow, TransitionRow.order_id == OrderRow.id)
            .where(*self._order_scope(), OrderRow.reference == reference)
            .order_by(TransitionRow.id)
        )
        with self._read() as session:
            return [_transition(reference, row) for row in session.scalars(query)]

    # --- orders: leases --------------------------------------------------------------------------------

    def claim(
        self,
        states: Collection[State],
        owner: str,
        *,
        limit: int,
        lease_seconds: float,
        references: Collection[str] | None = None,
    ) -> list[OrderRecord]:
        """Lease up to ``limit`` orders in ``states`` that nobody holds (or whose lease expired).

        Concurrent claimers never get the same row: SQLite serialises them with ``BEGIN IMMEDIATE``,
        PostgreSQL skips rows another claimer has locked (``FOR UPDATE SKIP LOCKED``). Orders never claimed
        come first, then those whose lease ended longest ago, so a failing order cannot starve the rest.

        Args:
            states: only orders in these states.
            owner: a name unique to this worker/run; pass it to ``transition`` to check the lease.
            limit: the most rows to lease.
            lease_seconds: how long the lease lasts unless renewed or released.
            references: only these orders (e.g. the ones a batch of events names).
        """
        query = (
            self._orders()
            .where(OrderRow.state.in_(list(states)))
            .order_by(OrderRow.lease_expires_at.nulls_first(), OrderRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if references is not None:
            query = query.where(OrderRow.reference.in_(list(references)))
        with self._write() as session:
            now = self._now()
            rows = list(session.scalars(query.where(_lease_free(now))))
            for row in rows:
                row.lease_owner = owner
                row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            return [_order(row) for row in rows]

    def renew(self, references: Iterable[str], owner: str, *, lease_seconds: float) -> list[str]:
        """Extend ``owner``'s unexpired leases; returns the references renewed (a missing one was lost)."""
        with self._write() as session:
            now = self._now()
            return self._update_leases(
                session,
                list(references),
                sa.and_(OrderRow.lease_owner == owner, OrderRow.lease_expires_at > now),
                {"lease_expires_at": now + timedelta(seconds=lease_seconds)},
            )

    def release(self, references: Iterable[str], owner: str) -> list[str]:
        """Give up ``owner``'s leases on these orders so others may claim them now; returns those released."""
        with self._write() as session:
            return self._update_leases(
                session,
                list(references),
                OrderRow.lease_owner == owner,
                {"lease_owner": None, "lease_expires_at": self._now()},
            )

    # --- orders: state changes ------------------------------------------------------------------------

    def transition(
        self,
        reference: str,
        to: State,
        *,
        expected_from: Collection[State] | None = None,
        owner: str | None = None,
        detail: str = "",
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Move the order to ``to`` and apply ``changes``, as one compare-and-set transaction.

        Args:
            reference: the order.
            to: the new state (not ``QUARANTINED``: use ``quarantine``, which needs a reason).
            expected_from: the states the caller believes the order is in; anything else raises.
            owner: when given, the caller must hold an unexpired lease on the order.
            detail: a short note for the audit trail.
            **changes: see ``Changes``.

        Raises:
            UnknownOrderError, LeaseLostError, StateConflictError, IllegalTransitionError.
        """
        if to is State.QUARANTINED:
            raise ValueError("use Ledger.quarantine(reference, reason) to quarantine an order")
        with self._write() as session:
            row, now = self._locked(session, reference, owner, expected_from)
            self._move(session, row, to, now, detail, owner)
            _apply(row, changes)
            row.quarantine_reason = row.quarantined_from = None
            return _order(row)

    def transition_many(
        self,
        references: Sequence[str],
        to: State,
        *,
        expected_from: Collection[State] | None = None,
        owner: str | None = None,
        detail: str = "",
    ) -> list[OrderRecord]:
        """``transition`` for several orders after ONE outside call that settled them all, in one transaction.

        All or nothing: if any order fails its checks (lease, state, table), nothing is written and the error
        is raised, so the caller can fall back to moving the orders one by one. Rows are locked in reference
        order so that two concurrent batches cannot deadlock.
        """
        if to is State.QUARANTINED:
            raise ValueError("use Ledger.quarantine(reference, reason) to quarantine an order")
        moved: list[OrderRecord] = []
        with self._write() as session:
            for reference in sorted(references):
                row, now = self._locked(session, reference, owner, expected_from)
                self._move(session, row, to, now, detail, owner)
                row.last_error = None
                moved.append(_order(row))
        by_reference = {record.reference: record for record in moved}
        return [by_reference[reference] for reference in references]

    def update(
        self,
        reference: str,
        *,
        expected_from: Collection[State] | None = None,
        owner: str | None = None,
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Apply ``changes`` without a state change (e.g. record an error and stay), with the same checks."""
        with self._write() as session:
            row, now = self._locked(session, reference, owner, expected_from)
            _apply(row, changes)
            row.updated_at = now
            return _order(row)

    def quarantine(
        self,
        reference: str,
        reason: str,
        *,
        expected_from: Collection[State] | None = None,
        owner: str | None = None,
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Park the order for a person, with a reason they can act on; remembers the state it came from.

        Raises:
            EmptyReasonError: the reason is blank.
            IllegalTransitionError: the order is terminal or already quarantined.
        """
        if not reason.strip():
            raise EmptyReasonError(reference)
        with self._write() as session:
            row, now = self._locked(session, reference, owner, expected_from)
            came_from = row.state
            self._move(session, row, State.QUARANTINED, now, reason, owner)
            _apply(row, changes)
            row.quarantine_reason = reason
            row.quarantined_from = came_from
            return _order(row)

    def release_quarantine(self, reference: str, to: State | None = None, *, detail: str = "") -> OrderRecord:
        """Return a quarantined order to the state it came from (or to ``to``) and free its lease.

        Raises:
            StateConflictError: the order is not quarantined.
        """
        with self._write() as session:
            row, now = self._locked(session, reference, None, [State.QUARANTINED])
            target = to or State(row.quarantined_from or State.PENDING)
            note = f"released from quarantine ({row.quarantine_reason})" + (f": {detail}" if detail else "")
            self._move(session, row, target, now, note, None)
            row.quarantine_reason = row.quarantined_from = row.lease_owner = None
            return _order(row)

    # --- events ---------------------------------------------------------------------------------------

    def record_event(
        self, event_id: str, reference: str, kind: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> bool:
        """Remember a 3PL event; True when it is new, False when it was recorded before.

        Record an event after its effect is committed: effects are idempotent (state compare-and-set,
        shipments keyed by id), so a crash in between replays the effect once more and loses nothing.
        """
        event = NewEvent(
            event_id=event_id, reference=reference, kind=kind, occurred_at=occurred_at, payload=dict(payload)
        )
        return self.record_events([event])[0]

    def record_events(self, events: Sequence[NewEvent]) -> list[bool]:
        """``record_event`` for a batch in one transaction; one bool per event, in the given order.

        Dedup is by (account, 3PL, event id) through a unique constraint, so concurrent callers agree: for
        each id exactly one of them (and one position in the batch) gets True.
        """
        # Sorted inserts: two concurrent batches then wait on each other in the same order (no deadlock).
        order = sorted(range(len(events)), key=lambda i: events[i].event_id)
        is_new = [False] * len(events)
        with self._write() as session:
            now = self._now()
            for index in order:
                is_new[index] = self._insert_event(session, events[index], now)
        return is_new

    def events_seen(self, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` were recorded already."""
        ids = list(event_ids)
        with self._read() as session:
            return {
                event_id
                for chunk in _chunks(ids)
                for event_id in session.scalars(
                    sa.select(EventRow.event_id).where(*self._scope(EventRow), EventRow.event_id.in_(chunk))
                )
            }

    # --- cursors --------------------------------------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        """The saved value of checkpoint ``name`` (e.g. the 3PL event poll position), or None."""
        query = sa.select(CursorRow.value).where(*self._scope(CursorRow), CursorRow.name == name)
        with self._read() as session:
            return session.scalars(query).one_or_none()

    def set_cursor(self, name: str, value: str) -> None:
        """Save checkpoint ``name``."""
        with self._write() as session:
            now = self._now()
            insert = self._dialect_insert(CursorRow).values(
                account=self.account, threepl=self.threepl, name=name, value=value, updated_at=now
            )
            keys = [CursorRow.account, CursorRow.threepl, CursorRow.name]
            session.execute(
                insert.on_conflict_do_update(index_elements=keys, set_={"value": value, "updated_at": now})
            )

    # --- stock ----------------------------------------------------------------------------------------

    def stock_state(self, skus: Iterable[str] | None = None) -> dict[str, StockState]:
        """The last level written per SKU and its snapshot time (all SKUs when ``skus`` is None)."""
        query = sa.select(StockRow).where(*self._scope(StockRow))
        with self._read() as session:
            if skus is None:
                rows = list(session.scalars(query))
            else:
                rows = [
                    r
                    for chunk in _chunks(list(skus))
                    for r in session.scalars(query.where(StockRow.sku.in_(chunk)))
                ]
            return {row.sku: _stock(row) for row in rows}

    def record_stock_written(self, sku: str, level: int, as_of: datetime) -> bool:
        """Record that ``level`` (from the 3PL snapshot taken at ``as_of``) was written to Linnworks.

        Returns False, and changes nothing, when a newer snapshot was recorded already: an older snapshot
        never wins. An equal ``as_of`` is accepted (the same snapshot written again). Open holds for the SKU
        from a snapshot no newer than ``as_of`` are closed (approved -> applied, held -> superseded).
        """
        return self.record_stock_written_many([(sku, level, as_of)])[0]

    def record_stock_written_many(self, writes: Sequence[tuple[str, int, datetime]]) -> list[bool]:
        """``record_stock_written`` for a batch of (sku, level, as_of) in one transaction."""
        # Newest first per SKU (locks taken in SKU order), so an older write in the same batch is refused.
        order = sorted(range(len(writes)), key=lambda i: (writes[i][0], -writes[i][2].timestamp()))
        accepted = [False] * len(writes)
        with self._write() as session:
            now = self._now()
            for index in order:
                sku, level, as_of = writes[index]
                accepted[index] = self._upsert_stock(session, sku, level, as_of, now)
                if accepted[index]:
                    self._close_holds(session, sku, as_of, now)
        return accepted

    def hold_stock_change(
        self, sku: str, current: int, proposed: int, as_of: datetime, reason: str
    ) -> HeldStockChange:
        """Hold a stock change for review instead of writing it; one open hold per SKU.

        A newer proposal for a SKU already held replaces the held values; an older one is ignored.
        """
        if not reason.strip():
            raise EmptyReasonError(sku)
        with self._write() as session:
            now = self._now()
            row = session.scalars(
                self._holds(HoldStatus.HELD).where(StockHoldRow.sku == sku).with_for_update()
            ).first()
            if row is None:
                row = StockHoldRow(
                    account=self.account,
                    threepl=self.threepl,
                    sku=sku,
                    status=HoldStatus.HELD,
                    created_at=now,
                    resolution_note="",
                    as_of=as_of,
                )
                session.add(row)
            if as_of >= row.as_of:
                row.current, row.proposed, row.as_of, row.reason = current, proposed, as_of, reason
            session.flush()
            return _hold(row)

    def held_stock_changes(self, status: HoldStatus | None = HoldStatus.HELD) -> list[HeldStockChange]:
        """Stock holds with ``status`` (all of them when None), oldest first."""
        with self._read() as session:
            return [_hold(row) for row in session.scalars(self._holds(status).order_by(StockHoldRow.id))]

    def resolve_held(self, hold_id: int, *, approve: bool, note: str = "") -> HeldStockChange:
        """A person's decision on a held change: approved (the next stock run may write it) or rejected.

        Raises:
            LedgerError: no such hold, or it is no longer held.
        """
        with self._write() as session:
            row = session.scalars(
                self._holds(None).where(StockHoldRow.id == hold_id).with_for_update()
            ).first()
            if row is None or row.status != HoldStatus.HELD:
                status = "missing" if row is None else row.status
                raise LedgerError(f"stock hold {hold_id}: cannot resolve, it is {status}")
            row.status = HoldStatus.APPROVED if approve else HoldStatus.REJECTED
            row.resolved_at = self._now()
            row.resolution_note = note
            session.flush()
            return _hold(row)

    def shipped_unprocessed_units(self) -> dict[str, int]:
        """Units per SKU the 3PL shipped for orders Linnworks has not processed yet (the stock rule).

        Counts orders in ``SHIPPED_UNPROCESSED_STATES``, and quarantined ones that came from those states.
        """
        states = list(SHIPPED_UNPROCESSED_STATES)
        query = self._orders().where(
            sa.or_(
                OrderRow.state.in_(states),
                sa.and_(OrderRow.state == State.QUARANTINED, OrderRow.quarantined_from.in_(states)),
            )
        )
        with self._read() as session:
            lines = merge_lines(*(_lines(row) for row in session.scalars(query)))
        return {line.sku: line.quantity for line in lines if line.quantity}

    # --- catalogue ------------------------------------------------------------------------------------

    def catalogue_hashes(self, skus: Iterable[str]) -> dict[str, str]:
        """The hash last sent to the 3PL for each of ``skus`` (unknown SKUs are absent)."""
        query = sa.select(CatalogueRow.sku, CatalogueRow.hash).where(*self._scope(CatalogueRow))
        with self._read() as session:
            return {
                sku: value
                for chunk in _chunks(list(skus))
                for sku, value in session.execute(query.where(CatalogueRow.sku.in_(chunk)))
            }

    def record_catalogue_hash(self, sku: str, value: str) -> None:
        """Remember what was sent to the 3PL for ``sku``."""
        self.record_catalogue_hashes({sku: value})

    def record_catalogue_hashes(self, hashes: Mapping[str, str]) -> None:
        """``record_catalogue_hash`` for many SKUs in one transaction."""
        with self._write() as session:
            now = self._now()
            keys = [CatalogueRow.account, CatalogueRow.threepl, CatalogueRow.sku]
            for sku in sorted(hashes):
                insert = self._dialect_insert(CatalogueRow).values(
                    account=self.account, threepl=self.threepl, sku=sku, hash=hashes[sku], updated_at=now
                )
                set_ = {"hash": hashes[sku], "updated_at": now}
                session.execute(insert.on_conflict_do_update(index_elements=keys, set_=set_))

    # --- internals ------------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the ledger clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _scope(
        self, table: type[EventRow | CursorRow | StockRow | CatalogueRow | StockHoldRow]
    ) -> list[sa.ColumnElement[bool]]:
        return [table.account == self.account, table.threepl == self.threepl]

    def _order_scope(self) -> list[sa.ColumnElement[bool]]:
        return [OrderRow.account == self.account, OrderRow.threepl == self.threepl]

    def _orders(self) -> sa.Select[OrderRow]:
        return sa.select(OrderRow).where(*self._order_scope())

    def _holds(self, status: HoldStatus | None) -> sa.Select[StockHoldRow]:
        query = sa.select(StockHoldRow).where(*self._scope(StockHoldRow))
        return query if status is None else query.where(StockHoldRow.status == status)

    def _dialect_insert(self, table: type[Any]) -> _Insert:
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _rows_by_reference(self, session: Session, references: list[str]) -> dict[str, OrderRow]:
        return {
            row.reference: row
            for chunk in _chunks(references)
            for row in session.scalars(self._orders().where(OrderRow.reference.in_(chunk)))
        }

    def _insert_order(self, session: Session, order: NewOrder, now: datetime) -> bool:
        insert = self._dialect_insert(OrderRow).values(
            account=self.account,
            threepl=self.threepl,
            reference=order.reference,
            num_order_id=order.num_order_id,
            state=State.PENDING,
            payload_hash=order.payload_hash,
            tracking_numbers=[],
            shipped_lines=[],
            shipment_ids=[],
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        keys = [OrderRow.account, OrderRow.threepl, OrderRow.reference]
        order_id = session.execute(
            insert.on_conflict_do_nothing(index_elements=keys).returning(OrderRow.id)
        ).scalar_one_or_none()
        if order_id is None:
            return False
        session.add(
            TransitionRow(order_id=order_id, from_state=None, to_state=State.PENDING, at=now, detail="")
        )
        return True

    def _insert_event(self, session: Session, event: NewEvent, now: datetime) -> bool:
        insert = self._dialect_insert(EventRow).values(
            account=self.account,
            threepl=self.threepl,
            event_id=event.event_id,
            reference=event.reference,
            kind=event.kind,
            occurred_at=event.occurred_at,
            payload=event.payload,
            recorded_at=now,
        )
        keys = [EventRow.account, EventRow.threepl, EventRow.event_id]
        result = session.execute(insert.on_conflict_do_nothing(index_elements=keys).returning(EventRow.id))
        return result.scalar_one_or_none() is not None

    def _update_leases(
        self,
        session: Session,
        references: list[str],
        condition: sa.ColumnElement[bool],
        values: dict[str, Any],
    ) -> list[str]:
        done: list[str] = []
        for chunk in _chunks(references):
            statement = (
                sa.update(OrderRow)
                .where(*self._order_scope(), OrderRow.reference.in_(chunk), condition)
                .values(**values)
                .returning(OrderRow.reference)
            )
            done.extend(session.scalars(statement))
        return done

    def _locked(
        self, session: Session, reference: str, owner: str | None, expected_from: Collection[State] | None
    ) -> tuple[OrderRow, datetime]:
        """Lock the order row and check the lease and the expected state."""
        query = self._orders().where(OrderRow.reference == reference).with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None:
            raise UnknownOrderError(reference)
        now = self._now()
        if owner is not None and not _holds_lease(row, owner, now):
            raise LeaseLostError(reference, owner, row.lease_owner, row.lease_expires_at, now)
        if expected_from is not None and State(row.state) not in expected_from:
            raise StateConflictError(reference, State(row.state), expected_from)
        return row, now

    def _move(
        self, session: Session, row: OrderRow, to: State, now: datetime, detail: str, owner: str | None
    ) -> None:
        current = State(row.state)
        if not is_allowed(current, to):
            raise IllegalTransitionError(row.reference, current, to)
        row.state = to
        row.updated_at = now
        session.add(
            TransitionRow(
                order_id=row.id, from_state=current, to_state=to, at=now, detail=detail, owner=owner
            )
        )

    def _upsert_stock(self, session: Session, sku: str, level: int, as_of: datetime, now: datetime) -> bool:
        insert = self._dialect_insert(StockRow).values(
            account=self.account, threepl=self.threepl, sku=sku, level=level, as_of=as_of, written_at=now
        )
        statement = insert.on_conflict_do_update(
            index_elements=[StockRow.account, StockRow.threepl, StockRow.sku],
            set_={"level": level, "as_of": as_of, "written_at": now},
            where=StockRow.as_of <= insert.excluded.as_of,
        ).returning(StockRow.sku)
        return session.execute(statement).scalar_one_or_none() is not None

    def _close_holds(self, session: Session, sku: str, as_of: datetime, now: datetime) -> None:
        for status, closed in (
            (HoldStatus.APPROVED, HoldStatus.APPLIED),
            (HoldStatus.HELD, HoldStatus.SUPERSEDED),
        ):
            session.execute(
                sa.update(StockHoldRow)
                .where(*self._scope(StockHoldRow), StockHoldRow.sku == sku, StockHoldRow.status == status)
                .where(StockHoldRow.as_of <= as_of)
                .values(status=closed, resolved_at=sa.func.coalesce(StockHoldRow.resolved_at, now))
            )


# --- row -> record ------------------------------------------------------------------------------------


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(OrderRow.lease_owner.is_(None), OrderRow.lease_expires_at <= now)


def _holds_lease(row: OrderRow, owner: str, now: datetime) -> bool:
    return row.lease_owner == owner and row.lease_expires_at is not None and row.lease_expires_at > now


def _apply(row: OrderRow, changes: Changes) -> None:
    unknown = set(changes) - set(Changes.__annotations__)
    if unknown:
        raise TypeError(f"unknown order fields: {', '.join(sorted(unknown))}")
    for name in ("remote_id", "carrier", "last_error", "payload_hash", "num_order_id"):
        if name in changes:
            setattr(row, name, changes[name])
    if "tracking_numbers" in changes:
        _set_tracking(row, list(dict.fromkeys(changes["tracking_numbers"])))
    if "shipped_lines" in changes:
        row.shipped_lines = [line.model_dump() for line in merge_lines(changes["shipped_lines"])]
    if "shipment" in changes:
        _append_shipment(row, changes["shipment"])
    if changes.get("count_attempt"):
        row.attempts += 1


def _set_tracking(row: OrderRow, numbers: list[str]) -> None:
    row.tracking_numbers = numbers
    row.tracking_number = numbers[0] if numbers else None


def _append_shipment(row: OrderRow, shipment: ShipmentSeen) -> None:
    if shipment.shipment_id in row.shipment_ids:
        return
    row.shipment_ids = [*row.shipment_ids, shipment.shipment_id]
    _set_tracking(row, list(dict.fromkeys([*row.tracking_numbers, *shipment.tracking_numbers])))
    row.shipped_lines = [line.model_dump() for line in merge_lines(_lines(row), shipment.lines)]
    if shipment.carrier and not row.carrier:
        row.carrier = shipment.carrier


def _lines(row: OrderRow) -> list[ShippedLine]:
    return [ShippedLine.model_validate(line) for line in row.shipped_lines]


def _order(row: OrderRow) -> OrderRecord:
    return OrderRecord(
        reference=row.reference,
        account=row.account,
        threepl=row.threepl,
        num_order_id=row.num_order_id,
        state=State(row.state),
        payload_hash=row.payload_hash,
        remote_id=row.remote_id,
        tracking_number=row.tracking_number,
        tracking_numbers=tuple(row.tracking_numbers),
        carrier=row.carrier,
        shipped_lines=tuple(_lines(row)),
        shipment_ids=tuple(row.shipment_ids),
        attempts=row.attempts,
        last_error=row.last_error,
        quarantine_reason=row.quarantine_reason,
        quarantined_from=State(row.quarantined_from) if row.quarantined_from else None,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _transition(reference: str, row: TransitionRow) -> TransitionRecord:
    return TransitionRecord(
        reference=reference,
        from_state=State(row.from_state) if row.from_state else None,
        to_state=State(row.to_state),
        at=row.at,
        detail=row.detail,
        owner=row.owner,
    )


def _stock(row: StockRow) -> StockState:
    return StockState(sku=row.sku, level=row.level, as_of=row.as_of, written_at=row.written_at)


def _hold(row: StockHoldRow) -> HeldStockChange:
    return HeldStockChange(
        id=row.id,
        sku=row.sku,
        current=row.current,
        proposed=row.proposed,
        as_of=row.as_of,
        reason=row.reason,
        status=HoldStatus(row.status),
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        resolution_note=row.resolution_note,
    )


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
