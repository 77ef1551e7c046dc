"""Initial ledger schema: orders and their transitions, events, cursors, stock, stock holds, catalogue.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Frozen: later schema changes go in new revisions; this file never imports the live models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _scope_pk(table: str, key: str) -> list[sa.schema.SchemaItem]:
    return [
        _text("account"),
        _text("threepl"),
        _text(key),
        sa.PrimaryKeyConstraint("account", "threepl", key, name=f"pk_{table}"),
    ]


def upgrade() -> None:
    op.create_table(
        "ledger_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("account"),
        _text("threepl"),
        _text("reference"),
        _text("num_order_id"),
        sa.Column("state", sa.String(length=32), nullable=False),
        _text("payload_hash"),
        _text("remote_id", nullable=True),
        _text("tracking_number", nullable=True),
        sa.Column("tracking_numbers", sa.JSON(), nullable=False),
        _text("carrier", nullable=True),
        sa.Column("shipped_lines", sa.JSON(), nullable=False),
        sa.Column("shipment_ids", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("quarantine_reason", sa.Text(), nullable=True),
        sa.Column("quarantined_from", sa.String(length=32), nullable=True),
        _text("lease_owner", nullable=True),
        _utc("lease_expires_at", nullable=True),
        _utc("created_at"),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_orders"),
        sa.UniqueConstraint(
            "account", "threepl", "reference", name="uq_ledger_orders_account_threepl_reference"
        ),
    )
    op.create_index(
        "ix_ledger_orders_account_threepl_state_updated_at",
        "ledger_orders",
        ["account", "threepl", "state", "updated_at"],
    )
    op.create_table(
        "ledger_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        _utc("at"),
        sa.Column("detail", sa.Text(), nullable=False),
        _text("owner", nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["ledger_orders.id"],
            name="fk_ledger_transitions_order_id_ledger_orders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_transitions"),
    )
    op.create_index("ix_ledger_transitions_order_id", "ledger_transitions", ["order_id"])
    op.create_table(
        "ledger_events",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("account"),
        _text("threepl"),
        _text("event_id"),
        _text("reference"),
        _text("kind"),
        _utc("occurred_at"),
        sa.Column("payload", sa.JSON(), nullable=False),
        _utc("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_events"),
        sa.UniqueConstraint(
            "account", "threepl", "event_id", name="uq_ledger_events_account_threepl_event_id"
        ),
    )
    op.create_index(
        "ix_ledger_events_account_threepl_reference", "ledger_events", ["account", "threepl", "reference"]
    )
    op.create_table(
        "ledger_cursors",
        *_scope_pk("ledger_cursors", "name"),
        sa.Column("value", sa.Text(), nullable=False),
        _utc("updated_at"),
    )
    op.create_table(
        "ledger_stock",
        *_scope_pk("ledger_stock", "sku"),
        sa.Column("level", sa.Integer(), nullable=False),
        _utc("as_of"),
        _utc("written_at"),
    )
    op.create_table(
        "ledger_stock_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("account"),
        _text("threepl"),
        _text("sku"),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=False),
        _utc("as_of"),
        sa.Column("reason", sa.Text(), nullable=False),
        _text("status"),
        _utc("created_at"),
        _utc("resolved_at", nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_stock_holds"),
    )
    op.create_index(
        "ix_ledger_stock_holds_account_threepl_sku_status",
        "ledger_stock_holds",
        ["account", "threepl", "sku", "status"],
    )
    op.create_table(
        "ledger_catalogue", *_scope_pk("ledger_catalogue", "sku"), _text("hash"), _utc("updated_at")
    )


def downgrade() -> None:
    for table in (
        "ledger_catalogue",
        "ledger_stock_holds",
        "ledger_stock",
        "ledger_cursors",
        "ledger_events",
        "ledger_transitions",
        "ledger_orders",
    ):
        op.drop_table(table)
