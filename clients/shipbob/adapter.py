"""The ShipBob 1.0 adapter: the 3PL protocol over ShipBob's REST API.

* Orders: ``POST /1.0/order`` with ``reference_id`` = our reference. A 422 about the reference is
  confirmed with ``GET /1.0/order?ReferenceIds=`` and becomes ``DUPLICATE`` with ShipBob's id; other
  422/400s are ``REJECTED`` with the fields ShipBob named. A create whose reply was lost raises
  ``OutcomeUnknownError`` and is never repeated here.
* Events: ``GET /1.0/order?LastUpdateStartDate=&SortOrder=Oldest`` paged with ``Page``/``Limit`` (the
  ``Total-Pages`` header ends a pass); the checkpoint keeps the pass's start time and page, so a poll
  cut short continues where it stopped, and the next pass starts ``poll_overlap`` before the newest
  update seen (events are at-least-once; their keys make repeats harmless).
* ``ack``: the 1.0 API has no endpoint that marks tracking uploaded (``batchUpdateTrackingUpload`` exists
  only in later versions), so ``ack`` sends nothing; the checkpoint is what moves the feed forward.
* Cancel: ``POST /1.0/order/{id}/cancel``. Products: ``reference_id`` = SKU, created in batches of 50,
  changed ones updated with ``PUT``. Inventory: ``GET /1.0/product``, usable on-hand = fulfillable +
  committed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from clients._pacing import NoPacer, Pacer, SpacingPacer
from clients.errors import CallContext, MalformedResponseError, OutcomeUnknownError
from clients.threepl.models import (
    CancelOutcome,
    CancelResult,
    Capabilities,
    CatalogueItem,
    Event,
    EventPage,
    FulfilmentOrder,
    InventoryLevel,
    InventorySnapshot,
    ItemResult,
    RateLimit,
    RemoteOrder,
    SubmitOutcome,
    SubmitResult,
    ValidationIssue,
)

from ._events import BadRecord, order_events, order_last_update
from ._transport import Reply, RetryPolicy, Safety, Transport
from ._wire import (
    AddressOut,
    CancelReply,
    CreateOrderOut,
    CreateProductOut,
    FinancialsOut,
    OrderIn,
    OrderLineOut,
    OrderSummaryIn,
    ProductIn,
    RecipientOut,
    UpdateProductOut,
)

__all__ = ["ShipBobAdapter", "ShipBobConfig"]

logger = logging.getLogger("lw3pl.shipbob")

PER_MINUTE = 150
PRODUCT_BATCH = 50
_DUPLICATE_WORDS = ("already exist", "duplicate", "exists")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ShipBobConfig:
    """Connection and behaviour settings.

    Args:
        base_url: ``https://api.shipbob.com`` (or a sandbox URL).
        token: the personal access token.
        channel_id: sent as ``shipbob_channel_id``.
        page_size: ``Limit`` for list calls (ShipBob allows up to 250).
        max_pages_per_poll: pages one ``poll_events`` reads before returning (the checkpoint continues).
        poll_overlap: how far before the newest update seen the next pass starts.
        pace: pace calls below ``per_minute`` (off: the caller paces, or a benchmark without limits).
        per_minute: ShipBob's budget per user and application.
        time_scale: how much faster than real time the partner's clock runs (sandbox benchmarks).
        timeout: seconds to connect / read.
    """

    base_url: str
    token: SecretStr
    channel_id: int
    page_size: int = 250
    max_pages_per_poll: int = 20
    poll_overlap: timedelta = timedelta(minutes=10)
    pace: bool = True
    per_minute: int = PER_MINUTE
    time_scale: float = 1.0
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= 250:
            raise ValueError("page_size must be between 1 and 250 (ShipBob's maximum)")
        if self.per_minute <= 0 or self.time_scale <= 0 or self.max_pages_per_poll <= 0:
            raise ValueError("per_minute, time_scale and max_pages_per_poll must be positive")


@dataclass(frozen=True)
class _Cursor:
    """Where a pass over the updated orders stands."""

    since: datetime | None
    page: int = 1
    newest: datetime | None = None

    def dump(self) -> str:
        return json.dumps(
            {
                "v": 1,
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


class ShipBobAdapter:
    """``ThreePLAdapter`` for ShipBob 1.0. Thread-safe: httpx's client and the pacer are.

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
        }
        client = httpx.Client(
            base_url=config.base_url,
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
        self._client = client
        self._http = Transport(
            client,
            pacer,
            config.retry,
            per_minute=config.per_minute,
            time_scale=config.time_scale,
            sleep=sleep,
            monotonic=monotonic,
        )

    def __repr__(self) -> str:
        return f"ShipBobAdapter(base_url={self._config.base_url!r}, channel_id={self._config.channel_id})"

    # --- protocol ------------------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """ShipBob refuses a second order with the same reference, cancels by API, splits shipments."""
        return Capabilities(
            idempotency="reject_duplicate",
            cancel="api",
            partial_shipments=True,
            multi_parcel=True,
            rate_limits=[RateLimit(requests=self._config.per_minute, per_seconds=60.0)],
        )

    def submit_order(self, order: FulfilmentOrder) -> SubmitResult:
        """Create the order; a 422 about the reference is confirmed by a lookup before it is a duplicate."""
        try:
            body = _order_body(order).wire()
        except ValidationError as error:  # ShipBob would refuse it too: say why without a call
            return SubmitResult(outcome=SubmitOutcome.REJECTED, issues=_local_issues(error))
        reply = self._http.call("POST", "/1.0/order", safety=Safety.CREATE, body=body, accept=(400, 422))
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
        reply = self._http.call(
            "GET", "/1.0/order", safety=Safety.REPEATABLE, params={"ReferenceIds": reference}
        )
        if not isinstance(reply.data, list):
            raise MalformedResponseError("ShipBob order search did not return a list", context=reply.context)
        for raw in reply.data:
            summary = _summary(raw, reply.context)
            if summary.reference_id == reference:
                return RemoteOrder(reference=reference, remote_id=str(summary.id), status=summary.status)
        return None

    def cancel_order(self, reference: str, reason: str) -> CancelResult:
        """Cancel by reference: not found, already cancelled, cancelled now, or too late (shipped)."""
        found = self.find_order(reference)
        if found is None:
            return CancelResult(outcome=CancelOutcome.NOT_FOUND)
        if found.status == "Cancelled":
            return CancelResult(outcome=CancelOutcome.CANCELLED, detail="already cancelled")
        path = f"/1.0/order/{found.remote_id}/cancel"
        reply = self._http.call("POST", path, safety=Safety.REPEATABLE, accept=(404, 422))
        if reply.status == 404:
            return CancelResult(outcome=CancelOutcome.NOT_FOUND)
        if reply.status == 422:
            return CancelResult(outcome=CancelOutcome.TOO_LATE, detail=_issues_text(reply.data))
        return _cancel_result(reply)

    def poll_events(self, checkpoint: str | None) -> EventPage:
        """Events of orders updated since the checkpoint; unreadable orders are quarantined, not fatal."""
        cursor = _Cursor.load(checkpoint)
        events: list[Event] = []
        quarantined: list[tuple[str, str]] = []
        newest = cursor.newest
        for _ in range(self._config.max_pages_per_poll):
            orders, last_page = self._orders_page(cursor)
            for raw in orders:
                newest = _latest(newest, self._read_order(raw, events, quarantined))
            if last_page:
                return EventPage(
                    events=events, checkpoint=self._next_pass(cursor, newest), quarantined=quarantined
                )
            cursor = _Cursor(cursor.since, cursor.page + 1, newest)
        return EventPage(events=events, checkpoint=cursor.dump(), quarantined=quarantined)

    def ack(self, events: Sequence[Event]) -> None:
        """Nothing to send: ShipBob 1.0 has no tracking-uploaded endpoint (see the module docstring)."""
        logger.debug("shipbob ack: nothing to send for %d events", len(events))

    def fetch_inventory(self) -> InventorySnapshot:
        """Usable on-hand (fulfillable + committed) per SKU over every product page."""
        as_of = self._clock()
        levels: dict[str, InventoryLevel] = {}
        complete = True
        for raw in self._all_pages("/1.0/product", {}):
            try:
                product = ProductIn.model_validate(raw)
            except ValidationError as error:
                complete = False
                logger.warning("shipbob product unreadable, snapshot marked partial: %s", _first_error(error))
                continue
            if product.reference_id:
                on_hand = product.total_fulfillable_quantity + product.total_committed_quantity
                levels[product.reference_id] = InventoryLevel(sku=product.reference_id, on_hand=on_hand)
        return InventorySnapshot(as_of=as_of, levels=list(levels.values()), complete=complete)

    def upsert_items(self, items: Sequence[CatalogueItem]) -> list[ItemResult]:
        """Create new SKUs in batches, update changed ones; one result per item."""
        results: list[ItemResult] = []
        for start in range(0, len(items), PRODUCT_BATCH):
            results.extend(self._upsert_chunk(items[start : start + PRODUCT_BATCH]))
        return results

    def close(self) -> None:
        self._client.close()

    # --- orders ----------------------------------------------------------------------------------------

    def _refused(self, order: FulfilmentOrder, reply: Reply) -> SubmitResult:
        issues = _issues(reply.data, order)
        if _mentions_duplicate(issues):
            existing = self.find_order(order.reference)
            if existing is not None:
                return SubmitResult(
                    outcome=SubmitOutcome.DUPLICATE, remote_id=existing.remote_id, issues=issues
                )
        return SubmitResult(outcome=SubmitOutcome.REJECTED, issues=issues)

    # --- events ----------------------------------------------------------------------------------------

    def _orders_page(self, cursor: _Cursor) -> tuple[list[Any], bool]:
        params = {"SortOrder": "Oldest", "Page": str(cursor.page), "Limit": str(self._config.page_size)}
        if cursor.since is not None:
            params["LastUpdateStartDate"] = cursor.since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        reply = self._http.call("GET", "/1.0/order", safety=Safety.REPEATABLE, params=params)
        if not isinstance(reply.data, list):
            raise MalformedResponseError("ShipBob order list is not a list", context=reply.context)
        return reply.data, _is_last_page(reply, cursor.page, self._config.page_size)

    def _read_order(
        self, raw: Any, events: list[Event], quarantined: list[tuple[str, str]]
    ) -> datetime | None:
        """Append the order's events, or quarantine it; returns its latest update time."""
        try:
            order = OrderIn.model_validate(raw)
            order_event_list = order_events(order)
            last = order_last_update(order)
        except ValidationError as error:
            quarantined.append((_record_id(raw), f"unreadable ShipBob order: {_first_error(error)}"))
            return None
        except BadRecord as error:
            quarantined.append((_record_id(raw), f"ShipBob order unusable: {error}"))
            return None
        events.extend(order_event_list)
        return last

    def _next_pass(self, cursor: _Cursor, newest: datetime | None) -> str:
        if newest is None:
            return _Cursor(cursor.since).dump()
        return _Cursor(newest - self._config.poll_overlap).dump()

    # --- products ----------------------------------------------------------------------------------------

    def _all_pages(self, path: str, params: dict[str, str]) -> list[Any]:
        records: list[Any] = []
        page = 1
        while True:
            query = {**params, "Page": str(page), "Limit": str(self._config.page_size)}
            reply = self._http.call("GET", path, safety=Safety.REPEATABLE, params=query)
            if not isinstance(reply.data, list):
                raise MalformedResponseError(f"ShipBob {path} did not return a list", context=reply.context)
            records.extend(reply.data)
            if _is_last_page(reply, page, self._config.page_size):
                return records
            page += 1

    def _existing_products(self, skus: list[str]) -> dict[str, ProductIn]:
        found: dict[str, ProductIn] = {}
        for raw in self._all_pages("/1.0/product", {"ReferenceIds": ",".join(skus)}):
            try:
                product = ProductIn.model_validate(raw)
            except ValidationError:
                continue  # an unreadable product is treated as absent; its create then reports the clash
            if product.reference_id in skus:
                found[product.reference_id] = product
        return found

    def _upsert_chunk(self, chunk: Sequence[CatalogueItem]) -> list[ItemResult]:
        results = {item.sku: ItemResult(sku=item.sku, ok=True, detail="unchanged") for item in chunk}
        items = []
        for item in chunk:
            try:
                _product_body(item)
                items.append(item)
            except ValidationError as error:
                results[item.sku] = ItemResult(sku=item.sku, ok=False, detail=_first_error(error))
        if not items:
            return [results[item.sku] for item in chunk]
        existing = self._existing_products([item.sku for item in items])
        new = [item for item in items if item.sku not in existing]
        if new:
            results.update(self._create_products(new))
        for item in items:
            current = existing.get(item.sku)
            if current is not None and _needs_update(current, item):
                results[item.sku] = self._update_product(current.id, item)
        return [results[item.sku] for item in chunk]

    def _create_products(self, items: list[CatalogueItem]) -> dict[str, ItemResult]:
        body = [_product_body(item).wire() for item in items]
        reply = self._http.call(
            "POST", "/1.0/product/batch", safety=Safety.REPEATABLE, body=body, accept=(400, 422)
        )
        if reply.status < 300:
            return {item.sku: ItemResult(sku=item.sku, ok=True, detail="created") for item in items}
        # One bad item fails the whole batch: create them one at a time to find it.
        return {item.sku: self._create_product(item) for item in items}

    def _create_product(self, item: CatalogueItem) -> ItemResult:
        body = _product_body(item).wire()
        reply = self._http.call(
            "POST", "/1.0/product", safety=Safety.REPEATABLE, body=body, accept=(400, 422)
        )
        if reply.status < 300:
            return ItemResult(sku=item.sku, ok=True, detail="created")
        text = _issues_text(reply.data)
        if any(word in text.lower() for word in _DUPLICATE_WORDS):
            return ItemResult(sku=item.sku, ok=True, detail="exists")  # an earlier attempt created it
        return ItemResult(sku=item.sku, ok=False, detail=text)

    def _update_product(self, product_id: int, item: CatalogueItem) -> ItemResult:
        body = UpdateProductOut(
            name=item.title or item.sku, sku=item.sku, barcode=item.barcode or None
        ).wire()
        path = f"/1.0/product/{product_id}"
        reply = self._http.call("PUT", path, safety=Safety.REPEATABLE, body=body, accept=(400, 404, 422))
        if reply.status < 300:
            return ItemResult(sku=item.sku, ok=True, detail="updated")
        return ItemResult(sku=item.sku, ok=False, detail=_issues_text(reply.data) or f"status {reply.status}")


# --- mapping helpers -------------------------------------------------------------------------------------


def _order_body(order: FulfilmentOrder) -> CreateOrderOut:
    address = order.ship_to
    street2 = ", ".join(part for part in (address.line2, address.line3) if part)
    total = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
    return CreateOrderOut(
        reference_id=order.reference,
        order_number=order.display_ref or None,
        shipping_method=order.service_code,
        recipient=RecipientOut(
            name=address.name,
            address=AddressOut(
                address1=address.line1,
                address2=street2 or None,
                company_name=address.company or None,
                city=address.city,
                state=address.region or None,
                zip_code=address.postcode or None,
                country=address.country_code.upper(),
            ),
            email=address.email or None,
            phone_number=address.phone[:50] or None,
        ),
        products=[
            OrderLineOut(
                reference_id=line.sku,
                sku=line.sku,
                quantity=line.quantity,
                name=line.title or None,
                unit_price=float(line.unit_price),
            )
            for line in order.lines
        ],
        purchase_date=order.received_at.astimezone(UTC).isoformat() if order.received_at else None,
        financials=FinancialsOut(total_price=float(total)),
    )


def _product_body(item: CatalogueItem) -> CreateProductOut:
    return CreateProductOut(
        reference_id=item.sku, name=item.title or item.sku, sku=item.sku, barcode=item.barcode or None
    )


def _needs_update(current: ProductIn, item: CatalogueItem) -> bool:
    renamed = (current.name or "") != (item.title or item.sku)
    return renamed or bool(item.barcode and (current.barcode or "") != item.barcode)


def _summary(raw: Any, context: CallContext) -> OrderSummaryIn:
    try:
        return OrderSummaryIn.model_validate(raw)
    except ValidationError as error:
        raise MalformedResponseError(
            f"unreadable ShipBob order: {_first_error(error)}", context=context
        ) from None


def _issues(data: Any, order: FulfilmentOrder) -> list[ValidationIssue]:
    """ShipBob's model-state body ``{field: [messages]}`` as issues, naming the SKU of a product line."""
    if not isinstance(data, dict):
        return [ValidationIssue(message=f"ShipBob refused the order: {str(data)[:300]}")]
    issues = []
    for field_name, messages in data.items():
        for message in messages if isinstance(messages, list) else [messages]:
            text = str(message)
            sku = _line_sku(field_name, order)
            if sku and sku not in text:
                text = f"{text} (SKU {sku})"
            issues.append(ValidationIssue(field=str(field_name), message=text))
    return issues or [ValidationIssue(message="ShipBob refused the order without a reason")]


def _line_sku(field_name: str, order: FulfilmentOrder) -> str | None:
    if not field_name.startswith("products["):
        return None
    try:
        index = int(field_name[len("products[") : field_name.index("]")])
    except ValueError:
        return None
    return order.lines[index].sku if 0 <= index < len(order.lines) else None


def _mentions_duplicate(issues: list[ValidationIssue]) -> bool:
    return any(
        "reference" in f"{issue.field} {issue.message}".lower()
        and any(word in issue.message.lower() for word in _DUPLICATE_WORDS)
        for issue in issues
    )


def _issues_text(data: Any) -> str:
    if isinstance(data, dict):
        parts: list[str] = []
        for key, value in data.items():
            messages = value if isinstance(value, list) else [value]
            parts.extend(f"{key}: {m}" if key else str(m) for m in messages)
        return "; ".join(parts)
    return "" if data is None else str(data)[:300]


def _cancel_result(reply: Reply) -> CancelResult:
    try:
        result = CancelReply.model_validate(reply.data)
    except ValidationError as error:
        raise MalformedResponseError(
            f"unreadable cancel reply: {_first_error(error)}", context=reply.context
        ) from None
    if result.status == "Success":
        return CancelResult(outcome=CancelOutcome.CANCELLED)
    reasons = "; ".join(
        dict.fromkeys(r.reason for r in result.canceled_shipment_results if r.reason and not r.is_success)
    )
    return CancelResult(outcome=CancelOutcome.TOO_LATE, detail=reasons or result.status)


def _is_last_page(reply: Reply, page: int, page_size: int) -> bool:
    total = reply.headers.get("total-pages")
    if total is not None and total.strip().isdigit():
        return page >= int(total)
    return not reply.data or len(reply.data) < page_size


def _latest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _record_id(raw: Any) -> str:
    if isinstance(raw, dict):
        return f"shipbob order {raw.get('id', '?')} (reference {raw.get('reference_id', '?')})"
    return f"shipbob order record {str(raw)[:60]!r}"


def _local_issues(error: ValidationError) -> list[ValidationIssue]:
    return [
        ValidationIssue(
            field=".".join(str(part) for part in issue.get("loc", ())), message=issue.get("msg", "invalid")
        )
        for issue in error.errors()
    ]


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"
