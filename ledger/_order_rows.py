"""Changing one order row in a session: checks, the move with its audit line, and the field changes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger._driver_rows import DriverRows
from ledger._errors import IllegalTransitionError, LeaseLostError, StateConflictError
from ledger._records import Changes, MoveStatus, OrderRecord, ShipmentSeen, ShippedLine, merge_lines
from ledger._recordsets import columns_of, insert_from_recordset, recordset, rows_param
from ledger._schema import OrderRow, TransitionRow
from ledger._states import State, is_allowed

__all__ = [
    "ORDER_COLUMNS",
    "OrderValues",
    "apply_changes",
    "check_row",
    "lease_free",
    "move_row",
    "moved",
    "order_record",
    "record_audit",
    "row_lines",
    "why_not",
    "write_moved_rows",
]

# The columns a move or its changes may set (all but keys, lease and creation time).
_MOVABLE = (
    "state",
    "updated_at",
    "remote_id",
    "carrier",
    "last_error",
    "payload_hash",
    "num_order_id",
    "tracking_number",
    "tracking_numbers",
    "shipped_lines",
    "shipment_ids",
    "attempts",
    "quarantine_reason",
    "quarantined_from",
)
_movable = attrgetter(*_MOVABLE)


@dataclass(slots=True)
class OrderValues:
    """An order row's columns as plain values, read with Core: what batch moves check, change and write
    back with one executemany. Building and tracking ORM objects cost more CPU than the statements did;
    the one-order paths keep their ORM rows (``OrderRow``), and the helpers below take either."""

    id: int
    account: str
    threepl: str
    reference: str
    num_order_id: str
    state: str
    payload_hash: str
    remote_id: str | None
    tracking_number: str | None
    tracking_numbers: list[Any]
    carrier: str | None
    shipped_lines: list[Any]
    shipment_ids: list[Any]
    attempts: int
    last_error: str | None
    quarantine_reason: str | None
    quarantined_from: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    read: tuple[Any, ...] = ()
    """Not a column: the movable columns as read, so ``write_moved_rows`` writes only those that changed
    (binding and encoding all fourteen, three of them JSON, cost more CPU than the rest of the UPDATE).
    The JSON lists are compared by value, so a change must assign a new list, never mutate the one read."""

    @classmethod
    def of(cls, row: sa.Row[Any]) -> OrderValues:
        """The values of a row selected with ``ORDER_COLUMNS`` (the fields are in table order)."""
        values = cls(*cast("tuple[Any, ...]", row))
        values.read = _movable(values)
        return values


_ORDERS = cast(sa.Table, OrderRow.__table__)
ORDER_COLUMNS = tuple(_ORDERS.c)
"""Every column of an order row, in table order, for a Core SELECT whose rows become ``OrderValues``."""

_Order = OrderRow | OrderValues


def order_record(row: _Order) -> OrderRecord:
    """The detached record of ``row`` (validated by the model's own validator: ``model_validate``'s Python
    wrapper cost as much again, and every batch move builds one record per order)."""
    record: OrderRecord = _validate_record(row, from_attributes=True)
    return record


_validate_record = OrderRecord.__pydantic_validator__.validate_python


def lease_free(now: datetime) -> sa.ColumnElement[bool]:
    """Rows nobody holds, or whose lease has ended."""
    return sa.or_(OrderRow.lease_owner.is_(None), OrderRow.lease_expires_at <= now)


def why_not(
    row: _Order, owner: str | None, expected_from: Collection[State] | None, now: datetime
) -> MoveStatus | None:
    """Why the caller may not change ``row`` (lease first, then state), or None when it may."""
    if owner is not None and not _holds_lease(row, owner, now):
        return MoveStatus.LEASE_LOST
    if expected_from is not None and State(row.state) not in expected_from:
        return MoveStatus.STATE_CONFLICT
    return None


def check_row(row: _Order, owner: str | None, expected_from: Collection[State] | None, now: datetime) -> None:
    """``why_not`` as an exception: ``LeaseLostError`` or ``StateConflictError``."""
    status = why_not(row, owner, expected_from, now)
    if status is MoveStatus.LEASE_LOST:
        assert owner is not None
        raise LeaseLostError(row.reference, owner, row.lease_owner, row.lease_expires_at, now)
    if status is MoveStatus.STATE_CONFLICT:
        assert expected_from is not None
        raise StateConflictError(row.reference, State(row.state), expected_from)


def move_row(
    session: Session, row: OrderRow, to: State, now: datetime, detail: str, owner: str | None
) -> None:
    """Set the state (if the table allows it) and add the audit line; both flushed with the row's changes."""
    session.add(TransitionRow(**moved(row, to, now, detail, owner)))


def moved(row: _Order, to: State, now: datetime, detail: str, owner: str | None) -> dict[str, object]:
    """Set the state (if the table allows it); returns the audit line for ``record_audit``."""
    current = State(row.state)
    if not is_allowed(current, to):
        raise IllegalTransitionError(row.reference, current, to)
    row.state = to
    row.updated_at = now
    return {
        "order_id": row.id,
        "from_state": current,
        "to_state": to,
        "at": now,
        "detail": detail,
        "owner": owner,
    }


_TRANSITIONS = cast(sa.Table, TransitionRow.__table__)


def _update_by_id(names: Sequence[str]) -> DriverRows:
    # SQLite: one UPDATE by primary key for every moved row, compiled once and sent as one executemany of
    # plain tuples (ledger._driver_rows; the ORM's bulk UPDATE spent more CPU sorting out each row's
    # attributes than the database spent).
    update = (
        sa.update(_ORDERS)
        .where(_ORDERS.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(name) for name in names})
    )
    return DriverRows(update, _update_columns(names))


def _update_columns(names: Sequence[str]) -> dict[str, sa.Column[Any]]:
    return {"row_id": _ORDERS.c.id} | columns_of(_ORDERS, names)


def _update_from_recordset(names: Sequence[str]) -> sa.Update:
    # PostgreSQL: the same UPDATE for any number of rows, their values in one JSON document
    # (ledger._recordsets).
    given = recordset(_update_columns(names))
    return (
        sa.update(_ORDERS)
        .where(_ORDERS.c.id == given.c.row_id)
        .values({name: given.c[name] for name in names})
    )


_AUDIT_NAMES = ("order_id", "from_state", "to_state", "at", "detail", "owner")
_INSERT_AUDIT = DriverRows(
    sa.insert(_TRANSITIONS).values({name: sa.bindparam(name) for name in _AUDIT_NAMES}),
    columns_of(_TRANSITIONS, _AUDIT_NAMES),
)
_INSERT_AUDIT_FROM_RECORDSET = insert_from_recordset(_TRANSITIONS, _AUDIT_NAMES)
_UPDATES: dict[tuple[bool, tuple[str, ...]], sa.Update | DriverRows] = {}
"""One statement per database kind and set of changed columns (a few shapes in all), each compiled once."""


def record_audit(session: Session, lines: Sequence[Mapping[str, object]]) -> None:
    """Insert audit lines in one statement: one JSON document on PostgreSQL (ledger._recordsets), else one
    executemany of plain tuples (ledger._driver_rows)."""
    if not lines:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_INSERT_AUDIT_FROM_RECORDSET, rows_param(lines))
    else:
        _INSERT_AUDIT.execute(connection, lines)


def apply_changes(row: _Order, changes: Changes) -> None:
    """Apply ``changes`` (see ``Changes``) to the row."""
    unknown = set(changes) - set(Changes.__annotations__)
    if unknown:
        raise TypeError(f"unknown order fields: {', '.join(sorted(unknown))}; see ledger.Changes")
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


def write_moved_rows(session: Session, rows: Collection[OrderValues]) -> None:
    """Write the changed columns of changed rows: one executemany UPDATE by primary key per set of changed
    columns (the unit of work would send one UPDATE per row on SQLite, whose driver cannot count an
    executemany); a batch of one kind of move is one statement."""
    by_columns: dict[tuple[str, ...], list[OrderValues]] = {}
    for row in rows:
        by_columns.setdefault(_changed_columns(row), []).append(row)
    by_columns.pop((), None)  # nothing to write: the row is as it was read
    connection = session.connection()
    on_postgresql = connection.dialect.name == "postgresql"
    for names, group in by_columns.items():
        update = _UPDATES.get((on_postgresql, names))
        if update is None:
            update = _UPDATES[on_postgresql, names] = (
                _update_from_recordset if on_postgresql else _update_by_id
            )(names)
        keys, values = ("row_id", *names), attrgetter("id", *names)
        params = [dict(zip(keys, values(row), strict=True)) for row in group]
        if isinstance(update, DriverRows):
            update.execute(connection, params)
        else:
            connection.execute(update, rows_param(params))


def _changed_columns(row: OrderValues) -> tuple[str, ...]:
    """The movable columns whose value differs from the one read (all of them for a row not read)."""
    if not row.read:
        return _MOVABLE
    current = _movable(row)
    return tuple(name for name, old, new in zip(_MOVABLE, row.read, current, strict=True) if old != new)


def row_lines(row: _Order) -> list[ShippedLine]:
    """The row's shipped lines as records."""
    return [ShippedLine.model_validate(line) for line in row.shipped_lines]


def _holds_lease(row: _Order, owner: str, now: datetime) -> bool:
    return row.lease_owner == owner and row.lease_expires_at is not None and row.lease_expires_at > now


def _set_tracking(row: _Order, numbers: list[str]) -> None:
    row.tracking_numbers = numbers
    row.tracking_number = numbers[0] if numbers else None


def _append_shipment(row: _Order, shipment: ShipmentSeen) -> None:
    if shipment.shipment_id in row.shipment_ids:
        return
    row.shipment_ids = [*row.shipment_ids, shipment.shipment_id]
    _set_tracking(row, list(dict.fromkeys([*row.tracking_numbers, *shipment.tracking_numbers])))
    row.shipped_lines = [line.model_dump() for line in merge_lines(row_lines(row), shipment.lines)]
    if shipment.carrier and not row.carrier:
        row.carrier = shipment.carrier
