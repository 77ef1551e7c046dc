"""3PL events (deduplicated by id), the order changes they cause, and named cursors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ledger._orders import Orders
from ledger._records import EventEffect, EventOutcome, MoveOutcome, MoveStatus, NewEvent
from ledger._recordsets import insert_from_recordset, rows_param
from ledger._schema import CursorRow, EventRow
from ledger._store import Store, chunks

__all__ = ["Events"]


class Events:
    """Events and cursors of one account at one 3PL. Reached as ``Ledger.events``."""

    def __init__(self, store: Store, orders: Orders) -> None:
        self._store = store
        self._orders = orders

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
        with self._store.write() as session:
            new = self._insert(session, events, self._store.now())
        return _first_positions(events, new)

    def apply_events(self, page: Sequence[EventEffect], *, owner: str | None) -> list[EventOutcome]:
        """Record a page of events and apply the order moves they cause, all in ONE transaction.

        Events seen before are skipped (their moves too). Each new event's move runs with
        ``transition_each``'s per-order outcome; the event is then recorded, except when its move lost the
        lease: it stays unrecorded, so the next poll delivers it again to whoever holds the order. A move in
        state conflict writes the event's ``keep`` changes, if any, and is recorded with its event (nothing to
        redo): act on its outcome (note, quarantine) in the same run. ``owner=None`` says, explicitly, that no
        lease is held (3PL events apply whichever run holds the order): ``expected_from`` alone guards the
        moves. One outcome per entry of ``page``, in order (a repeated id counts at its first place).
        """
        with self._store.write() as session:
            now = self._store.now()
            fresh = self._fresh(session, page)
            moved = self._orders.apply_moves(
                session, [e.move for e in fresh if e.move is not None], owner, now
            )
            outcomes = _pair(fresh, moved)
            self._keep(session, fresh, outcomes, now)
            settled = [e for e in fresh if _settles(outcomes.get(e.event.event_id))]
            self._insert(session, [effect.event for effect in settled], now)
        self._store.grew(EventRow, len(settled))
        recorded = {effect.event.event_id for effect in settled}
        return [_outcome(effect.event.event_id, recorded, outcomes) for effect in page]

    def events_seen(self, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` were recorded already."""
        with self._store.read() as session:
            return self._seen(session, list(event_ids))

    def latest_at(self, references: Iterable[str], kind: str) -> dict[str, datetime]:
        """When the latest recorded event of ``kind`` happened, by reference (references without one are
        absent): e.g. a shipment event's time is when the 3PL says the parcels left."""
        latest = sa.func.max(EventRow.occurred_at)
        query = (
            sa.select(EventRow.reference, latest)
            .where(*self._store.scope(EventRow), EventRow.kind == kind)
            .group_by(EventRow.reference)
        )
        found: dict[str, datetime] = {}
        with self._store.read() as session:
            for chunk in chunks(sorted(set(references))):
                rows = session.execute(query.where(self._store.among(EventRow.reference, chunk)))
                found.update({reference: at for reference, at in rows})
        return found

    def get_cursor(self, name: str) -> str | None:
        """The saved value of checkpoint ``name`` (e.g. the 3PL event poll position), or None."""
        query = sa.select(CursorRow.value).where(*self._store.scope(CursorRow), CursorRow.name == name)
        with self._store.read() as session:
            return session.scalars(query).one_or_none()

    def set_cursor(self, name: str, value: str) -> None:
        """Save checkpoint ``name``."""
        with self._store.write() as session:
            now = self._store.now()
            insert = self._store.insert(CursorRow).values(
                **self._store.keys(), name=name, value=value, updated_at=now
            )
            keys = [CursorRow.account, CursorRow.threepl, CursorRow.name]
            session.execute(
                insert.on_conflict_do_update(index_elements=keys, set_={"value": value, "updated_at": now})
            )

    def _fresh(self, session: Session, page: Sequence[EventEffect]) -> list[EventEffect]:
        """The page's events not recorded yet, each id once (first place)."""
        first = {effect.event.event_id: effect for effect in reversed(page)}
        seen = self._seen(session, list(first))
        return [effect for event_id, effect in reversed(first.items()) if event_id not in seen]

    def _keep(
        self, session: Session, fresh: Sequence[EventEffect], outcomes: dict[str, MoveOutcome], now: datetime
    ) -> None:
        """Write the ``keep`` changes of events whose move met another state; outcomes show the result."""
        kept = [
            (effect.event.event_id, effect.keep)
            for effect in fresh
            if effect.keep is not None and _conflicts(outcomes.get(effect.event.event_id))
        ]
        records = self._orders.change_in(
            session, [(outcomes[event_id].reference, keep) for event_id, keep in kept], now
        )
        for (event_id, _), record in zip(kept, records, strict=True):
            outcomes[event_id] = outcomes[event_id].model_copy(update={"record": record})

    def _seen(self, session: Session, event_ids: list[str]) -> set[str]:
        query = sa.select(EventRow.event_id).where(*self._store.scope(EventRow))
        return {
            event_id
            for chunk in chunks(event_ids)
            for event_id in session.scalars(query.where(self._store.among(EventRow.event_id, chunk)))
        }

    def _insert(self, session: Session, events: Sequence[NewEvent], now: datetime) -> set[str]:
        """Insert the events (sorted by id: concurrent batches lock in one order); the ids that were new."""
        unique = {event.event_id: event for event in reversed(events)}
        new: set[str] = set()
        for chunk in chunks(sorted(unique)):
            new.update(self._insert_chunk(session, [unique[event_id] for event_id in chunk], now).scalars())
        return new

    def _insert_chunk(self, session: Session, events: Sequence[NewEvent], now: datetime) -> sa.Result[Any]:
        scope = {**self._store.keys(), "recorded_at": now}
        values = [{**event.model_dump(), **scope} for event in events]
        connection = session.connection()
        if connection.dialect.name == "postgresql":  # one statement text for any page (ledger._recordsets)
            return connection.execute(_RECORDSET_INSERT, rows_param(values))
        # SQLite: a Core executemany with RETURNING (one cached compilation; see ``Orders._insert_rows``).
        return connection.execute(_VALUES_INSERT, values)


_EVENTS = cast(sa.Table, EventRow.__table__)
_KEYS = [_EVENTS.c.account, _EVENTS.c.threepl, _EVENTS.c.event_id]
_INSERTED = ("account", "threepl", "event_id", "reference", "kind", "occurred_at", "payload", "recorded_at")
_VALUES_INSERT = (
    sqlite.insert(_EVENTS).on_conflict_do_nothing(index_elements=_KEYS).returning(_EVENTS.c.event_id)
)
_RECORDSET_INSERT = (
    insert_from_recordset(_EVENTS, _INSERTED)
    .on_conflict_do_nothing(index_elements=_KEYS)
    .returning(_EVENTS.c.event_id)
)


def _first_positions(events: Sequence[NewEvent], new: set[str]) -> list[bool]:
    """True at the first position of each new id only."""
    flags: list[bool] = []
    for event in events:
        flags.append(event.event_id in new)
        new.discard(event.event_id)
    return flags


def _pair(fresh: Sequence[EventEffect], moved: Sequence[MoveOutcome]) -> dict[str, MoveOutcome]:
    """Each fresh event's move outcome by event id (``moved`` follows the fresh events that have a move)."""
    with_move = [effect.event.event_id for effect in fresh if effect.move is not None]
    return dict(zip(with_move, moved, strict=True))


def _conflicts(outcome: MoveOutcome | None) -> bool:
    return outcome is not None and outcome.status is MoveStatus.STATE_CONFLICT


def _settles(outcome: MoveOutcome | None) -> bool:
    return outcome is None or outcome.status is not MoveStatus.LEASE_LOST


def _outcome(event_id: str, recorded: set[str], outcomes: dict[str, MoveOutcome]) -> EventOutcome:
    # pop/discard: a repeated id in the page is reported once, at its first place.
    first_time = event_id in recorded
    recorded.discard(event_id)
    return EventOutcome(event_id=event_id, recorded=first_time, move=outcomes.pop(event_id, None))
