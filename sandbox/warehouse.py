"""A seeded, clock-driven warehouse simulation that every 3PL sandbox (ShipBob, SFTP) drives.

The warehouse knows nothing about wire formats: a sandbox translates its protocol into these calls, and
tests assert on the warehouse directly (one order per reference, stock levels, shipments).

Public API (all methods are thread-safe; returned records are copies, safe to keep)::

    wh = Warehouse(seed=0, clock=None, config=WarehouseConfig())   # clock: () -> aware UTC datetime
    WarehouseConfig.deterministic(ship_delay=...) / config.scaled(time_scale)  # no chance events / faster
    wh.seed_catalogue(count=20, on_hand=(0, 200)) -> list[str]      # SKU-0001..; seeded levels
    wh.upsert_product(sku, title="", barcode="", weight_kg=None, length_cm=None, width_cm=None,
                      height_cm=None) -> Product                    # created or updated by SKU
    wh.product(sku) -> Product | None;  wh.products() -> list[Product]
    wh.set_on_hand(sku, quantity) -> StockLevel;  wh.stock(sku) -> StockLevel
    wh.create_order(reference, lines=[(sku, qty, line_ref)], service="Standard", address=None,
                    metadata=None) -> WarehouseOrder
        raises DuplicateReference(existing) | UnknownSku(sku) | ValueError (bad quantity / no lines)
    wh.find_by_reference(reference) -> WarehouseOrder | None;  wh.get(order_id) -> WarehouseOrder | None
    wh.list_orders(status=None, references=None, updated_since=None) -> list[WarehouseOrder]  (by id)
    wh.page_of_orders(keep, start, stop, newest_first=False) -> (matching, copies of [start:stop])
    wh.shipped_packages(ids) -> set[int]               # which of these packages left
    wh.advance(now=None) -> list[WarehouseEvent]       # progress every order to ``now`` (default: clock)
    wh.ship(reference, *, packages=1, partial=False, now=None) -> ShipmentRecord   # force a shipment
    wh.cancel(reference, now=None) -> CancelOutcome    # cancelled | too_late | not_found
    wh.events_since(position=0) -> tuple[list[WarehouseEvent], int]   # new events and the next position
    wh.hold(reference, reason) / wh.release(reference)   # a person at the warehouse holds / releases
    wh.short_ship(reference, {sku: units}) -> ShipmentRecord   # ship these units, cancel the rest (final)
    wh.pick(reference)                                 # picked: changes are refused from now on
    wh.inventory_snapshot(now=None) -> InventoryView   # as_of + StockLevel per SKU

Stock: ``on_hand`` is physical usable stock; ``committed`` is allocated to accepted, unshipped orders;
``fulfillable = max(0, on_hand - committed)``. An order is allocated when it is created if every line fits
in fulfillable stock; otherwise it is *backordered* and allocated by a later ``advance`` once stock
arrives. Shipping decrements ``on_hand`` and ``committed`` together.

Order life: ``accepted -> shipped`` once ``config.ship_delay`` has passed. Each order's fate is drawn
from the seeded RNG when it is created (so it does not depend on how often ``advance`` runs): go on hold
for ``hold_duration`` (None: until cancelled), a random backorder for ``backorder_duration``, ship in
several packages, or ship partially (a first shipment, the rest ``partial_gap`` later). All rates default
to values that exercise these paths; ``WarehouseConfig.deterministic()`` turns them off.

Events: every status change appends a ``WarehouseEvent`` (unique ``event_id``, UTC ``at``, position
``seq``). Kinds: accepted, on_hold, released, backordered, shipped (with the shipment), cancelled.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "CancelOutcome",
    "ChangeRefused",
    "DuplicateReference",
    "InventoryView",
    "ManualClock",
    "OrderLineRecord",
    "OrderStatus",
    "PackageRecord",
    "Product",
    "ShipmentRecord",
    "StockLevel",
    "UnknownSku",
    "Warehouse",
    "WarehouseConfig",
    "WarehouseEvent",
    "WarehouseOrder",
]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A warehouse clock that moves only when told (tests, the demo, benchmarks drive time with it)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or _utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; returns the new time."""
        self.now += delta
        return self.now


# --- records ---------------------------------------------------------------------------------------


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    TOO_LATE = "too_late"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Product:
    product_id: int
    sku: str
    title: str = ""
    barcode: str = ""
    weight_kg: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None


@dataclass(frozen=True)
class StockLevel:
    sku: str
    on_hand: int
    committed: int

    @property
    def fulfillable(self) -> int:
        return max(0, self.on_hand - self.committed)


@dataclass(frozen=True)
class InventoryView:
    as_of: datetime
    levels: dict[str, StockLevel]


@dataclass
class OrderLineRecord:
    line_id: int
    sku: str
    quantity: int
    line_ref: str = ""
    shipped: int = 0
    cancelled: int = 0  # units the warehouse will not send (a short shipment)

    @property
    def remaining(self) -> int:
        return self.quantity - self.shipped - self.cancelled


@dataclass(frozen=True)
class PackageRecord:
    package_id: int
    tracking_number: str
    carrier: str
    lines: tuple[tuple[str, int, str], ...]  # (sku, quantity, line_ref)


@dataclass(frozen=True)
class ShipmentRecord:
    shipment_id: int
    order_id: int
    shipped_at: datetime
    service: str
    packages: tuple[PackageRecord, ...]
    is_final: bool


@dataclass
class _Plan:
    """The fate drawn for one order when it was created."""

    hold: bool = False
    backorder: bool = False
    partial: bool = False
    packages: int = 1


@dataclass
class WarehouseOrder:
    order_id: int
    reference: str
    lines: list[OrderLineRecord]
    service: str
    address: dict[str, Any]
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    shipments: list[ShipmentRecord] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    allocated: bool = False
    plan: _Plan = field(default_factory=_Plan)
    picked: bool = False  # picked or packed: ShipBob and the CSV warehouse refuse changes from here on
    hold_reason: str = ""  # why the warehouse holds it (ShipBob's status detail name), while on hold

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.ACCEPTED, OrderStatus.ON_HOLD, OrderStatus.BACKORDERED)


@dataclass(frozen=True)
class WarehouseEvent:
    seq: int
    event_id: str
    kind: str  # accepted | on_hold | released | backordered | shipped | cancelled
    order_id: int
    reference: str
    at: datetime
    shipment: ShipmentRecord | None = None
    detail: str = ""


class ChangeRefused(Exception):
    """The warehouse will not change this order any more (picked, shipped or cancelled); says why."""


class DuplicateReference(Exception):
    """An order with this reference exists already; ``existing`` is that order."""

    def __init__(self, existing: WarehouseOrder) -> None:
        super().__init__(f"an order with reference {existing.reference!r} exists: {existing.order_id}")
        self.existing = existing


class UnknownSku(Exception):
    """An order line names a SKU the catalogue does not hold."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown SKU {sku!r}")
        self.sku = sku


@dataclass(frozen=True)
class WarehouseConfig:
    """Timings and chances of the simulation. Rates are probabilities in [0, 1]."""

    ship_delay: timedelta = timedelta(minutes=30)
    hold_rate: float = 0.03
    hold_duration: timedelta | None = timedelta(hours=2)
    backorder_rate: float = 0.03
    backorder_duration: timedelta = timedelta(hours=4)
    partial_rate: float = 0.05
    partial_gap: timedelta = timedelta(hours=6)
    multi_parcel_rate: float = 0.10
    max_packages: int = 3
    carriers: tuple[str, ...] = ("USPS", "UPS", "FedEx", "DHL")

    def scaled(self, time_scale: float) -> WarehouseConfig:
        """The same warehouse with every delay ``time_scale`` times shorter (demos, benchmarks)."""
        hold = self.hold_duration / time_scale if self.hold_duration is not None else None
        return replace(
            self,
            ship_delay=self.ship_delay / time_scale,
            hold_duration=hold,
            backorder_duration=self.backorder_duration / time_scale,
            partial_gap=self.partial_gap / time_scale,
        )

    @classmethod
    def deterministic(cls, ship_delay: timedelta = timedelta(minutes=30)) -> WarehouseConfig:
        """No chance events: every order ships whole, in one package, ``ship_delay`` after creation."""
        return cls(ship_delay=ship_delay, hold_rate=0, backorder_rate=0, partial_rate=0, multi_parcel_rate=0)


# --- the simulation --------------------------------------------------------------------------------


class Warehouse:
    """The simulated warehouse. See the module docstring for the API and the rules."""

    def __init__(
        self, seed: int = 0, clock: Clock | None = None, config: WarehouseConfig | None = None
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or _utc_now
        self.config = config or WarehouseConfig()
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._products: dict[str, Product] = {}
        self._on_hand: dict[str, int] = {}
        self._committed: dict[str, int] = {}
        self._active: set[int] = set()  # orders that can still change by themselves
        self._orders: dict[int, WarehouseOrder] = {}
        self._package_ids: set[int] = set()  # every package that left (shipments are only ever added)
        self._by_reference: dict[str, int] = {}
        self._events: list[WarehouseEvent] = []
        self._next_id = {"order": 100001, "line": 1, "shipment": 500001, "package": 900001, "product": 1}

    # --- catalogue and stock ---------------------------------------------------------------------

    def seed_catalogue(self, count: int = 20, on_hand: tuple[int, int] = (0, 200)) -> list[str]:
        """Create ``count`` products SKU-0001.. with seeded on-hand levels; returns their SKUs."""
        with self._lock:
            skus = []
            for index in range(1, count + 1):
                sku = f"SKU-{index:04d}"
                self.upsert_product(sku, title=f"Item {index}", barcode=f"50000000{index:05d}")
                self._on_hand[sku] = self._rng.randint(*on_hand)
                skus.append(sku)
            return skus

    def upsert_product(
        self,
        sku: str,
        title: str = "",
        barcode: str = "",
        weight_kg: Decimal | None = None,
        length_cm: Decimal | None = None,
        width_cm: Decimal | None = None,
        height_cm: Decimal | None = None,
    ) -> Product:
        """Create the product, or update its fields if the SKU exists (the id is kept)."""
        with self._lock:
            existing = self._products.get(sku)
            product_id = existing.product_id if existing else self._take_id("product")
            product = Product(product_id, sku, title, barcode, weight_kg, length_cm, width_cm, height_cm)
            self._products[sku] = product
            self._on_hand.setdefault(sku, 0)
            return product

    def product(self, sku: str) -> Product | None:
        with self._lock:
            return self._products.get(sku)

    def products(self) -> list[Product]:
        with self._lock:
            return sorted(self._products.values(), key=lambda p: p.product_id)

    def set_on_hand(self, sku: str, quantity: int) -> StockLevel:
        """Set the physical usable stock of a known SKU (a stock count, a receipt)."""
        if quantity < 0:
            raise ValueError("on-hand cannot be negative")
        with self._lock:
            self._require_sku(sku)
            self._on_hand[sku] = quantity
            return self._level(sku)

    def stock(self, sku: str) -> StockLevel:
        with self._lock:
            self._require_sku(sku)
            return self._level(sku)

    def inventory_snapshot(self, now: datetime | None = None) -> InventoryView:
        """Every SKU's level, stamped with the time the warehouse computed it."""
        with self._lock:
            as_of = now or self.clock()
            return InventoryView(
                as_of=as_of, levels={sku: self._level(sku) for sku in sorted(self._products)}
            )

    # --- orders ------------------------------------------------------------------------------------

    def create_order(
        self,
        reference: str,
        lines: Sequence[tuple[str, int, str]],
        service: str = "Standard",
        address: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> WarehouseOrder:
        """Accept a new order; see the module docstring for what can be raised."""
        with self._lock:
            if reference in self._by_reference:
                raise DuplicateReference(self._copy(self._orders[self._by_reference[reference]]))
            self._validate_lines(lines)
            now = self.clock()
            order = WarehouseOrder(
                order_id=self._take_id("order"),
                reference=reference,
                lines=[OrderLineRecord(self._take_id("line"), sku, qty, ref) for sku, qty, ref in lines],
                service=service,
                address=dict(address or {}),
                status=OrderStatus.ACCEPTED,
                created_at=now,
                updated_at=now,
                due_at=now + self.config.ship_delay,
                metadata=dict(metadata or {}),
                plan=self._draw_plan(sum(qty for _, qty, _ in lines)),
            )
            self._orders[order.order_id] = order
            self._by_reference[reference] = order.order_id
            self._active.add(order.order_id)
            self._record("accepted", order, now)
            self._start(order, now)
            return self._copy(order)

    def find_by_reference(self, reference: str) -> WarehouseOrder | None:
        with self._lock:
            order_id = self._by_reference.get(reference)
            return None if order_id is None else self._copy(self._orders[order_id])

    def get(self, order_id: int) -> WarehouseOrder | None:
        with self._lock:
            order = self._orders.get(order_id)
            return None if order is None else self._copy(order)

    def list_orders(
        self,
        status: OrderStatus | Iterable[OrderStatus] | None = None,
        references: Iterable[str] | None = None,
        updated_since: datetime | None = None,
    ) -> list[WarehouseOrder]:
        """Orders matching every given filter, oldest id first."""
        statuses = {status} if isinstance(status, OrderStatus) else set(status) if status else None
        wanted = set(references) if references is not None else None
        with self._lock:
            return [
                self._copy(order)
                for order in sorted(self._orders.values(), key=lambda o: o.order_id)
                if (statuses is None or order.status in statuses)
                and (wanted is None or order.reference in wanted)
                and (updated_since is None or order.updated_at >= updated_since)
            ]

    def page_of_orders(
        self,
        keep: Callable[[WarehouseOrder], bool],
        start: int,
        stop: int,
        newest_first: bool = False,
    ) -> tuple[int, list[WarehouseOrder]]:
        """How many orders ``keep`` accepts, and copies of those at [start:stop] (oldest id first, or
        newest first): an API's page costs one test per order and a copy of only the page. ``keep`` sees
        the live orders under the lock and must not change them."""
        with self._lock:
            ordered = self._orders.values()  # ids are taken in increasing order: insertion is id order
            matched = [order for order in (reversed(ordered) if newest_first else ordered) if keep(order)]
            return len(matched), [self._copy(order) for order in matched[start:stop]]

    def shipped_packages(self, package_ids: Iterable[int]) -> set[int]:
        """Which of ``package_ids`` are packages that left (shipped parcels): a set lookup per id, so an
        acknowledgement of a batch costs the batch, not every order the warehouse holds."""
        with self._lock:
            return {package_id for package_id in package_ids if package_id in self._package_ids}

    def cancel(self, reference: str, now: datetime | None = None) -> CancelOutcome:
        """Cancel an order that has not shipped anything; cancelling twice is still ``cancelled``."""
        with self._lock:
            order_id = self._by_reference.get(reference)
            if order_id is None:
                return CancelOutcome.NOT_FOUND
            order = self._orders[order_id]
            if order.status is OrderStatus.CANCELLED:
                return CancelOutcome.CANCELLED
            if order.shipments:
                return CancelOutcome.TOO_LATE
            self._release(order)
            self._set_status(order, OrderStatus.CANCELLED, now or self.clock(), "cancelled")
            order.due_at = None
            return CancelOutcome.CANCELLED

    # --- changes after acceptance -------------------------------------------------------------------

    def pick(self, reference: str) -> None:
        """Mark an open order picked (tests): from now on it refuses changes, as a real warehouse does."""
        with self._lock:
            self._orders[self._by_reference[reference]].picked = True

    def hold(self, reference: str, reason: str = "AddressValidationFailed") -> None:
        """Hold an open, unshipped order until :meth:`release` (tests, the demo): event ``on_hold``."""
        with self._lock:
            order = self._orders[self._by_reference[reference]]
            if not order.is_open or order.shipments:
                raise ValueError(f"order {reference!r} is {order.status}: it cannot be held")
            self._release(order)  # a held order keeps no stock committed (ShipBob: released inventory)
            order.hold_reason = reason
            order.due_at = None
            self._set_status(order, OrderStatus.ON_HOLD, self.clock(), "on_hold", reason)

    def release(self, reference: str) -> None:
        """Release a held order: event ``released``; it ships ``ship_delay`` later (or waits for stock)."""
        with self._lock:
            order = self._orders[self._by_reference[reference]]
            if order.status is not OrderStatus.ON_HOLD:
                raise ValueError(f"order {reference!r} is {order.status}, not on hold")
            now = self.clock()
            order.hold_reason = ""
            order.plan.hold = False
            self._set_status(order, OrderStatus.ACCEPTED, now, "released")
            order.due_at = now + self.config.ship_delay
            if not self._try_commit(order):
                self._set_status(order, OrderStatus.BACKORDERED, now, "backordered", "out of stock")
                order.due_at = None

    def short_ship(self, reference: str, shipped: Mapping[str, int]) -> ShipmentRecord:
        """Ship ``shipped`` units per SKU now and cancel the rest: one final shipment with fewer units than
        ordered (the rest out of stock). A SKU left out ships nothing."""
        with self._lock:
            order = self._orders[self._by_reference[reference]]
            if not order.is_open or order.shipments:
                raise ValueError(f"order {reference!r} is {order.status}: it cannot be short-shipped")
            if not order.allocated:
                self._commit(order)
            now = self.clock()
            picked = [(line, min(line.remaining, shipped.get(line.sku, 0))) for line in order.lines]
            if not any(units for _, units in picked):
                raise ValueError("a short shipment ships at least one unit (else cancel the order)")
            return self._ship_units(order, now, [(line, n) for line, n in picked if n], close=True)

    def change_address(self, order_id: int, address: Mapping[str, Any], recipient: Mapping[str, Any]) -> None:
        """Replace an open, unpicked order's address (and the recipient the views show)."""
        with self._lock:
            order = self._changeable(order_id)
            order.address = dict(address)
            order.metadata["recipient"] = dict(recipient)
            order.updated_at = max(order.updated_at, self.clock())

    def change_quantities(self, order_id: int, quantities: Mapping[str, int]) -> None:
        """Set an open, unpicked order's quantity per SKU it has; a SKU left out (or 0) is removed."""
        with self._lock:
            order = self._changeable(order_id)
            allocated = order.allocated
            self._release(order)  # the committed units follow the new quantities
            order.lines = [line for line in order.lines if quantities.get(line.sku, 0) > 0]
            for line in order.lines:
                line.quantity = quantities[line.sku]
            if allocated:
                self._commit(order)
            order.updated_at = max(order.updated_at, self.clock())

    def _changeable(self, order_id: int) -> WarehouseOrder:
        order = self._orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        if order.picked or order.shipments or not order.is_open:
            raise ChangeRefused(f"order {order.order_id} is already picked and can no longer be changed")
        return order

    # --- time ----------------------------------------------------------------------------------------

    def advance(self, now: datetime | None = None) -> list[WarehouseEvent]:
        """Move every order forward to ``now``; returns the events this produced."""
        with self._lock:
            now = now or self.clock()
            first_new = len(self._events)
            for order_id in sorted(self._active):
                self._progress(self._orders[order_id], now)
            return list(self._events[first_new:])

    def ship(
        self, reference: str, *, packages: int = 1, partial: bool = False, now: datetime | None = None
    ) -> ShipmentRecord:
        """Ship an open order now (tests): whole, or a first part when ``partial``; allocates if needed."""
        with self._lock:
            order_id = self._by_reference.get(reference)
            if order_id is None:
                raise KeyError(reference)
            order = self._orders[order_id]
            if order.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED):
                raise ValueError(f"order {reference!r} is {order.status}")
            now = now or self.clock()
            if not order.allocated:
                self._commit(order)
            return self._ship(order, now, packages, partial and self._units(order) > 1)

    def events_since(self, position: int = 0) -> tuple[list[WarehouseEvent], int]:
        """Events at ``position`` and after, and the position to pass next time."""
        with self._lock:
            return list(self._events[position:]), len(self._events)

    # --- internals -----------------------------------------------------------------------------------

    def _take_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return value

    def _require_sku(self, sku: str) -> None:
        if sku not in self._products:
            raise UnknownSku(sku)

    def _level(self, sku: str) -> StockLevel:
        return StockLevel(sku, self._on_hand.get(sku, 0), self._committed.get(sku, 0))

    def _validate_lines(self, lines: Sequence[tuple[str, int, str]]) -> None:
        if not lines:
            raise ValueError("an order needs at least one line")
        for sku, quantity, _ in lines:
            self._require_sku(sku)
            if quantity <= 0:
                raise ValueError(f"quantity for {sku!r} must be positive")

    def _draw_plan(self, units: int) -> _Plan:
        # Always draw the same number of values so one order's fate never shifts the next one's.
        cfg = self.config
        draws = [self._rng.random() for _ in range(4)]
        packages = self._rng.randint(2, max(2, cfg.max_packages))
        return _Plan(
            hold=draws[0] < cfg.hold_rate,
            backorder=draws[1] < cfg.backorder_rate,
            partial=draws[2] < cfg.partial_rate and units > 1,
            packages=packages if draws[3] < cfg.multi_parcel_rate and units > 1 else 1,
        )

    def _start(self, order: WarehouseOrder, now: datetime) -> None:
        """After acceptance: hold, random backorder, allocate, or backorder for want of stock."""
        if order.plan.hold:
            self._set_status(order, OrderStatus.ON_HOLD, now, "on_hold", "address verification")
            order.due_at = now + self.config.hold_duration if self.config.hold_duration else None
        elif order.plan.backorder:
            self._set_status(order, OrderStatus.BACKORDERED, now, "backordered", "stock discrepancy")
            order.due_at = now + self.config.backorder_duration
        elif not self._try_commit(order):
            self._set_status(order, OrderStatus.BACKORDERED, now, "backordered", "out of stock")
            order.due_at = None

    def _progress(self, order: WarehouseOrder, now: datetime) -> None:
        # A loop, because one advance over a long gap can release, then ship, then ship the rest.
        for _ in range(4):
            if not self._step(order, now):
                return

    def _step(self, order: WarehouseOrder, now: datetime) -> bool:
        status = order.status
        if status is OrderStatus.BACKORDERED and order.due_at is None:
            return self._retry_backorder(order, now)
        if (
            order.due_at is None
            or order.due_at > now
            or status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED)
        ):
            return False
        at = order.due_at
        if status in (OrderStatus.ON_HOLD, OrderStatus.BACKORDERED):
            order.plan.hold = order.plan.backorder = False
            self._set_status(order, OrderStatus.ACCEPTED, at, "released")
            order.due_at = at + self.config.ship_delay
            if not self._try_commit(order):
                self._set_status(order, OrderStatus.BACKORDERED, at, "backordered", "out of stock")
                order.due_at = None
            return True
        partial = order.plan.partial and status is OrderStatus.ACCEPTED
        self._ship(order, at, order.plan.packages, partial)
        return True

    def _retry_backorder(self, order: WarehouseOrder, now: datetime) -> bool:
        if not self._try_commit(order):
            return False
        self._set_status(order, OrderStatus.ACCEPTED, now, "released", "stock arrived")
        order.due_at = now + self.config.ship_delay
        return True

    def _try_commit(self, order: WarehouseOrder) -> bool:
        needed: dict[str, int] = {}
        for line in order.lines:
            needed[line.sku] = needed.get(line.sku, 0) + line.remaining
        if any(self._level(sku).fulfillable < qty for sku, qty in needed.items()):
            return False
        self._commit(order)
        return True

    def _commit(self, order: WarehouseOrder) -> None:
        order.allocated = True
        for line in order.lines:
            self._committed[line.sku] = self._committed.get(line.sku, 0) + line.remaining

    def _release(self, order: WarehouseOrder) -> None:
        if order.allocated:
            for line in order.lines:
                self._committed[line.sku] -= line.remaining
        order.allocated = False

    @staticmethod
    def _units(order: WarehouseOrder) -> int:
        return sum(line.remaining for line in order.lines)

    def _ship(self, order: WarehouseOrder, at: datetime, packages: int, partial: bool) -> ShipmentRecord:
        return self._ship_units(order, at, self._pick(order, partial), packages)

    def _ship_units(
        self,
        order: WarehouseOrder,
        at: datetime,
        picked: list[tuple[OrderLineRecord, int]],
        packages: int = 1,
        close: bool = False,
    ) -> ShipmentRecord:
        """Ship ``picked``; ``close``: the units left are cancelled, so this shipment is the final one."""
        for line, quantity in picked:
            line.shipped += quantity
            self._on_hand[line.sku] = max(0, self._on_hand[line.sku] - quantity)
            self._committed[line.sku] -= quantity
        if close:
            for line in order.lines:
                self._committed[line.sku] -= line.remaining
                line.cancelled += line.remaining
        is_final = all(line.remaining == 0 for line in order.lines)
        shipment = ShipmentRecord(
            shipment_id=self._take_id("shipment"),
            order_id=order.order_id,
            shipped_at=at,
            service=order.service,
            packages=self._pack(picked, packages),
            is_final=is_final,
        )
        order.shipments.append(shipment)
        self._package_ids.update(package.package_id for package in shipment.packages)
        status = OrderStatus.SHIPPED if is_final else OrderStatus.PARTIALLY_SHIPPED
        order.due_at = None if is_final else at + self.config.partial_gap
        self._set_status(order, status, at, "shipped", shipment=shipment)
        return shipment

    @staticmethod
    def _pick(order: WarehouseOrder, partial: bool) -> list[tuple[OrderLineRecord, int]]:
        """The units this shipment carries: everything left, or about half of it when partial."""
        open_lines = [(line, line.remaining) for line in order.lines if line.remaining > 0]
        if not partial:
            return open_lines
        budget = max(1, sum(qty for _, qty in open_lines) // 2)
        picked = []
        for line, qty in open_lines:
            take = min(qty, budget)
            if take:
                picked.append((line, take))
            budget -= take
        return picked

    def _pack(self, picked: list[tuple[OrderLineRecord, int]], packages: int) -> tuple[PackageRecord, ...]:
        units = [(line.sku, line.line_ref) for line, qty in picked for _ in range(qty)]
        count = max(1, min(packages, len(units)))
        carrier = self.config.carriers[self._rng.randrange(len(self.config.carriers))]
        boxes: list[dict[tuple[str, str], int]] = [{} for _ in range(count)]
        for index, unit in enumerate(units):
            box = boxes[index % count]
            box[unit] = box.get(unit, 0) + 1
        return tuple(
            PackageRecord(
                package_id=(package_id := self._take_id("package")),
                tracking_number=self._tracking_number(carrier, package_id),
                carrier=carrier,
                lines=tuple((sku, qty, ref) for (sku, ref), qty in box.items()),
            )
            for box in boxes
        )

    def _tracking_number(self, carrier: str, package_id: int) -> str:
        prefix = {"UPS": "1Z", "USPS": "94", "FedEx": "77", "DHL": "JD"}.get(carrier, "TR")
        return f"{prefix}{self._rng.randrange(10**6):06d}{package_id:08d}"

    def _set_status(
        self,
        order: WarehouseOrder,
        status: OrderStatus,
        at: datetime,
        kind: str,
        detail: str = "",
        shipment: ShipmentRecord | None = None,
    ) -> None:
        order.status = status
        order.updated_at = max(order.updated_at, at)
        if status in (OrderStatus.SHIPPED, OrderStatus.CANCELLED):
            self._active.discard(order.order_id)
        self._record(kind, order, at, detail, shipment)

    def _record(
        self,
        kind: str,
        order: WarehouseOrder,
        at: datetime,
        detail: str = "",
        shipment: ShipmentRecord | None = None,
    ) -> None:
        seq = len(self._events)
        event_id = f"wh{self.seed}-{order.order_id}-{seq}"
        self._events.append(
            WarehouseEvent(seq, event_id, kind, order.order_id, order.reference, at, shipment, detail)
        )

    @staticmethod
    def _copy(order: WarehouseOrder) -> WarehouseOrder:
        return replace(
            order,
            lines=[replace(line) for line in order.lines],
            shipments=list(order.shipments),
            address=copy.deepcopy(order.address),
            metadata=copy.deepcopy(order.metadata),
            plan=replace(order.plan),
        )
