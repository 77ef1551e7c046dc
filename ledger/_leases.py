"""Leases on order rows: claim, renew, release, and freeing the claims of owners known to be dead.

An owner is any string unique to one worker or run. Owners named ``host:pid:suffix`` (``tasks.context.
run_owner``) can be checked for life on their own host: ``release_dead_local_owners`` frees the claims of a
process that no longer exists, so a killed worker's orders wait seconds instead of the lease length. Owners
named otherwise (e.g. a Prefect flow-run id) are released by whoever knows they are dead, with
``release_claims_of``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection, Iterable
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger._order_rows import ORDER_COLUMNS, OrderValues, lease_free, order_record
from ledger._records import OrderRecord
from ledger._schema import OrderRow
from ledger._states import State
from ledger._store import Store, chunks

__all__ = ["NO_LEASE", "Leases", "dead_local_owners", "local_pid_of"]

_ORDERS = cast(sa.Table, OrderRow.__table__)

NO_LEASE = None
"""The ``owner`` of a move made without a lease: a 3PL event applies to an order whichever run holds its
lease (the 3PL reports what happened, whoever asked), so ``expected_from`` alone guards the move."""


class Leases:
    """Leases on the orders of one account at one 3PL. Reached as ``Ledger.leases``."""

    def __init__(self, store: Store) -> None:
        self._store = store

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
        ``references`` limits the claim to those orders.
        """
        query = (
            sa.select(*ORDER_COLUMNS)
            .where(*self._store.scope(OrderRow), OrderRow.state.in_(list(states)))
            .order_by(OrderRow.lease_expires_at.nulls_first(), OrderRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if references is not None:
            query = query.where(self._store.among(OrderRow.reference, references))
        with self._store.write() as session:
            now = self._store.now()
            found = session.connection().execute(query.where(lease_free(now)))  # Core rows, not ORM results
            rows = [OrderValues.of(row) for row in found]
            until = now + timedelta(seconds=lease_seconds)
            # The rows are locked (or the database is, on SQLite): one UPDATE by id per chunk leases them all.
            for chunk in chunks([row.id for row in rows]):
                session.connection().execute(
                    sa.update(_ORDERS)
                    .where(self._store.among(_ORDERS.c.id, chunk))
                    .values(lease_owner=owner, lease_expires_at=until)
                )
            for row in rows:
                row.lease_owner, row.lease_expires_at = owner, until
            return [order_record(row) for row in rows]

    def renew(self, references: Iterable[str], owner: str, *, lease_seconds: float) -> list[str]:
        """Extend ``owner``'s unexpired leases; returns the references renewed (a missing one was lost)."""
        with self._store.write() as session:
            now = self._store.now()
            alive = sa.and_(OrderRow.lease_owner == owner, OrderRow.lease_expires_at > now)
            until = {"lease_expires_at": now + timedelta(seconds=lease_seconds)}
            return self._update(session, list(references), alive, until)

    def release(self, references: Iterable[str], owner: str) -> list[str]:
        """Give up ``owner``'s leases on these orders so others may claim them now; returns those released."""
        with self._store.write() as session:
            return self._update(session, list(references), OrderRow.lease_owner == owner, self._freed())

    def release_claims_of(self, owners: Collection[str]) -> list[str]:
        """Free every lease held by any of ``owners`` (known dead: crashed run, killed worker).

        Returns the references freed. Only leases are touched: each order stays in its state, which the next
        run resolves (a ``submitting`` one is looked up at the 3PL before anything is sent again).
        """
        if not owners:
            return []
        with self._store.write() as session:
            statement = (
                sa.update(OrderRow)
                .where(*self._store.scope(OrderRow), OrderRow.lease_owner.in_(sorted(owners)))
                .values(**self._freed())
                .returning(OrderRow.reference)
            )
            return list(session.scalars(statement))

    def release_dead_local_owners(self, host: str | None = None) -> list[str]:
        """Free the leases of owners ``host:pid:...`` on this host whose process no longer exists.

        ``host`` defaults to this machine's name; it must be this machine, since only local processes can be
        checked. A reused pid looks alive, so that owner keeps its lease until it expires (safe, only slow).
        Returns the references freed.
        """
        host = host or socket.gethostname()
        return self.release_claims_of(dead_local_owners(self.owners(), host))

    def owners(self) -> list[str]:
        """Every owner holding an unexpired lease now (to ask who of them is known dead)."""
        now = self._store.now()
        # "In any state" changes no answer but lets the claim index (account, 3PL, state, lease end) serve
        # the query as one short range of lease ends per state: every claim asks this, and without the
        # state the query read every order of the account (13 ms at 20,000 orders on SQLite, 0.5 with it).
        query = (
            sa.select(OrderRow.lease_owner)
            .distinct()
            .where(
                *self._store.scope(OrderRow),
                OrderRow.state.in_(list(State)),
                OrderRow.lease_expires_at > now,
            )
        )
        with self._store.read() as session:
            return sorted(owner for owner in session.scalars(query) if owner is not None)

    def _freed(self) -> dict[str, Any]:
        # The lease "ended" now: the claim order puts these after never-claimed rows, like any ended lease.
        return {"lease_owner": None, "lease_expires_at": self._store.now()}

    def _update(
        self,
        session: Session,
        references: list[str],
        condition: sa.ColumnElement[bool],
        values: dict[str, Any],
    ) -> list[str]:
        done: list[str] = []
        for chunk in chunks(references):
            statement = (
                sa.update(_ORDERS)
                .where(*self._store.scope(OrderRow), self._store.among(OrderRow.reference, chunk), condition)
                .values(**values)
                .returning(_ORDERS.c.reference)
            )
            # On the connection: through the session, an ORM UPDATE also looks for the rows' objects to sync.
            done.extend(session.connection().execute(statement).scalars())
        return done


def local_pid_of(owner: str, host: str) -> int | None:
    """The pid in an owner name ``host:pid:suffix`` when it names ``host``; None for any other name."""
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != host or not parts[1].isdigit():
        return None
    return int(parts[1])


def dead_local_owners(owners: Iterable[str], host: str) -> list[str]:
    """The owners named ``host:pid:...`` whose process no longer exists on this host (``host``)."""
    return [owner for owner in owners if _is_dead(local_pid_of(owner, host))]


def _is_dead(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False
