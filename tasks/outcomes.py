"""What one task records about its orders beyond the happy path: quarantined, deferred, noted.

Every order-handling task (export, events, tracking, processing, cancellations) records through one
:class:`Outcomes`: the ledger is told (quarantine, last error) and the task's :class:`RunReport` gets the row,
so the two never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from ledger import OPEN_STATES, OrderRecord, State
from tasks.context import Runtime, run_owner
from tasks.reporting import ReportRow, RunReport

__all__ = ["Outcomes"]

logger = logging.getLogger("lw3pl.outcomes")


@dataclass
class Outcomes:
    """One task's recorder: its runtime, its lease owner name, and the report it returns."""

    runtime: Runtime
    owner: str = field(default_factory=run_owner)
    report: RunReport = field(default_factory=RunReport)
    labels: dict[str, str] = field(default_factory=dict)
    """NumOrderId by reference, for rows of orders named by reference only."""

    def quarantine(
        self,
        order: OrderRecord | str,
        reason: str,
        *,
        claimed: bool = True,
        expected_from: Collection[State] | None = None,
    ) -> None:
        """Park the order for a person (``claimed``: this task holds its lease) and report why.

        ``order`` is its ledger record (its NumOrderId labels the row; the state it was read in is the state
        expected unless ``expected_from`` says otherwise) or its reference.
        """
        reference = order if isinstance(order, str) else order.reference
        label = self.labels.get(reference, "") if isinstance(order, str) else order.num_order_id
        self.runtime.ledger.quarantine(
            reference, reason, expected_from=_expected(order, expected_from),
            owner=self.owner if claimed else None,
        )  # fmt: skip
        self.report.quarantined.append(ReportRow(reference=reference, label=label, detail=reason))
        logger.warning("order %s quarantined", reference)

    def defer(
        self, order: OrderRecord | str, error: Exception, *, expected_from: Collection[State] | None = None
    ) -> None:
        """Leave the claimed order to the next run, with the error on its ledger row."""
        reference = order if isinstance(order, str) else order.reference
        self.runtime.ledger.update(
            reference,
            expected_from=_expected(order, expected_from),
            owner=self.owner,
            last_error=str(error)[:500],
        )
        self.report.deferred += 1

    def changed(self, record: OrderRecord, detail: str) -> None:
        """A row of the run's ``changes`` table: a change after export, a 3PL hold, a short shipment."""
        self.report.changes.append(
            ReportRow(reference=record.reference, label=record.num_order_id, detail=detail)
        )

    def note(self, text: str) -> None:
        """A line for the run summary (no customer data: ids and reasons only)."""
        self.report.notes.append(text)


def _expected(order: OrderRecord | str, expected_from: Collection[State] | None) -> Collection[State]:
    """The states the caller expects: as stated, else the record's own, else any open state.

    A bare reference comes from a task that holds the order's lease, where the lease is the guard: no other
    run may move the order meanwhile, so any open state is the one the task left it in.
    """
    if expected_from is not None:
        return expected_from
    return OPEN_STATES if isinstance(order, str) else [order.state]
