"""The orders (the saga): registering, reading, and every state change; one transaction per call or batch."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, Unpack, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ledger._errors import EmptyReasonError, UnknownOrderError
from ledger._order_rows import (
    ORDER_COLUMNS,
    OrderValues,
    apply_changes,
    check_row,
    move_row,
    moved,
    order_record,
    record_audit,
    why_not,
    write_moved_rows,
)
from ledger._records import (
    Changes,
    Move,
    MoveOutcome,
    MoveStatus,
    NewOrder,
    OrderRecord,
    OrderSummary,
    RegisterResult,
    TransitionRecord,
)
from ledger._recordsets import insert_from_recordset, rows_param
from ledger._schema import OrderRow, TransitionRow
from ledger._states import State
from ledger._store import Store, chunks

__all__ = ["Orders"]

_REASONS = {
    MoveStatus.LEASE_LOST: "the caller's lease on the order is gone; stop working on it",
    MoveStatus.STATE_CONFLICT: "the order is not in an expected state; another run moved it, skip it",
    MoveStatus.UNKNOWN_ORDER: "no such order in the ledger",
}


class Orders:
    """Order rows of one account at one 3PL. Reached as ``Ledger.orders``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # One statement per shape, with the references as one list parameter: compiled once and cached
        # (an ``in_(list)`` built per call costs more CPU than SQLite spends answering it).
        by_reference = (
            OrderRow.account == sa.bindparam("account"),
            OrderRow.threepl == sa.bindparam("threepl"),
            store.among_param(OrderRow.reference, "references"),
        )
        self._by_reference = sa.select(*ORDER_COLUMNS).where(*by_reference).order_by(OrderRow.reference)
        self._by_reference_locked = self._by_reference.with_for_update()
        self._summaries = sa.select(OrderRow.reference, *_SUMMARY_COLUMNS).where(*by_reference)

    # --- registering and reading -------------------------------------------------------------------------

    def register(self, orders: Sequence[NewOrder]) -> RegisterResult:
        """Insert a ``pending`` row for each reference not yet known; existing rows are left untouched.

        Idempotent and safe under concurrency (the unique constraint decides); one transaction and a few
        statements per 500 orders. A reference given twice counts once, with its first values.
        """
        if not orders:
            return RegisterResult(new=(), existing=())  # no write transaction for nothing
        first = {order.reference: order for order in reversed(orders)}
        with self._store.write() as session:
            now = self._store.now()
            rows = self._insert_new(session, [first[ref] for ref in sorted(first)], now)
            created = set(rows)
            rows.update(self._values(session, [ref for ref in first if ref not in created]))
        self._store.grew(OrderRow, len(created))
        in_input_order = [rows[ref] for ref in dict.fromkeys(order.reference for order in orders)]
        return RegisterResult(
            new=tuple(order_record(r) for r in in_input_order if r.reference in created),
            existing=tuple(order_record(r) for r in in_input_order if r.reference not in created),
        )

    def get(self, reference: str) -> OrderRecord | None:
        """The order with this reference, or None."""
        return self.get_many([reference]).get(reference)

    def get_many(self, references: Iterable[str]) -> dict[str, OrderRecord]:
        """The known orders among ``references``, keyed by reference (unknown ones are absent)."""
        with self._store.read() as session:
            return {ref: order_record(row) for ref, row in self._values(session, list(references)).items()}

    def summaries(self, references: Iterable[str]) -> dict[str, OrderSummary]:
        """What report rows show of the known orders among ``references``, keyed by reference (unknown
        ones are absent). Four columns: reading whole records (21 columns, seven of them times and three
        JSON lists, then validated) for a run's report tables took three times the CPU."""
        with self._store.read() as session:
            connection = session.connection()
            return dict(
                _summary(row)
                for chunk in chunks(list(references))
                for row in connection.execute(
                    self._summaries, {"references": list(chunk), **self._store.keys()}
                )
            )

    def in_states(
        self, states: Collection[State], *, limit: int | None = None, updated_before: datetime | None = None
    ) -> list[OrderRecord]:
        """Orders in ``states``, least recently updated first (``updated_before`` finds stuck ones)."""
        query = (
            sa.select(*ORDER_COLUMNS)
            .where(*self._store.scope(OrderRow), OrderRow.state.in_(list(states)))
            .order_by(OrderRow.updated_at, OrderRow.id)
        )
        if updated_before is not None:
            query = query.where(OrderRow.updated_at < updated_before)
        with self._store.read() as session:
            return [order_record(OrderValues.of(row)) for row in session.execute(query.limit(limit))]

    def references_in(self, states: Collection[State]) -> list[str]:
        """The references of the orders in ``states``, least recently updated first: what ``in_states``
        lists, without building a record per order (a run that only compares references to a partner's
        list, at 50,000 orders)."""
        query = (
            sa.select(OrderRow.reference)
            .where(*self._store.scope(OrderRow), OrderRow.state.in_(list(states)))
            .order_by(OrderRow.updated_at, OrderRow.id)
        )
        with self._store.read() as session:
            return list(session.scalars(query))

    def counts_by_state(self, states: Collection[State] | None = None) -> dict[State, int]:
        """How many orders are in each state (every state present, zero included); with ``states``, only
        those are counted (an index range each, not the account's every order)."""
        query = (
            sa.select(OrderRow.state, sa.func.count())
            .where(*self._store.scope(OrderRow))
            .group_by(OrderRow.state)
        )
        if states is not None:
            query = query.where(OrderRow.state.in_(list(states)))
        with self._store.read() as session:
            found = {State(state): count for state, count in session.execute(query)}
        return {state: found.get(state, 0) for state in State}

    def history(self, reference: str) -> list[TransitionRecord]:
        """The order's state changes, oldest first (the audit trail)."""
        query = (
            sa.select(OrderRow.reference, *_TRANSITION_COLUMNS)
            .join(OrderRow, TransitionRow.order_id == OrderRow.id)
            .where(*self._store.scope(OrderRow), OrderRow.reference == reference)
            .order_by(TransitionRow.id)
        )
        with self._store.read() as session:
            return [TransitionRecord.model_validate(row) for row in session.execute(query)]

    # --- state changes -----------------------------------------------------------------------------------

    def transition(
        self,
        reference: str,
        to: State,
        *,
        expected_from: Collection[State],
        owner: str,
        detail: str = "",
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Move the order to ``to`` and apply ``changes``, as one compare-and-set transaction.

        Args:
            expected_from: the states the caller believes the order is in; anything else raises.
            owner: the lease the caller holds (from ``claim``); a lost lease raises instead of writing.
            detail: a short note for the audit trail.
            **changes: see ``Changes``.

        Raises:
            UnknownOrderError, LeaseLostError, StateConflictError, IllegalTransitionError.
        """
        return self.transition_unchecked(
            reference, to, expected_from=expected_from, owner=owner, detail=detail, **changes
        )

    def transition_unchecked(
        self,
        reference: str,
        to: State,
        *,
        expected_from: Collection[State],
        owner: str | None,
        detail: str = "",
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """``transition`` where ``owner=None`` says, explicitly, that no lease is held (3PL events).

        ``Ledger.transition`` calls this; the expected states are always checked.
        """
        if to is State.QUARANTINED:
            raise ValueError("use Ledger.quarantine(reference, reason) to quarantine an order")
        with self._store.write() as session:
            row, now = self._checked(session, reference, owner, expected_from)
            move_row(session, row, to, now, detail, owner)
            apply_changes(row, changes)
            row.quarantine_reason = row.quarantined_from = None
            return order_record(row)

    def transition_each(self, moves: Sequence[Move], *, owner: str) -> list[MoveOutcome]:
        """Move many orders, each with its own changes, in ONE transaction; one outcome per move, in order.

        Not all or nothing: an order another worker moved (``STATE_CONFLICT``) or whose lease is gone
        (``LEASE_LOST``) is left as it is and reported, and the others move. Rows are locked in reference
        order, so two concurrent batches cannot deadlock. Each move keeps its audit line.
        """
        with self._store.write() as session:
            return self.apply_moves(session, moves, owner, self._store.now())

    def apply_moves(
        self, session: Session, moves: Sequence[Move], owner: str | None, now: datetime
    ) -> list[MoveOutcome]:
        """``transition_each`` inside the caller's transaction (``Events.apply_events`` shares it)."""
        rows = self._values(session, sorted({move.reference for move in moves}), lock=True)
        audit: list[dict[str, object]] = []
        outcomes = [_apply_move(rows.get(move.reference), move, owner, now, audit) for move in moves]
        changed = {outcome.reference for outcome in outcomes if outcome.moved}
        write_moved_rows(session, [rows[reference] for reference in sorted(changed)])
        record_audit(session, audit)
        return outcomes

    def change_in(
        self, session: Session, changes: Sequence[tuple[str, Changes]], now: datetime
    ) -> list[OrderRecord]:
        """``update`` of (reference, changes) pairs in the caller's transaction, rows as they are; in order.

        Only for orders the caller has just read in this transaction (``Events.apply_events``): no lease or
        state check, since the row is locked and its state was what the caller decided on.
        """
        rows = self._values(session, sorted({reference for reference, _ in changes}), lock=True)
        records: list[OrderRecord] = []
        for reference, change in changes:
            apply_changes(rows[reference], change)
            rows[reference].updated_at = now
            records.append(order_record(rows[reference]))
        write_moved_rows(session, [rows[reference] for reference in sorted(rows)])
        return records

    def transition_many(
        self,
        references: Sequence[str],
        to: State,
        *,
        expected_from: Collection[State] | None = None,
        owner: str | None = None,
        detail: str = "",
    ) -> list[OrderRecord]:
        """Several orders settled by ONE outside call, moved in one transaction, all or nothing.

        If any order fails its checks (lease, state, table), nothing is written and the error is raised.
        ``transition_each`` is the batch form that reports per order instead.
        """
        if to is State.QUARANTINED:
            raise ValueError("use Ledger.quarantine(reference, reason) to quarantine an order")
        with self._store.write() as session:
            rows = self._rows(session, sorted(references), lock=True)
            done = {
                ref: self._move_checked(session, rows, ref, to, expected_from, owner, detail) for ref in rows
            }
            missing = [ref for ref in references if ref not in done]
            if missing:
                raise UnknownOrderError(missing[0])
        return [done[reference] for reference in references]

    def update(
        self,
        reference: str,
        *,
        expected_from: Collection[State] | None = None,
        owner: str | None = None,
        **changes: Unpack[Changes],
    ) -> OrderRecord:
        """Apply ``changes`` without a state change (e.g. record an error and stay), with the same checks."""
        with self._store.write() as session:
            row, now = self._checked(session, reference, owner, expected_from)
            apply_changes(row, changes)
            row.updated_at = now
            return order_record(row)

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
        with self._store.write() as session:
            row, now = self._checked(session, reference, owner, expected_from)
            came_from = row.state
            move_row(session, row, State.QUARANTINED, now, reason, owner)
            apply_changes(row, changes)
            row.quarantine_reason = reason
            row.quarantined_from = came_from
            return order_record(row)

    def release_quarantine(self, reference: str, to: State | None = None, *, detail: str = "") -> OrderRecord:
        """A person returns a quarantined order to the state it came from (or to ``to``); frees its lease.

        The one move made without a lease: a person decides it (``lw3pl ledger release``), not a worker.

        Raises:
            StateConflictError: the order is not quarantined.
        """
        with self._store.write() as session:
            row, now = self._checked(session, reference, None, [State.QUARANTINED])
            target = to or State(row.quarantined_from or State.PENDING)
            note = f"released from quarantine ({row.quarantine_reason})" + (f": {detail}" if detail else "")
            move_row(session, row, target, now, note, None)
            row.quarantine_reason = row.quarantined_from = row.lease_owner = None
            return order_record(row)

    # --- internals ---------------------------------------------------------------------------------------

    def select(self) -> sa.Select[OrderRow]:
        """SELECT order rows of this account and 3PL."""
        return sa.select(OrderRow).where(*self._store.scope(OrderRow))

    def _rows(self, session: Session, references: list[str], *, lock: bool = False) -> dict[str, OrderRow]:
        """ORM rows, for the one-order paths that change a row through the session (``move_row``)."""
        rows: dict[str, OrderRow] = {}
        for chunk in chunks(references):
            query = (
                self.select().where(self._store.among(OrderRow.reference, chunk)).order_by(OrderRow.reference)
            )
            rows.update(
                (row.reference, row) for row in session.scalars(query.with_for_update() if lock else query)
            )
        return rows

    def _values(
        self, session: Session, references: list[str], *, lock: bool = False
    ) -> dict[str, OrderValues]:
        """The rows as plain values (Core, no ORM objects), locked in reference order when ``lock``; the
        batch paths read, check and write these (``write_moved_rows``). Run on the session's connection:
        through the session, the ORM terms of the WHERE clause made SQLAlchemy load them as ORM results."""
        query = self._by_reference_locked if lock else self._by_reference
        return {
            row.reference: OrderValues.of(row)
            for chunk in chunks(references)
            for row in session.connection().execute(query, {"references": list(chunk), **self._store.keys()})
        }

    def _checked(
        self, session: Session, reference: str, owner: str | None, expected_from: Collection[State] | None
    ) -> tuple[OrderRow, datetime]:
        """Lock the order row and check the lease and the expected state."""
        row = self._rows(session, [reference], lock=True).get(reference)
        if row is None:
            raise UnknownOrderError(reference)
        now = self._store.now()
        check_row(row, owner, expected_from, now)
        return row, now

    def _move_checked(
        self,
        session: Session,
        rows: dict[str, OrderRow],
        reference: str,
        to: State,
        expected_from: Collection[State] | None,
        owner: str | None,
        detail: str,
    ) -> OrderRecord:
        row, now = rows[reference], self._store.now()
        check_row(row, owner, expected_from, now)
        move_row(session, row, to, now, detail, owner)
        row.last_error = None
        return order_record(row)

    def _insert_new(self, session: Session, orders: list[NewOrder], now: datetime) -> dict[str, OrderValues]:
        """Insert the orders not yet known (multi-row INSERT .. ON CONFLICT DO NOTHING); the rows created, by
        reference, built from what was inserted (not read back)."""
        created: dict[str, OrderValues] = {}
        for chunk in chunks(orders):
            new = {order.reference: self._new_row(order, now) for order in chunk}
            for inserted in self._insert_rows(session, list(new.values())):
                row = created[inserted.reference] = new[inserted.reference]
                row.id = inserted.id
        audit = [
            {"order_id": row.id, "from_state": None, "to_state": State.PENDING, "at": now, "detail": ""}
            for row in created.values()
        ]
        record_audit(session, audit)
        return created

    def _insert_rows(self, session: Session, rows: list[OrderValues]) -> sa.CursorResult[Any]:
        """INSERT .. ON CONFLICT DO NOTHING RETURNING (id, reference) of the rows that were new."""
        values = [_inserted(row) for row in rows]
        connection = session.connection()
        if connection.dialect.name == "postgresql":  # one statement text for any batch (ledger._recordsets)
            return connection.execute(_RECORDSET_INSERT, rows_param(values))
        # SQLite: a Core executemany with RETURNING, sent as multi-row VALUES ("insertmanyvalues") from one
        # cached compilation.
        return connection.execute(_VALUES_INSERT, values)

    def _new_row(self, order: NewOrder, now: datetime) -> OrderValues:
        """A new ``pending`` row (its id is known once inserted)."""
        return OrderValues(
            id=0,
            account=self._store.account,
            threepl=self._store.threepl,
            reference=order.reference,
            num_order_id=order.num_order_id,
            state=State.PENDING,
            payload_hash=order.payload_hash,
            remote_id=None,
            tracking_number=None,
            tracking_numbers=[],
            carrier=None,
            shipped_lines=[],
            shipment_ids=[],
            attempts=0,
            last_error=None,
            quarantine_reason=None,
            quarantined_from=None,
            lease_owner=None,
            lease_expires_at=None,
            created_at=now,
            updated_at=now,
        )


_INSERTED = (
    "account",
    "threepl",
    "reference",
    "num_order_id",
    "state",
    "payload_hash",
    "tracking_numbers",
    "shipped_lines",
    "shipment_ids",
    "attempts",
    "created_at",
    "updated_at",
)
_inserted_values = attrgetter(*_INSERTED)


def _inserted(row: OrderValues) -> dict[str, object]:
    """The INSERT parameters of a new row: the columns it sets (the others start NULL, the id is the
    database's), so that each row binds a dozen values instead of twenty."""
    return dict(zip(_INSERTED, _inserted_values(row), strict=True))


_ORDERS = cast(sa.Table, OrderRow.__table__)
_KEYS = [_ORDERS.c.account, _ORDERS.c.threepl, _ORDERS.c.reference]
_VALUES_INSERT = (
    sqlite.insert(_ORDERS)
    .on_conflict_do_nothing(index_elements=_KEYS)
    .returning(_ORDERS.c.id, _ORDERS.c.reference)
)
_RECORDSET_INSERT = (
    insert_from_recordset(_ORDERS, _INSERTED)
    .on_conflict_do_nothing(index_elements=_KEYS)
    .returning(_ORDERS.c.id, _ORDERS.c.reference)
)


def _summary(row: sa.Row[Any]) -> tuple[str, OrderSummary]:
    """(reference, summary) of a row selected with the reference and ``_SUMMARY_COLUMNS``."""
    reference, num_order_id, remote_id, carrier, tracking_numbers = cast("tuple[Any, ...]", row)
    return reference, OrderSummary(num_order_id, remote_id, carrier, tuple(tracking_numbers))


_SUMMARY_COLUMNS = (OrderRow.num_order_id, OrderRow.remote_id, OrderRow.carrier, OrderRow.tracking_numbers)
"""The columns of an ``OrderSummary``, in its order."""

_TRANSITION_COLUMNS = (
    TransitionRow.from_state,
    TransitionRow.to_state,
    TransitionRow.at,
    TransitionRow.detail,
    TransitionRow.owner,
)


def _apply_move(
    row: OrderValues | None, move: Move, owner: str | None, now: datetime, audit: list[dict[str, object]]
) -> MoveOutcome:
    """Check and apply one move to its loaded row; its audit line is appended to ``audit``."""
    if row is None:
        return _refused(move.reference, MoveStatus.UNKNOWN_ORDER, None)
    refused = why_not(row, owner, move.expected_from, now)
    if refused is not None:
        return _refused(move.reference, refused, row)
    audit.append(moved(row, move.to, now, move.detail, owner))
    apply_changes(row, move.changes)
    row.quarantine_reason = row.quarantined_from = None
    return MoveOutcome(reference=move.reference, status=MoveStatus.MOVED, record=order_record(row))


def _refused(reference: str, status: MoveStatus, row: OrderValues | None) -> MoveOutcome:
    record = order_record(row) if row is not None else None
    return MoveOutcome(reference=reference, status=status, record=record, reason=_REASONS[status])
