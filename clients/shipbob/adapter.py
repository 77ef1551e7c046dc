"""The ShipBob adapter: the 3PL protocol over ShipBob's REST API, version 2026-01 by default.

The base URL is the host (``SHIPBOB_API_URL``) plus the version (``SHIPBOB_API_VERSION``); every path
below is relative to it. A version ShipBob does not serve stops the run (``ApiVersionError``).

* Orders: ``POST /order`` with ``reference_id`` = our reference. A 422 about the reference is confirmed
  with ``GET /order?ReferenceIds=`` and becomes ``DUPLICATE`` with ShipBob's id; other 422/400s are
  ``REJECTED`` with the fields ShipBob named (``_orders``). A create whose reply was lost raises
  ``OutcomeUnknownError`` and is never repeated here.
* Cancel: ``POST /order/{id}:cancel``; every documented reply maps onto ``CancelResult`` (``_orders``).
* Events and tracking: the tracking queue, the update stream and ``batchUpdateTrackingUpload``
  (``_feed``). ``ack`` sends nothing: recording an event is not writing its tracking to Linnworks;
  ``confirm_tracking`` is the acknowledgement.
* Changes after export: the open shipment's address and quantities (``_changes``).
* Products and stock: the product/variant model and ``GET /inventory-level`` (``_catalogue``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr, ValidationError

from clients._pacing import NoPacer, Pacer, SpacingPacer
from clients.errors import MalformedResponseError, OutcomeUnknownError
from clients.threepl.models import (
    Address,
    CancelOutcome,
    CancelResult,
    Capabilities,
    CatalogueItem,
    ChangeResult,
    Event,
    EventPage,
    FulfilmentOrder,
    InventorySnapshot,
    ItemResult,
    RateLimit,
    RemoteOrder,
    SubmitOutcome,
    SubmitResult,
    WrittenTracking,
)

from ._catalogue import Catalogue
from ._changes import change_order, corrected_address
from ._feed import ORDERS, Feed
from ._orders import cancel_result, issues, local_issues, mentions_duplicate, order_body, summary
from ._transport import VERSIONING_PAGE, Reply, RetryPolicy, Safety, Transport
from ._wire import OrderSummaryIn

__all__ = ["DEFAULT_API_VERSION", "USER_AGENT", "ShipBobAdapter", "ShipBobConfig"]

logger = logging.getLogger("lw3pl.shipbob")

PER_MINUTE = 150
DEFAULT_API_VERSION = "2026-01"
USER_AGENT = "lw3pl-shipbob"  # tells ShipBob (and the sandbox's conformance journal) who is calling
_VERSION_FORM = re.compile(r"\d{4}-\d{2}")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ShipBobConfig:
    """Connection and behaviour settings.

    Args:
        base_url: the host, ``https://api.shipbob.com`` (or ``https://sandbox-api.shipbob.com``, or a
            local sandbox); the version is appended.
        token: the personal access token.
        channel_id: sent as ``shipbob_channel_id``.
        api_version: ShipBob's date version, ``YYYY-MM`` (``SHIPBOB_API_VERSION``).
        page_size: ``Limit`` for order lists (ShipBob allows up to 250).
        max_pages_per_poll: pages of the update stream one ``poll_events`` reads before returning: one, so
            the core records each page's shipments (and its tracking batches take them) while the next
            page is read; a pass resumes at the next page on the next poll.
        max_queue_pages: pages of the tracking queue read at the start of a pass (the rest next pass).
        poll_overlap: how far before the newest update seen the next pass of the update stream starts.
        pace: pace calls below ``per_minute`` (off: the caller paces, or a benchmark without limits).
        per_minute: ShipBob's budget per user and application.
        time_scale: how much faster than real time the partner's clock runs (sandbox benchmarks).
        timeout: seconds to connect / read.
    """

    base_url: str
    token: SecretStr
    channel_id: int
    api_version: str = DEFAULT_API_VERSION
    page_size: int = 250
    max_pages_per_poll: int = 1
    max_queue_pages: int = 20
    poll_overlap: timedelta = timedelta(minutes=10)
    pace: bool = True
    per_minute: int = PER_MINUTE
    time_scale: float = 1.0
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if not _VERSION_FORM.fullmatch(self.api_version):
            raise ValueError(
                f"SHIPBOB_API_VERSION {self.api_version!r} is not a ShipBob date version (YYYY-MM, e.g. "
                f"{DEFAULT_API_VERSION}); see {VERSIONING_PAGE}"
            )
        if not 1 <= self.page_size <= 250:
            raise ValueError("page_size must be between 1 and 250 (ShipBob's maximum)")
        if min(self.per_minute, self.time_scale, self.max_pages_per_poll, self.max_queue_pages) <= 0:
            raise ValueError(
                "per_minute, time_scale, max_pages_per_poll and max_queue_pages must be positive"
            )

    @property
    def host(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def api_url(self) -> str:
        """What every path is relative to: the host plus the version."""
        return f"{self.host}/{self.api_version}"


class ShipBobAdapter:
    """``ThreePLAdapter`` for ShipBob. Thread-safe: httpx's client and the pacer are.

    Example:
        >>> config = ShipBobConfig("https://api.shipbob.com", SecretStr("pat"), channel_id=1234)
        >>> adapter = ShipBobAdapter(config)  # doctest: +SKIP
        >>> adapter.submit_order(order).outcome  # doctest: +SKIP
        <SubmitOutcome.ACCEPTED: 'accepted'>
    """

    name = "shipbob"

    def __init__(
        self,
        config: ShipBobConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._clock = clock
        headers = {
            "Authorization": f"Bearer {config.token.get_secret_value()}",
            "shipbob_channel_id": str(config.channel_id),
            "Accept": "application/json",
            "User-Agent": f"{USER_AGENT}/{config.api_version}",
        }
        # httpx joins a relative path onto the base URL's path: "/order" -> "<host>/<version>/order".
        self._client = httpx.Client(
            base_url=config.api_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
        )
        if pacer is None:
            pacer = (
                SpacingPacer(clock=monotonic, sleep=sleep, time_scale=config.time_scale)
                if config.pace
                else NoPacer()
            )
        self._http = Transport(
            self._client,
            pacer,
            config.retry,
            version=config.api_version,
            per_minute=config.per_minute,
            time_scale=config.time_scale,
            sleep=sleep,
            monotonic=monotonic,
        )
        self._feed = Feed(
            self._http, config.page_size, config.poll_overlap,
            pages_per_poll=config.max_pages_per_poll, queue_pages=config.max_queue_pages,
        )  # fmt: skip
        self._catalogue = Catalogue(self._http, config.host)

    def __repr__(self) -> str:
        return f"ShipBobAdapter(api_url={self._config.api_url!r}, channel_id={self._config.channel_id})"

    # --- protocol ------------------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """ShipBob refuses a second order with the same reference, cancels by API, splits shipments."""
        return Capabilities(
            idempotency="reject_duplicate",
            cancel="api",
            partial_shipments=True,
            multi_parcel=True,
            rate_limits=[RateLimit(requests=self._config.per_minute, per_seconds=60.0)],
            change_address=True,
            change_lines=True,
        )

    def submit_order(self, order: FulfilmentOrder) -> SubmitResult:
        """Create the order; a 422 about the reference is confirmed by a lookup before it is a duplicate."""
        try:
            body = order_body(order).wire()
        except ValidationError as error:  # ShipBob would refuse it too: say why without a call
            return SubmitResult(outcome=SubmitOutcome.REJECTED, issues=local_issues(error))
        reply = self._http.call("POST", ORDERS, safety=Safety.UNSAFE, body=body, accept=(400, 422))
        if reply.status in (400, 422):
            return self._refused(order, reply)
        try:
            created = OrderSummaryIn.model_validate(reply.data)
        except ValidationError:
            # ShipBob took the order but we cannot read its id: the core's lookup finds it.
            message = "ShipBob created the order but its reply is unreadable"
            raise OutcomeUnknownError(message, context=reply.context) from None
        return SubmitResult(outcome=SubmitOutcome.ACCEPTED, remote_id=str(created.id))

    def find_order(self, reference: str) -> RemoteOrder | None:
        """The ShipBob order whose ``reference_id`` is ours, or None."""
        reply = self._http.call("GET", ORDERS, safety=Safety.READ, params={"ReferenceIds": reference})
        if not isinstance(reply.data, list):
            raise MalformedResponseError("ShipBob order search did not return a list", context=reply.context)
        for raw in reply.data:
            found = summary(raw, reply.context)
            if found.reference_id == reference:
                return RemoteOrder(reference=reference, remote_id=str(found.id), status=found.status or "")
        return None

    def cancel_order(self, reference: str, reason: str) -> CancelResult:
        """Cancel by reference: not found, already cancelled, cancelled now, or too late (shipped)."""
        found = self.find_order(reference)
        if found is None:
            return CancelResult(outcome=CancelOutcome.NOT_FOUND)
        if found.status == "Cancelled":
            return CancelResult(outcome=CancelOutcome.CANCELLED, detail="already cancelled")
        path = f"{ORDERS}/{found.remote_id}:cancel"
        reply = self._http.call("POST", path, safety=Safety.IDEMPOTENT, accept=(404, 422))
        return cancel_result(reply.status, reply.data, reply.context)

    def change_order(self, order: FulfilmentOrder) -> ChangeResult:
        """Send a changed address or quantities to the open shipment, before picking (see ``_changes``)."""
        return change_order(self._http, order)

    def corrected_address(self, order: FulfilmentOrder) -> Address | None:
        """The open shipment's recipient when it differs from ``order.ship_to`` (see ``_changes``)."""
        return corrected_address(self._http, order)

    def poll_events(self, checkpoint: str | None) -> EventPage:
        """Events of the tracking queue and of orders updated since the checkpoint (see ``_feed``)."""
        return self._feed.poll(checkpoint)

    def ack(self, events: Sequence[Event]) -> None:
        """Nothing to send: recorded is not yet in Linnworks; ``confirm_tracking`` acknowledges."""
        logger.debug("shipbob ack: nothing to send for %d events", len(events))

    def confirm_tracking(self, orders: Sequence[WrittenTracking]) -> None:
        """Mark these orders' parcels tracking-uploaded, which takes them off the tracking queue."""
        self._feed.confirm(orders)

    def fetch_inventory(self) -> InventorySnapshot:
        """Usable on hand (fulfillable + committed) per SKU from ``GET /inventory-level``."""
        return self._catalogue.inventory(self._clock())

    def upsert_items(self, items: Sequence[CatalogueItem]) -> list[ItemResult]:
        """Create new SKUs, update changed ones; one result per item (see ``_catalogue``)."""
        return self._catalogue.upsert(items)

    def close(self) -> None:
        self._client.close()

    # --- orders ----------------------------------------------------------------------------------------

    def _refused(self, order: FulfilmentOrder, reply: Reply) -> SubmitResult:
        found = issues(reply.data, order)
        if mentions_duplicate(found):
            existing = self.find_order(order.reference)
            if existing is not None:
                duplicate = SubmitOutcome.DUPLICATE
                return SubmitResult(outcome=duplicate, remote_id=existing.remote_id, issues=found)
        return SubmitResult(outcome=SubmitOutcome.REJECTED, issues=found)
