"""The CSV-over-SFTP adapter: orders, cancels and items go in as files, events and stock come out as files.

Folder contract (relative to the SFTP login directory; names configurable):

* ``inbound/``: we drop ``ord_<reference>.csv``, ``can_<reference>.csv`` and ``itm_<time>_<n>.csv``,
  each written under a dot-name first and renamed into place, so the warehouse never sees half a file.
* ``inbound/processed/``: the warehouse moves the files it has picked up here (and keeps them).
* ``outbound/``: the warehouse drops ``ack_*.csv``, ``shp_*.csv`` and ``inv_*.csv``.
* ``outbound/processed/``: we move event files here once their events are acked, and superseded
  stock files once a newer one was read; ``outbound/rejected/``: files we could not use at all.

The file name is the idempotency: a second ``ord_`` file for the same reference is refused here
(``DUPLICATE``), and ``find_order`` answers by looking for the file in ``inbound/`` and
``inbound/processed/``.
"""

from __future__ import annotations

import logging
import posixpath
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncssh

from clients.errors import CallContext, MalformedResponseError, RetryableError
from clients.sftp import _format as fmt
from clients.sftp._session import SftpConfig, SftpSession
from clients.threepl.models import (
    Address,
    CancelOutcome,
    CancelResult,
    Capabilities,
    CatalogueItem,
    ChangeOutcome,
    ChangeResult,
    Event,
    EventPage,
    FulfilmentOrder,
    InventorySnapshot,
    ItemResult,
    RemoteOrder,
    SubmitOutcome,
    SubmitResult,
    ValidationIssue,
    WrittenTracking,
)

__all__ = ["SftpAdapter"]

_log = logging.getLogger("clients.sftp")
_EVENT_PREFIXES = ("ack_", "shp_")
DEFAULT_MAX_ROWS_PER_POLL = 5000
_FINISHED_MEMORY = 50_000
_DRAIN_MEMORY = 100


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _sort_key(name: str) -> str:
    """Outbound names carry a UTC time after the prefix; order by it, then by the whole name."""
    return f"{name[4:]}\x00{name}"


class SftpAdapter:
    """A warehouse that exchanges CSV files (format version 1, see ``docs/adapters.md``) over SFTP.

    Example:
        >>> config = SftpConfig(host="sftp.example", username="acme", password=SecretStr("x"))
        >>> with SftpAdapter(config) as adapter:
        ...     result = adapter.submit_order(order)
    """

    name = "sftp"

    def __init__(
        self,
        config: SftpConfig,
        *,
        clock: Callable[[], datetime] = _utc_now,
        max_rows_per_poll: int = DEFAULT_MAX_ROWS_PER_POLL,
    ) -> None:
        """Args:
        config: host, credentials and folder names.
        clock: the current UTC time (cancel and item file stamps).
        max_rows_per_poll: a poll stops after the file that reaches this many rows.
        """
        self._config = config
        self._session = SftpSession(config)
        self._clock = clock
        self._max_rows = max_rows_per_poll
        self._inbound = config.inbound_dir.rstrip("/")
        self._outbound = config.outbound_dir.rstrip("/")
        # which unacked event ids each outbound file holds, learnt by polling; guarded by _seen_lock
        self._pending_by_file: dict[str, set[str]] = {}
        self._acked: set[str] = set()
        self._drains: dict[str, frozenset[str]] = {}  # issued checkpoint -> files returned in that drain
        self._finished: set[str] = set()  # ids of files already moved, so a repeat ack needs no re-read
        self._seen_lock = threading.Lock()
        self._areas_made: set[str] = set()

    def __enter__(self) -> SftpAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def connections_opened(self) -> int:
        """How many SSH connections this adapter has opened (reconnects included)."""
        return self._session.connections_opened

    def capabilities(self) -> Capabilities:
        """Lookup-only idempotency (the file name), cancel by request file, partial and multi-parcel."""
        return Capabilities(
            idempotency="lookup_only", cancel="request", partial_shipments=True, multi_parcel=True
        )

    # --- orders ---------------------------------------------------------------------------------------

    def submit_order(self, order: FulfilmentOrder) -> SubmitResult:
        """Publish ``ord_<reference>.csv`` atomically; an existing file for the reference is DUPLICATE.

        Raises:
            OutcomeUnknownError: the rename that publishes the file lost its reply; call find_order.
            RetryableError: the connection failed before the file was published.
        """
        try:
            name = fmt.order_file_name(order.reference)
            data = fmt.encode_order(order)
        except (ValueError, UnicodeEncodeError) as exc:
            return SubmitResult(outcome=SubmitOutcome.REJECTED, issues=[ValidationIssue(message=str(exc))])
        if self._locate(name) is not None:
            return SubmitResult(outcome=SubmitOutcome.DUPLICATE, remote_id=name)
        published = self._publish(name, data)
        if not published or self._picked_up_before(name):
            return SubmitResult(outcome=SubmitOutcome.DUPLICATE, remote_id=name)
        _log.info("sftp order %s published as %s", order.reference, name)
        return SubmitResult(outcome=SubmitOutcome.ACCEPTED, remote_id=name)

    def find_order(self, reference: str) -> RemoteOrder | None:
        """The order file for ``reference`` if it is in ``inbound/`` or ``inbound/processed/``."""
        try:
            name = fmt.order_file_name(reference)
        except ValueError:
            return None
        status = self._locate(name)
        return None if status is None else RemoteOrder(reference=reference, remote_id=name, status=status)

    def change_order(self, order: FulfilmentOrder) -> ChangeResult:
        """Unsupported: the v1 format has no change file, and a second order file would be a second
        order (the warehouse reads each file once). The core quarantines the order for a person."""
        return ChangeResult(
            outcome=ChangeOutcome.UNSUPPORTED,
            detail="the SFTP (CSV v1) warehouse takes no changes to an order it has received",
        )

    def corrected_address(self, order: FulfilmentOrder) -> Address | None:
        """None: the v1 format reports no addresses back, so a correction at the warehouse is not seen."""
        return None

    def cancel_order(self, reference: str, reason: str) -> CancelResult:
        """Drop ``can_<reference>.csv``: REQUESTED; the warehouse answers later with an ack row."""
        if self.find_order(reference) is None:
            return CancelResult(outcome=CancelOutcome.NOT_FOUND, detail="no order file for this reference")
        name = fmt.cancel_file_name(reference)
        if self._locate(name) is None:
            data = fmt.encode_cancel(reference, reason, self._clock())
            self._publish(name, data, pivot=False)
        _log.info("sftp cancel requested for %s", reference)
        return CancelResult(outcome=CancelOutcome.REQUESTED, detail=f"{name} awaits the warehouse's answer")

    def upsert_items(self, items: Sequence[CatalogueItem]) -> list[ItemResult]:
        """Send the items in one ``itm_`` file; each result says the file was delivered, not yet applied."""
        if not items:
            return []
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"itm_{stamp}_{secrets.token_hex(4)}.csv"
        try:
            data = fmt.encode_items(items)
        except UnicodeEncodeError as exc:
            return [
                ItemResult(sku=item.sku, ok=False, detail=f"not encodable as UTF-8: {exc.reason}")
                for item in items
            ]
        self._publish(name, data, pivot=False)
        _log.info("sftp %d items sent in %s", len(items), name)
        return [ItemResult(sku=item.sku, ok=True, detail=f"sent in {name}") for item in items]

    # --- events ---------------------------------------------------------------------------------------

    def poll_events(self, checkpoint: str | None) -> EventPage:
        """Events from the ``ack_``/``shp_`` files still in ``outbound/``, oldest file first.

        The files are the queue: they stay until ``ack`` moves them, so every poll starts from the oldest
        file not yet acked. A page ends after the file that reaches ``max_rows_per_poll`` rows and then
        carries a checkpoint that skips the files already returned in this drain (for a caller that
        pages before acking); the last page's checkpoint is None. A checkpoint this adapter instance did
        not issue (a stored cursor, another process) skips nothing, so an unacked file is never lost.
        Files with no readable event are moved to ``outbound/rejected/`` with their reasons quarantined.
        """
        page = self._scan(checkpoint, self._max_rows)
        _log.info("sftp poll: %d events, %d quarantined rows", len(page.events), len(page.quarantined))
        return page

    def confirm_tracking(self, orders: Sequence[WrittenTracking]) -> None:
        """Nothing to tell: the file contract has no tracking acknowledgement (``ack`` moves the files)."""
        _log.debug("sftp confirm_tracking: nothing to send for %d orders", len(orders))

    def ack(self, events: Sequence[Event]) -> None:
        """Record these events as handled; a file moves to ``outbound/processed/`` once all of its are.

        Works across adapter instances: events this instance has not polled make it re-read
        ``outbound/`` to learn which files hold them.
        """
        ids = {event.event_id for event in events}
        with self._seen_lock:
            known = self._finished.union(*self._pending_by_file.values())
        if ids - known:
            self._scan(None, None)
        with self._seen_lock:
            self._acked |= ids
            done = [name for name, held in self._pending_by_file.items() if held <= self._acked]
        for name in done:
            self._move(self._outbound, name, "processed")
            with self._seen_lock:
                self._remember_finished(self._pending_by_file.pop(name, set()))
                self._acked &= set().union(*self._pending_by_file.values())
        _log.info("sftp ack: %d events, %d files moved to processed", len(events), len(done))

    def _remember_finished(self, ids: set[str]) -> None:
        if len(self._finished) > _FINISHED_MEMORY:
            self._finished.clear()
        self._finished |= ids

    def _scan(self, checkpoint: str | None, max_rows: int | None) -> EventPage:
        with self._seen_lock:
            skip = self._drains.pop(checkpoint, frozenset()) if checkpoint else frozenset()
        names = sorted(
            (
                n
                for n in self._list(self._outbound)
                if n.startswith(_EVENT_PREFIXES) and n.endswith(".csv") and n not in skip
            ),
            key=_sort_key,
        )
        page = EventPage(events=[], checkpoint=None)
        seen: set[str] = set()
        rows = 0
        for index, name in enumerate(names):
            data = self._read(posixpath.join(self._outbound, name))
            if data is None:
                continue  # moved meanwhile by another worker's ack
            rows += data.count(b"\n")
            self._add_file(page, seen, name, fmt.parse_event_file(name, data))
            if max_rows is not None and rows >= max_rows and index + 1 < len(names):
                page.checkpoint = self._issue_checkpoint(skip.union(names[: index + 1]))
                break
        return page

    def _issue_checkpoint(self, returned: frozenset[str]) -> str:
        token = f"sftp-drain-{secrets.token_hex(8)}"
        with self._seen_lock:
            if len(self._drains) >= _DRAIN_MEMORY:
                self._drains.clear()  # abandoned drains: their callers start again from the oldest file
            self._drains[token] = returned
        return token

    def _add_file(self, page: EventPage, seen: set[str], name: str, parsed: fmt.ParsedEvents) -> None:
        page.quarantined.extend(parsed.quarantined)
        if not parsed.events:
            self._move(self._outbound, name, "rejected")
            return
        with self._seen_lock:
            self._pending_by_file[name] = {event.event_id for event in parsed.events}
        for event in parsed.events:
            # the same shipment resent in a later file is one event
            if event.event_id not in seen:
                seen.add(event.event_id)
                page.events.append(event)

    # --- stock ----------------------------------------------------------------------------------------

    def fetch_inventory(self) -> InventorySnapshot:
        """The newest ``inv_`` snapshot; older ones move to ``outbound/processed/``.

        Raises:
            MalformedResponseError: the newest file is malformed; it is moved to ``outbound/rejected/``
                (never a partial stock picture) and the next call reads the one before it.
            RetryableError: the warehouse has not written a stock file yet.
        """
        names = sorted(
            (n for n in self._list(self._outbound) if n.startswith("inv_") and n.endswith(".csv")),
            key=_sort_key,
        )
        if not names:
            raise RetryableError(
                "the warehouse has not written a stock file (inv_*.csv) yet",
                context=CallContext(service="sftp", method="listdir", path=self._outbound),
            )
        newest = names[-1]
        data = self._read(posixpath.join(self._outbound, newest))
        if data is None:
            raise RetryableError(
                f"{newest} vanished while being read",
                context=CallContext(service="sftp", method="read", path=newest),
            )
        try:
            snapshot = fmt.parse_stock_file(newest, data)
        except fmt.FileFormatError as exc:
            self._move(self._outbound, newest, "rejected")
            raise MalformedResponseError(
                f"stock file rejected whole: {exc}",
                context=CallContext(service="sftp", method="read", path=f"{self._outbound}/{newest}"),
            ) from None
        for older in names[:-1]:
            self._move(self._outbound, older, "processed")
        _log.info(
            "sftp stock: %d SKUs as of %s from %s", len(snapshot.levels), snapshot.as_of.isoformat(), newest
        )
        return snapshot

    def close(self) -> None:
        """Close the SSH connection."""
        self._session.close()

    # --- file operations ------------------------------------------------------------------------------

    def _locate(self, name: str) -> str | None:
        """Where the warehouse has our file: "received" (inbound), "picked_up" (processed) or None."""
        # inbound first: the warehouse moves files from there to processed, never back
        if self._exists(posixpath.join(self._inbound, name)):
            return "received"
        if self._exists(posixpath.join(self._inbound, "processed", name)):
            return "picked_up"
        return None

    def _picked_up_before(self, name: str) -> bool:
        """After publishing: was an earlier file of the same name already picked up? Then withdraw ours."""
        if not self._exists(posixpath.join(self._inbound, "processed", name)):
            return False
        path = posixpath.join(self._inbound, name)

        async def withdraw(sftp: Any) -> None:
            try:
                await sftp.remove(path)
            except asyncssh.SFTPNoSuchFile:
                _log.warning("sftp %s was picked up twice; the warehouse must ignore the repeat", name)

        self._session.call(withdraw, method="remove", path=path)
        return True

    def _publish(self, name: str, data: bytes, *, pivot: bool = True) -> bool:
        """Write ``data`` under a dot-name, then rename it to ``name``: False when ``name`` exists."""
        final = posixpath.join(self._inbound, name)
        temp = posixpath.join(self._inbound, f".{name}.tmp")

        async def write(sftp: Any) -> None:
            async with sftp.open(temp, "wb") as handle:
                await handle.write(data)

        async def rename(sftp: Any) -> bool:
            try:
                await sftp.rename(temp, final)
            except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
                if not await _exists(sftp, final):
                    raise
                await sftp.remove(temp)
                return False
            return True

        self._session.call(write, method="write", path=temp)
        return self._session.call(rename, method="rename", path=final, pivot=pivot)

    def _exists(self, path: str) -> bool:
        return self._session.call(lambda sftp: _exists(sftp, path), method="stat", path=path)

    def _list(self, folder: str) -> list[str]:
        async def listdir(sftp: Any) -> list[str]:
            return [str(name) for name in await sftp.listdir(folder) if not str(name).startswith(".")]

        return self._session.call(listdir, method="listdir", path=folder)

    def _read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it is gone."""

        async def read(sftp: Any) -> bytes | None:
            try:
                async with sftp.open(path, "rb") as handle:
                    return bytes(await handle.read())
            except asyncssh.SFTPNoSuchFile:
                return None

        return self._session.call(read, method="read", path=path)

    def _move(self, folder: str, name: str, area: str) -> None:
        """Move ``folder/name`` into ``folder/area/``; already moved (by an earlier try) is fine."""
        source = posixpath.join(folder, name)
        target = posixpath.join(folder, area, name)

        area_path = posixpath.join(folder, area)

        async def move(sftp: Any) -> None:
            if area_path not in self._areas_made:
                if not await _exists(sftp, area_path):
                    await sftp.mkdir(area_path)
                self._areas_made.add(area_path)
            try:
                await sftp.rename(source, target)
            except asyncssh.SFTPNoSuchFile:
                return
            except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
                # a file of the same name was moved before: keep both, the newer with a suffix
                await sftp.rename(source, f"{target}.{secrets.token_hex(4)}")

        self._session.call(move, method="rename", path=target)


async def _exists(sftp: Any, path: str) -> bool:
    try:
        await sftp.stat(path)
    except asyncssh.SFTPNoSuchFile:
        return False
    return True
