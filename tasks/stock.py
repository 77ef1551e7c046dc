"""Stock: the 3PL's inventory snapshot -> Linnworks stock levels at the fulfilment centre.

The rule (DESIGN.md, invariant 4): level written = 3PL usable on-hand + units the 3PL already shipped for
orders Linnworks has not processed yet (``Ledger.shipped_unprocessed_units``). Linnworks still counts those
units in open orders and deducts them when the order is processed (the setup flow switches on
FulfilmentCenterDeductStockWhenProcessed), so adding them back keeps Linnworks equal to the shelf.

Decisions, each one for a reason a person running a warehouse would give:

- **Changed SKUs only.** A change is first measured against the level lw3pl last wrote
  (``Ledger.stock_state``): equal -> nothing to do; within the threshold -> written. Linnworks' current
  level at the fulfilment centre (Stock/GetStockItems, 200 per page, read only in runs that need it) is the
  judge in two cases: a SKU the ledger has never written (the first sync, or a new SKU), so that a first
  sync which would wipe out or multiply what Linnworks shows is held like any other large change, and a SKU
  already at the right level is recorded without a write; and a change above the threshold, because
  processing an order makes Linnworks deduct its shipped units by itself (a large B2B order would
  otherwise look like a suspicious drop). A SKU Linnworks does not list is reported and not sent.
- **The newest snapshot wins.** A SKU whose recorded level comes from a newer snapshot is left alone; the
  write task checks again right before its call, and the ledger refuses an older record after it.
- **Partial snapshots.** ``complete=False`` means the 3PL could not read some products. The levels it does
  carry are still exact, so they are applied; SKUs it misses keep their level (never zeroed), and the run
  says so in a note. The same holds for any SKU a complete snapshot does not list: lw3pl never lowers a
  level to zero because a product disappeared from the 3PL's list.
- **Review threshold.** A change of more than STOCK_REVIEW_THRESHOLD units is held (``hold_stock_change``)
  instead of written. Once a person approves the hold, the next run writes the newest level, provided it is
  still within the threshold of the approved proposal (otherwise it is held again with the new figures).
  A rejected hold is respected while the figures are the same (Linnworks level and proposal); the run
  reports the SKU as "not written" instead of holding it again.
- **Isolation.** Stock/SetStockLevel refuses a whole call when one SKU is unknown (400). The call is split
  in halves until the bad SKU stands alone; every other row is written, the bad one is reported.

Known limit: a level changed by hand in Linnworks is not seen (the base is what lw3pl last wrote); the next
change at the warehouse overwrites it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from prefect import task
from pydantic import BaseModel, ConfigDict, Field

from clients.errors import RecordError
from clients.linnworks import LinnworksClient, StockLevelUpdate
from clients.threepl import InventorySnapshot
from ledger import HeldStockChange, HoldStatus, Ledger, StockState
from lw3pl.core.crashpoints import crashpoint
from tasks.context import Account, Runtime, runtime_for
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = [
    "STOCK_CALL_BATCH",
    "STOCK_TASK_BATCH",
    "StockChange",
    "StockPlan",
    "linnworks_levels",
    "read_inventory",
    "record_holds_and_plan_stock_writes",
    "stock_target_levels",
    "write_stock_levels",
]

logger = logging.getLogger("lw3pl.stock")

STOCK_CALL_BATCH = 100
"""Rows per Stock/SetStockLevel call."""
STOCK_TASK_BATCH = 500
"""Rows per write task (a few calls each: one retryable unit of work)."""
LINNWORKS_PAGE = 200
MAX_LINNWORKS_PAGES = 1000

_T = TypeVar("_T")
_OPEN_DECISIONS = (HoldStatus.HELD, HoldStatus.APPROVED, HoldStatus.REJECTED)


class StockChange(BaseModel):
    """One level to write: the SKU, the level Linnworks had (None: unknown), the new one, its snapshot."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(min_length=1)
    previous: int | None
    level: int
    as_of: datetime
    approved_hold: int | None = Field(default=None, description="the approved hold this write applies")


class StockPlan(BaseModel):
    """What one snapshot means for Linnworks: the levels to write and what was held or left alone."""

    as_of: datetime
    writes: list[StockChange] = Field(default_factory=list)
    report: RunReport = Field(default_factory=RunReport)


@task(name="read-3pl-inventory", **TASK_RETRY_OPTIONS)
def read_inventory(account: Account) -> InventorySnapshot:
    """The 3PL's usable on-hand per SKU, with the time it was computed."""
    snapshot = runtime_for(account).threepl.fetch_inventory()
    logger.info("3PL inventory: %d SKUs as of %s", len(snapshot.levels), snapshot.as_of.isoformat())
    return snapshot


def stock_target_levels(snapshot: InventorySnapshot, shipped_unprocessed: dict[str, int]) -> dict[str, int]:
    """Level per SKU of the snapshot: usable on-hand + units shipped but not processed in Linnworks."""
    return {level.sku: level.on_hand + shipped_unprocessed.get(level.sku, 0) for level in snapshot.levels}


@dataclass
class _Planner:
    """The working set of one plan: what the ledger knows, Linnworks' levels (read lazily), the plan."""

    runtime: Runtime
    snapshot: InventorySnapshot
    location_id: UUID
    known: dict[str, StockState]
    holds: dict[HoldStatus, dict[str, HeldStockChange]]
    plan: StockPlan
    confirmed: list[tuple[str, int, datetime]] = field(default_factory=list)
    stale: int = 0
    _linnworks: dict[str, int] | None = None

    @property
    def threshold(self) -> int:
        return self.runtime.settings.stock_review_threshold

    def consider(self, sku: str, level: int) -> None:
        state = self.known.get(sku)
        if state is not None and state.as_of > self.snapshot.as_of:
            self.stale += 1
        elif state is not None and state.level == level:
            if sku in self.holds[HoldStatus.HELD]:
                self._confirm(sku, level)  # a held change is no longer wanted: recording closes the hold
        elif state is not None and abs(level - state.level) <= self.threshold:
            self._write(sku, state.level, level)
        else:
            self._measure_against_linnworks(sku, level)

    def _measure_against_linnworks(self, sku: str, level: int) -> None:
        """First sync of a SKU, or a large change: compare with the level Linnworks shows now."""
        current = self._linnworks_levels().get(sku.upper())
        if current is None:
            self._not_in_linnworks(sku, level)
        elif current == level:
            self._confirm(sku, level)
        elif abs(level - current) > self.threshold:
            self._review(sku, current, level)
        else:
            self._write(sku, current, level)

    def _linnworks_levels(self) -> dict[str, int]:
        if self._linnworks is None:
            self._linnworks = linnworks_levels(self.runtime.linnworks, self.location_id)
        return self._linnworks

    def _review(self, sku: str, current: int, level: int) -> None:
        approved = self.holds[HoldStatus.APPROVED].get(sku)
        if approved is not None and abs(level - approved.proposed) <= self.threshold:
            self._write(sku, current, level, approved_hold=approved.id)
            return
        rejected = self.holds[HoldStatus.REJECTED].get(sku)
        if rejected is not None and (rejected.current, rejected.proposed) == (current, level):
            detail = (
                f"not written: a person rejected this change (hold {rejected.id}); Linnworks keeps {current}"
            )
            self._row(sku, current, level, detail)
            return
        reason = (
            f"stock would change by {level - current:+d} units, more than STOCK_REVIEW_THRESHOLD "
            f"({self.threshold}): check the warehouse count, then approve or reject the hold"
        )
        hold = self.runtime.ledger.hold_stock_change(sku, current, level, self.snapshot.as_of, reason)
        self._row(sku, current, level, f"held for review: {reason} (hold {hold.id})")
        logger.warning("stock change for %s held for review (hold %d)", sku, hold.id)

    def _not_in_linnworks(self, sku: str, level: int) -> None:
        reason = (
            f"Linnworks has no stock item with SKU {sku!r}: create it in Linnworks (or fix the SKU at the "
            f"3PL); level {level} not written"
        )
        self.plan.report.quarantined.append(ReportRow(reference=sku, label="stock", detail=reason))
        logger.warning("stock for %s not written: unknown in Linnworks", sku)

    def _confirm(self, sku: str, level: int) -> None:
        self.confirmed.append((sku, level, self.snapshot.as_of))

    def _write(self, sku: str, previous: int, level: int, *, approved_hold: int | None = None) -> None:
        as_of = self.snapshot.as_of
        change = StockChange(
            sku=sku, previous=previous, level=level, as_of=as_of, approved_hold=approved_hold
        )
        self.plan.writes.append(change)

    def _row(self, sku: str, current: int, level: int, detail: str) -> None:
        self.plan.report.stock_changes.append(
            ReportRow(reference=sku, label=f"{current} -> {level}", detail=detail)
        )


@task(name="record-holds-and-plan-stock-writes", **TASK_RETRY_OPTIONS)
def record_holds_and_plan_stock_writes(
    account: Account, snapshot: InventorySnapshot, location_id: UUID
) -> StockPlan:
    """Decide, SKU by SKU, what to write, what to hold for review and what to leave alone.

    Writes to the ledger, not to Linnworks: the changes held for review, and the levels Linnworks already
    shows (recorded as written). The plan's writes are left to ``write_stock_levels``. See the module
    docstring for the rules.
    """
    runtime = runtime_for(account)
    ledger = runtime.ledger
    targets = stock_target_levels(snapshot, ledger.shipped_unprocessed_units())
    planner = _Planner(
        runtime=runtime,
        snapshot=snapshot,
        location_id=location_id,
        known=ledger.stock_state(targets),
        holds={status: _holds_by_sku(ledger, status) for status in _OPEN_DECISIONS},
        plan=StockPlan(as_of=snapshot.as_of),
    )
    for sku, level in sorted(targets.items()):
        planner.consider(sku, level)
    if planner.confirmed:
        ledger.record_stock_written_many(planner.confirmed)
    _add_notes(planner, snapshot)
    return planner.plan


def _holds_by_sku(ledger: Ledger, status: HoldStatus) -> dict[str, HeldStockChange]:
    # Oldest first, so the newest hold of a SKU is the one kept.
    return {hold.sku: hold for hold in ledger.held_stock_changes(status)}


def _add_notes(planner: _Planner, snapshot: InventorySnapshot) -> None:
    notes = planner.plan.report.notes
    as_of = snapshot.as_of.isoformat()
    if not snapshot.complete:
        notes.append(
            f"the 3PL snapshot of {as_of} is partial ({len(snapshot.levels)} SKUs read): only those were "
            "compared; the SKUs it missed keep their level until a complete snapshot"
        )
    if planner.stale:
        notes.append(
            f"{planner.stale} SKUs left alone: a newer snapshot than {as_of} was already written for them"
        )
    if planner.confirmed:
        notes.append(f"{len(planner.confirmed)} SKUs already at the right level in Linnworks: recorded")


def linnworks_levels(linnworks: LinnworksClient, location_id: UUID) -> dict[str, int]:
    """Every stock item's level at ``location_id`` (Stock/GetStockItems pages), keyed by upper-case SKU."""
    levels: dict[str, int] = {}
    for page_number in range(1, MAX_LINNWORKS_PAGES + 1):
        page = linnworks.get_stock_items(
            location_id=location_id, entries_per_page=LINNWORKS_PAGE, page_number=page_number
        )
        levels.update({item.sku.upper(): item.quantity or 0 for item in page.data})
        if not page.data or page_number >= page.total_pages:
            break
    return levels


@task(name="write-stock-levels", **TASK_RETRY_OPTIONS)
def write_stock_levels(account: Account, changes: Sequence[StockChange], location_id: UUID) -> RunReport:
    """Write ``changes`` with Stock/SetStockLevel, ``STOCK_CALL_BATCH`` rows per call; record each after.

    A call Linnworks refuses (one unknown SKU refuses the whole call) is split until the bad rows stand
    alone; they are reported, the rest are written. Writes are absolute levels, so a retry is harmless.
    """
    runtime = runtime_for(account)
    report = RunReport()
    fresh = _still_newest(runtime.ledger, changes, report)
    for batch in _batches(fresh, STOCK_CALL_BATCH):
        written, refused = _write_isolating(runtime.linnworks, batch, location_id)
        crashpoint("after_set_stock_level")
        accepted = runtime.ledger.record_stock_written_many([(c.sku, c.level, c.as_of) for c in written])
        for change, recorded in zip(written, accepted, strict=True):
            report.stock_changes.append(_written_row(change, recorded))
        for change, reason in refused:
            report.quarantined.append(ReportRow(reference=change.sku, label="stock", detail=reason))
            logger.warning("stock for %s refused by Linnworks", change.sku)
    return report


def _still_newest(ledger: Ledger, changes: Sequence[StockChange], report: RunReport) -> list[StockChange]:
    """Drop changes a newer snapshot overtook since the plan (another run wrote in between)."""
    known = ledger.stock_state([change.sku for change in changes])
    fresh = [c for c in changes if c.sku not in known or known[c.sku].as_of <= c.as_of]
    if len(fresh) < len(changes):
        report.notes.append(f"{len(changes) - len(fresh)} stock levels skipped: a newer snapshot was written")
    return fresh


def _write_isolating(
    linnworks: LinnworksClient, changes: list[StockChange], location_id: UUID
) -> tuple[list[StockChange], list[tuple[StockChange, str]]]:
    """Write ``changes`` in one call; if Linnworks refuses it, halve until the refused rows stand alone."""
    updates = [StockLevelUpdate(sku=c.sku, location_id=location_id, level=c.level) for c in changes]
    try:
        linnworks.set_stock_level(updates)
    except RecordError as error:
        if len(changes) == 1:
            return [], [(changes[0], _refusal(error))]
        middle = len(changes) // 2
        first_written, first_refused = _write_isolating(linnworks, changes[:middle], location_id)
        rest_written, rest_refused = _write_isolating(linnworks, changes[middle:], location_id)
        return first_written + rest_written, first_refused + rest_refused
    return changes, []


def _refusal(error: RecordError) -> str:
    return (
        f"Linnworks refused the stock level: {error.message}; check that a stock item with this SKU exists "
        "in Linnworks (or fix the SKU at the 3PL)"
    )


def _written_row(change: StockChange, recorded: bool) -> ReportRow:
    previous = "?" if change.previous is None else str(change.previous)
    detail = f"as of {change.as_of.isoformat()}"
    if change.approved_hold is not None:
        detail += f" (approved hold {change.approved_hold})"
    if not recorded:
        detail += "; not recorded: a newer snapshot was recorded meanwhile (the next run corrects it)"
    return ReportRow(reference=change.sku, label=f"{previous} -> {change.level}", detail=detail)


def _batches(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
