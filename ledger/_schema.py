"""SQLAlchemy tables of the ledger. The Alembic migrations in ``ledger/migrations`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "CatalogueRow",
    "CursorRow",
    "EventRow",
    "OrderRow",
    "StockHoldRow",
    "StockRow",
    "TransitionRow",
    "UtcDateTime",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Stores timezone-aware UTC datetimes; SQLite keeps them naive (UTC) and they come back aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the ledger stores timezone-aware datetimes only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: sa.JSON(), list[Any]: sa.JSON()}  # noqa: RUF012


# A claim takes the free orders of a state by ``lease_expires_at NULLS FIRST, id``; this index hands them
# over in that order. SQLite sorts NULL first in ascending order and cannot declare NULLS FIRST on an index
# column; PostgreSQL sorts NULL last unless told: one index per database (revision 0002).
def _claim_order_index(dialect: str) -> sa.Index:
    lease_end: sa.ColumnElement[Any] | str = "lease_expires_at"
    if dialect == "postgresql":
        lease_end = sa.nulls_first(sa.column("lease_expires_at"))
    name = f"ix_ledger_orders_claim_order_{dialect}"
    return sa.Index(name, "account", "threepl", "state", lease_end, "id").ddl_if(dialect=dialect)


_DIALECTS = ("postgresql", "sqlite")
CLAIM_ORDER_INDEXES = tuple(_claim_order_index(dialect) for dialect in _DIALECTS)
ONE_DATABASE_ONLY = {
    str(index.name): dialect for dialect, index in zip(_DIALECTS, CLAIM_ORDER_INDEXES, strict=True)
}
"""Indexes created on one database only (``ddl_if``), by name: comparing a migrated schema with the models
must skip them on the other (Alembic's comparison does not read ``ddl_if``)."""


class OrderRow(Base):
    """One Linnworks order at one 3PL for one account."""

    __tablename__ = "ledger_orders"
    __table_args__ = (
        sa.UniqueConstraint("account", "threepl", "reference"),
        sa.Index(None, "account", "threepl", "state", "updated_at"),
        *CLAIM_ORDER_INDEXES,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str]
    threepl: Mapped[str]
    reference: Mapped[str]
    num_order_id: Mapped[str]
    state: Mapped[str] = mapped_column(sa.String(32))
    payload_hash: Mapped[str]
    remote_id: Mapped[str | None]
    tracking_number: Mapped[str | None]
    tracking_numbers: Mapped[list[Any]] = mapped_column(default=list)
    carrier: Mapped[str | None]
    shipped_lines: Mapped[list[Any]] = mapped_column(default=list)
    shipment_ids: Mapped[list[Any]] = mapped_column(default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    quarantine_reason: Mapped[str | None] = mapped_column(sa.Text)
    quarantined_from: Mapped[str | None] = mapped_column(sa.String(32))
    lease_owner: Mapped[str | None]
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TransitionRow(Base):
    """The audit trail: one row per state change of an order."""

    __tablename__ = "ledger_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_orders.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str] = mapped_column(sa.String(32))
    at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    owner: Mapped[str | None]


class EventRow(Base):
    """A 3PL event already seen; the unique constraint is the dedup guard."""

    __tablename__ = "ledger_events"
    __table_args__ = (
        sa.UniqueConstraint("account", "threepl", "event_id"),
        sa.Index(None, "account", "threepl", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str]
    threepl: Mapped[str]
    event_id: Mapped[str]
    reference: Mapped[str]
    kind: Mapped[str]
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]


class CursorRow(Base):
    """A named checkpoint (e.g. the 3PL event poll position)."""

    __tablename__ = "ledger_cursors"

    account: Mapped[str] = mapped_column(primary_key=True)
    threepl: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime]


class StockRow(Base):
    """The last level written to Linnworks for a SKU, with the 3PL snapshot time it came from."""

    __tablename__ = "ledger_stock"

    account: Mapped[str] = mapped_column(primary_key=True)
    threepl: Mapped[str] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(primary_key=True)
    level: Mapped[int]
    as_of: Mapped[datetime]
    written_at: Mapped[datetime]


class StockHoldRow(Base):
    """A stock change held for a person to review."""

    __tablename__ = "ledger_stock_holds"
    __table_args__ = (sa.Index(None, "account", "threepl", "sku", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str]
    threepl: Mapped[str]
    sku: Mapped[str]
    current: Mapped[int]
    proposed: Mapped[int]
    as_of: Mapped[datetime]
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str]
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str] = mapped_column(sa.Text, default="")


class CatalogueRow(Base):
    """The hash of what was last sent to the 3PL for a SKU (to send changed items only)."""

    __tablename__ = "ledger_catalogue"

    account: Mapped[str] = mapped_column(primary_key=True)
    threepl: Mapped[str] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(primary_key=True)
    hash: Mapped[str]
    updated_at: Mapped[datetime]
