"""The ShipBob event feed: what ``poll_events`` reads and what ``confirm_tracking`` acknowledges.

A pass reads two lists (2026-01, ``GET /order``) that together hold every order we must see:

* **The update stream** ``LastUpdateStartDate=<since>&SortOrder=Oldest``, paged with ``Page``/``Limit``:
  every order updated since the pass's start (accepted, on hold, backordered, cancelled, shipped). The
  checkpoint keeps the pass's start and page, so a poll cut short continues where it stopped; the next
  pass starts ``poll_overlap`` before the newest update seen.
* **The rest of the tracking queue** ``HasTracking=true&IsTrackingUploaded=false&LastUpdateEndDate=<since>``,
  read at the start of each pass: every order with a parcel whose tracking we have not acknowledged and
  that the stream will not list (last updated before its start), however long ago it shipped. This, not a
  time window, is what guarantees no shipment is missed: a parcel leaves the queue only when
  ``confirm_tracking`` marks it (``POST /shipment:batchUpdateTrackingUpload``), which the core calls once
  Linnworks shows the tracking number (written, then read back equal). Both lists filter on the same
  update time (bounds inclusive), so a queued order is in one or the other (both at the bound); the first
  pass (no start yet) reads the whole stream, which holds the whole queue. Each shipped order is read
  once per pass, not once from each list.

``poll`` returns when a pass is complete (``caught_up``: polling again would start the next pass, with
nothing new but what arrived meanwhile) or after ``pages_per_poll`` pages of the stream (one by default:
the core records each page before the next is read, and its tracking batches take the shipments meanwhile).

``LastTrackingUpdateStartDate`` is not used: everything it would add for us (a parcel whose tracking
appeared after the order's last update) is in the queue until acknowledged, and a tracking change after
the acknowledgement would carry the same event key (the parcel ids) and be dropped as a repeat anyway.
Events are at-least-once; their keys (see ``_events``) make repeats harmless.

``confirm`` marks the parcels the ledger recorded for each order (its ``shipment_ids``: ShipBob parcel ids
joined by ``+``, see ``_events``); a parcel that shipped later is not among them and stays queued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from clients.errors import MalformedResponseError
from clients.threepl.models import Event, EventPage, WrittenTracking

from ._events import PARCEL_SEPARATOR, BadRecord, order_events, order_last_update
from ._orders import first_error
from ._transport import Reply, Safety, Transport
from ._wire import OrderIn, TrackingUploadOut, TrackingUploadReply

__all__ = ["ORDERS", "TRACKING_UPLOAD", "Feed"]

logger = logging.getLogger("lw3pl.shipbob")

ORDERS = "/order"
TRACKING_UPLOAD = "/shipment:batchUpdateTrackingUpload"
_QUEUE = {"HasTracking": "true", "IsTrackingUploaded": "false", "SortOrder": "Oldest"}


@dataclass(frozen=True)
class _Cursor:
    """Where a pass over the update stream stands (page 1: the tracking queue is read first)."""

    since: datetime | None
    page: int = 1
    newest: datetime | None = None

    def dump(self) -> str:
        return json.dumps(
            {
                "v": 2,
                "since": self.since.isoformat() if self.since else None,
                "page": self.page,
                "newest": self.newest.isoformat() if self.newest else None,
            }
        )

    @classmethod
    def load(cls, raw: str | None) -> _Cursor:
        if not raw:
            return cls(since=None)
        try:
            data = json.loads(raw)
            since = datetime.fromisoformat(data["since"]) if data.get("since") else None
            newest = datetime.fromisoformat(data["newest"]) if data.get("newest") else None
            return cls(since=since, page=int(data.get("page", 1)), newest=newest)
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"not a ShipBob checkpoint: {raw[:80]!r}") from error


@dataclass
class _Pass:
    """What one ``poll_events`` call has gathered."""

    events: dict[str, Event]
    quarantined: dict[str, str]
    newest: datetime | None

    def page(self, checkpoint: str, caught_up: bool = False) -> EventPage:
        return EventPage(
            events=list(self.events.values()),
            checkpoint=checkpoint,
            quarantined=list(self.quarantined.items()),
            caught_up=caught_up,
        )


class Feed:
    """Polls orders into events and acknowledges written tracking."""

    def __init__(
        self, http: Transport, page_size: int, overlap: timedelta, *, pages_per_poll: int, queue_pages: int
    ) -> None:
        self._http = http
        self._page_size = page_size
        self._overlap = overlap
        self._pages_per_poll = pages_per_poll
        self._queue_pages = queue_pages

    def poll(self, checkpoint: str | None) -> EventPage:
        cursor = _Cursor.load(checkpoint)
        gathered = _Pass(events={}, quarantined={}, newest=cursor.newest)
        if cursor.page == 1 and cursor.since is not None:
            self._read_queue(gathered, cursor.since)
        for _ in range(self._pages_per_poll):
            params = {"SortOrder": "Oldest"}
            if cursor.since is not None:
                params["LastUpdateStartDate"] = _wire_time(cursor.since)
            orders, last_page = self._orders_page(params, cursor.page)
            for raw in orders:
                gathered.newest = _latest(gathered.newest, self._read_order(raw, gathered))
            if last_page:
                return gathered.page(self._next_pass(cursor, gathered.newest), caught_up=True)
            cursor = _Cursor(cursor.since, cursor.page + 1, gathered.newest)
        return gathered.page(cursor.dump())

    def confirm(self, orders: Sequence[WrittenTracking]) -> None:
        """Mark the parcels the ledger recorded for these orders as uploaded (one call per page of them)."""
        parcels = sorted({parcel for order in orders for parcel in _parcel_ids(order)})
        for start in range(0, len(parcels), self._page_size):
            self._mark_uploaded(parcels[start : start + self._page_size])

    # --- internals -------------------------------------------------------------------------------

    def _read_queue(self, gathered: _Pass, since: datetime) -> None:
        """The queued orders last updated up to ``since``: the stream from ``since`` lists the others."""
        params = {**_QUEUE, "LastUpdateEndDate": _wire_time(since)}
        for page in range(1, self._queue_pages + 1):
            orders, last_page = self._orders_page(params, page)
            for raw in orders:
                self._read_order(raw, gathered)
            if last_page:
                return
        logger.warning("shipbob tracking queue longer than %d pages; the rest is read next pass", page)

    def _orders_page(self, params: dict[str, str], page: int) -> tuple[list[Any], bool]:
        query = {**params, "Page": str(page), "Limit": str(self._page_size)}
        reply = self._http.call("GET", ORDERS, safety=Safety.READ, params=query)
        orders = _as_list(reply)
        return orders, _is_last_page(reply, orders, page, self._page_size)

    @staticmethod
    def _read_order(raw: Any, gathered: _Pass) -> datetime | None:
        """Add the order's events, or quarantine it; returns its latest update time."""
        try:
            order = OrderIn.model_validate(raw)
            events = order_events(order)
            last = order_last_update(order)
        except ValidationError as error:
            gathered.quarantined[_record_id(raw)] = f"unreadable ShipBob order: {first_error(error)}"
            return None
        except BadRecord as error:
            gathered.quarantined[_record_id(raw)] = f"ShipBob order unusable: {error}"
            return None
        gathered.events.update((event.event_id, event) for event in events)
        return last

    def _next_pass(self, cursor: _Cursor, newest: datetime | None) -> str:
        if newest is None:
            return _Cursor(cursor.since).dump()
        return _Cursor(newest - self._overlap).dump()

    def _mark_uploaded(self, parcels: list[int]) -> None:
        body = TrackingUploadOut(shipment_ids=parcels).wire()
        reply = self._http.call("POST", TRACKING_UPLOAD, safety=Safety.IDEMPOTENT, body=body)
        try:
            results = TrackingUploadReply.model_validate(reply.data).results
        except ValidationError as error:
            raise MalformedResponseError(
                f"unreadable tracking-upload reply: {first_error(error)}", context=reply.context
            ) from None
        for result in results:
            if not result.is_success:
                message = result.error.message if result.error else "no reason given"
                logger.warning("shipbob kept shipment %s in its queue: %s", result.shipment_id, message)


def _parcel_ids(order: WrittenTracking) -> list[int]:
    """ShipBob's parcel ids in the order's recorded shipment ids ("9001+9002"); a part that is not one is
    logged and left out (its parcel stays queued and is read again as a repeat, which loses nothing)."""
    parcels: list[int] = []
    for part in (part for shipment_id in order.shipment_ids for part in shipment_id.split(PARCEL_SEPARATOR)):
        if part.strip().isdigit():
            parcels.append(int(part))
        else:
            logger.warning("shipbob parcel %r of order %s is not an id: not confirmed", part, order.remote_id)
    return parcels


def _as_list(reply: Reply) -> list[Any]:
    if not isinstance(reply.data, list):
        raise MalformedResponseError("ShipBob order list is not a list", context=reply.context)
    return reply.data


def _is_last_page(reply: Reply, orders: list[Any], page: int, page_size: int) -> bool:
    total = reply.headers.get("total-pages")
    if total is not None and total.strip().isdigit():
        return page >= int(total)
    return len(orders) < page_size


def _wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _latest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _record_id(raw: Any) -> str:
    if isinstance(raw, dict):
        return f"shipbob order {raw.get('id', '?')} (reference {raw.get('reference_id', '?')})"
    return f"shipbob order record {str(raw)[:60]!r}"
