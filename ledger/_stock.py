"""Stock: the last level written to Linnworks per SKU, held changes a person reviews, and the stock rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger._errors import EmptyReasonError, LedgerError
from ledger._order_rows import row_lines
from ledger._records import HeldStockChange, HoldStatus, StockState, merge_lines
from ledger._schema import OrderRow, StockHoldRow, StockRow
from ledger._states import State
from ledger._store import Store, chunks

__all__ = ["SHIPPED_UNPROCESSED_STATES", "Stock"]

# Orders whose shipped units Linnworks still counts in open orders (it deducts them when processed).
# A quarantined order counts when it was quarantined from one of these states.
SHIPPED_UNPROCESSED_STATES: frozenset[State] = frozenset(
    {State.PARTIALLY_SHIPPED, State.SHIPPED, State.TRACKING_WRITTEN, State.ON_HOLD}
)


class Stock:
    """Stock levels and holds of one account at one 3PL. Reached as ``Ledger.stock``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def stock_state(self, skus: Iterable[str] | None = None) -> dict[str, StockState]:
        """The last level written per SKU and its snapshot time (all SKUs when ``skus`` is None)."""
        query = sa.select(StockRow).where(*self._store.scope(StockRow))
        with self._store.read() as session:
            if skus is None:
                rows = list(session.scalars(query))
            else:
                rows = [
                    row
                    for chunk in chunks(list(skus))
                    for row in session.scalars(query.where(self._store.among(StockRow.sku, chunk)))
                ]
            return {row.sku: StockState.model_validate(row) for row in rows}

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
        with self._store.write() as session:
            now = self._store.now()
            for index in order:
                sku, level, as_of = writes[index]
                accepted[index] = self._upsert(session, sku, level, as_of, now)
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
        with self._store.write() as session:
            row = session.scalars(
                self._holds(HoldStatus.HELD).where(StockHoldRow.sku == sku).with_for_update()
            ).first()
            if row is None:
                row = self._new_hold(sku, as_of)
                session.add(row)
            if as_of >= row.as_of:
                row.current, row.proposed, row.as_of, row.reason = current, proposed, as_of, reason
            session.flush()
            return HeldStockChange.model_validate(row)

    def held_stock_changes(self, status: HoldStatus | None = HoldStatus.HELD) -> list[HeldStockChange]:
        """Stock holds with ``status`` (all of them when None), oldest first."""
        with self._store.read() as session:
            rows = session.scalars(self._holds(status).order_by(StockHoldRow.id))
            return [HeldStockChange.model_validate(row) for row in rows]

    def resolve_held(self, hold_id: int, *, approve: bool, note: str = "") -> HeldStockChange:
        """A person's decision on a held change: approved (the next stock run may write it) or rejected.

        Raises:
            LedgerError: no such hold, or it is no longer held.
        """
        with self._store.write() as session:
            row = session.scalars(
                self._holds(None).where(StockHoldRow.id == hold_id).with_for_update()
            ).first()
            if row is None or row.status != HoldStatus.HELD:
                status = "missing" if row is None else row.status
                raise LedgerError(f"stock hold {hold_id}: cannot resolve, it is {status}")
            row.status = HoldStatus.APPROVED if approve else HoldStatus.REJECTED
            row.resolved_at = self._store.now()
            row.resolution_note = note
            session.flush()
            return HeldStockChange.model_validate(row)

    def shipped_unprocessed_units(self) -> dict[str, int]:
        """Units per SKU the 3PL shipped for orders Linnworks has not processed yet (the stock rule).

        Counts orders in ``SHIPPED_UNPROCESSED_STATES``, and quarantined ones that came from those states.
        """
        states = list(SHIPPED_UNPROCESSED_STATES)
        query = sa.select(OrderRow).where(
            *self._store.scope(OrderRow),
            sa.or_(
                OrderRow.state.in_(states),
                sa.and_(OrderRow.state == State.QUARANTINED, OrderRow.quarantined_from.in_(states)),
            ),
        )
        with self._store.read() as session:
            lines = merge_lines(*(row_lines(row) for row in session.scalars(query)))
        return {line.sku: line.quantity for line in lines if line.quantity}

    def _holds(self, status: HoldStatus | None) -> sa.Select[StockHoldRow]:
        query = sa.select(StockHoldRow).where(*self._store.scope(StockHoldRow))
        return query if status is None else query.where(StockHoldRow.status == status)

    def _new_hold(self, sku: str, as_of: datetime) -> StockHoldRow:
        return StockHoldRow(
            **self._store.keys(),
            sku=sku,
            status=HoldStatus.HELD,
            created_at=self._store.now(),
            resolution_note="",
            as_of=as_of,
        )

    def _upsert(self, session: Session, sku: str, level: int, as_of: datetime, now: datetime) -> bool:
        insert = self._store.insert(StockRow).values(
            **self._store.keys(), sku=sku, level=level, as_of=as_of, written_at=now
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
                .where(
                    *self._store.scope(StockHoldRow), StockHoldRow.sku == sku, StockHoldRow.status == status
                )
                .where(StockHoldRow.as_of <= as_of)
                .values(status=closed, resolved_at=sa.func.coalesce(StockHoldRow.resolved_at, now))
            )
