"""What a run leaves behind for the operations person: artifact tables, a markdown summary, progress.

Tasks return :class:`RunReport` fragments; the flow merges them and calls :func:`publish_report` once at the
end. Rows carry ids and reasons, never addresses or secrets. Outside a flow run (unit tests calling
``.fn()``) publishing is a no-op.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.context import FlowRunContext
from prefect.events import emit_event
from pydantic import BaseModel, Field

from clients.threepl import EventKind
from ledger import Ledger, OrderRecord, OrderSummary, State
from tasks.report_tables import QUARANTINE_QUEUE, TABLES, Links, ReportRow

if TYPE_CHECKING:
    from tasks.context import Runtime

__all__ = [
    "CHANGED_EVENT",
    "FLOW_OUTCOMES",
    "QUARANTINE_EVENT",
    "Backlog",
    "Progress",
    "ReportRow",
    "RunReport",
    "add_progress_listener",
    "artifact_key",
    "publish_cycle_summary",
    "publish_quarantine_queue",
    "publish_report",
    "quarantine_key",
]

logger = logging.getLogger("lw3pl.reporting")

_SECTIONS = (
    "exported", "shipped", "processed", "cancelled", "quarantined", "stock_changes", "catalogue", "changes",
)  # fmt: skip
_ORDER_SECTIONS = ("exported", "shipped", "processed", "cancelled", "quarantined", "changes")


class RunReport(BaseModel):
    """Per-run outcome lists, merged across batches."""

    exported: list[ReportRow] = Field(default_factory=list)
    shipped: list[ReportRow] = Field(default_factory=list)
    processed: list[ReportRow] = Field(default_factory=list)
    cancelled: list[ReportRow] = Field(default_factory=list)
    quarantined: list[ReportRow] = Field(default_factory=list)
    stock_changes: list[ReportRow] = Field(default_factory=list)
    catalogue: list[ReportRow] = Field(default_factory=list)
    changes: list[ReportRow] = Field(
        default_factory=list, description="changes after export: sent / too late / unsupported (tasks.edits)"
    )
    deferred: int = Field(default=0, description="orders left for the next run (rate limits, faults)")
    notes: list[str] = Field(default_factory=list)
    claimed: int = Field(default=0, description="orders a claim-based step leased (to know when it is done)")

    def merge(self, other: RunReport) -> RunReport:
        return RunReport.combine([self, other])

    @classmethod
    def combine(cls, reports: Iterable[RunReport]) -> RunReport:
        """One report of many, each list joined once. A run's batch reports are combined this way: merging
        them one at a time copied the growing lists again for every batch (quadratic in the run's orders)."""
        parts = list(reports)
        joined: dict[str, Any] = {
            name: [row for part in parts for row in getattr(part, name)] for name in (*_SECTIONS, "notes")
        }
        return RunReport(
            **joined,
            deferred=sum(part.deferred for part in parts),
            claimed=sum(part.claimed for part in parts),
        )

    def counts(self) -> dict[str, int]:
        counts = {name: len(getattr(self, name)) for name in _SECTIONS}
        counts["deferred"] = self.deferred
        return counts

    def summary_markdown(self, title: str, flow_slug: str = "", backlog: Backlog | None = None) -> str:
        """The run's outcomes (only those ``flow_slug`` can have), the backlog, quarantined orders, notes."""
        counts = self.counts()
        outcomes = FLOW_OUTCOMES.get(flow_slug, _OUTCOME_NAMES)
        lines = [f"# {title}", ""]
        if outcomes:
            lines += ["| outcome | count |", "|---|---|"]
            lines += [f"| {label} | {counts[name]} |" for name, label in outcomes.items()]
        if backlog is not None:
            lines += ["", "## Backlog (the whole ledger, not only this run)", "", *backlog.markdown_lines()]
        if self.quarantined:
            lines += ["", "## Quarantined by this run (needs a person)", ""]
            lines += [f"- `{row.reference}` {row.label}: {row.detail}" for row in self.quarantined[:50]]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes[:20]]
        return "\n".join(lines)


_OUTCOME_NAMES = {
    "exported": "exported",
    "shipped": "shipped",
    "processed": "processed",
    "cancelled": "cancelled",
    "quarantined": "quarantined",
    "stock_changes": "stock changes",
    "catalogue": "catalogue",
    "changes": "changes after export",
    "deferred": "deferred to the next run",
}

FLOW_OUTCOMES: dict[str, dict[str, str]] = {
    "setup-fulfilment-centre": {},
    "export-orders": {
        "exported": "exported",
        "quarantined": "quarantined",
        "deferred": "deferred to the next run",
    },
    "reconcile-shipments": {
        name: _OUTCOME_NAMES[name]
        for name in ("shipped", "processed", "cancelled", "changes", "quarantined", "deferred")
    },
    "sync-stock": {
        "stock_changes": "stock levels written or held",
        "shipped": "shipments recorded (so their units count until processed)",
        "quarantined": "quarantined",
        "deferred": "deferred to the next run",
    },
    "sync-catalogue": {"catalogue": "products sent to the 3PL", "quarantined": "quarantined"},
}
"""The outcomes each flow can have, with their names there: its summary shows these (zeros too), no others."""

_WAITING_AT_THREEPL = (State.SUBMITTED, State.EXPORTED, State.PARTIALLY_SHIPPED, State.ON_HOLD)


class Backlog(BaseModel):
    """What waits, across every run: orders at the 3PL not yet shipped, and the quarantine queue."""

    waiting_at_threepl: int
    oldest_waiting_since: datetime | None
    quarantined: int

    @classmethod
    def of(cls, ledger: Ledger) -> Backlog:
        counts = ledger.counts_by_state()
        oldest = ledger.in_states(_WAITING_AT_THREEPL, limit=1)
        return cls(
            waiting_at_threepl=sum(counts[state] for state in _WAITING_AT_THREEPL),
            oldest_waiting_since=oldest[0].updated_at if oldest else None,
            quarantined=counts[State.QUARANTINED],
        )

    def markdown_lines(self, now: datetime | None = None) -> list[str]:
        age = "-"
        if self.oldest_waiting_since is not None:
            since = self.oldest_waiting_since
            age = f"{_age(since, now or datetime.now(UTC))} (unchanged since {since:%Y-%m-%d %H:%M} UTC)"
        return [
            "| backlog | now |",
            "|---|---|",
            f"| orders waiting at the 3PL | {self.waiting_at_threepl} |",
            f"| oldest waiting | {age} |",
            f"| quarantined in total (the quarantine artifact) | {self.quarantined} |",
        ]


def _age(since: datetime, now: datetime) -> str:
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _in_flow_run() -> bool:
    return FlowRunContext.get() is not None


QUARANTINE_EVENT = "lw3pl.orders.quarantined"
CHANGED_EVENT = "lw3pl.orders.changed"
_UNSAFE_KEY = re.compile(r"[^a-z0-9-]+")


def publish_report(
    report: RunReport, flow_slug: str, account: str = "default", runtime: Runtime | None = None
) -> None:
    """Write one table artifact per non-empty outcome and a markdown summary, keyed by account and flow.

    The account leads every key and title, so sellers sharing one Prefect server never overwrite or read
    each other's artifacts. With the account's ``runtime``, rows get the order's 3PL id, carrier and
    tracking, the summary shows the backlog, and the account's ``quarantine`` artifact is replaced by the
    whole current queue. Quarantined orders also emit a ``lw3pl.orders.quarantined`` Prefect event (see
    automations.yaml), so a person is alerted without watching every run.
    """
    if not _in_flow_run():
        return
    if report.quarantined:
        _emit_quarantined(report, flow_slug, account)
    if report.changes:
        _emit_changed(report, flow_slug, account)
    ledger = runtime.ledger if runtime is not None else None
    links = Links.of(runtime.settings) if runtime is not None else Links()
    facts = _LedgerFacts(ledger)
    # Each artifact is sent from one background thread while the next table is filled from the ledger: the
    # server stores a 5,000-row table in about the time the client takes to fill the next one.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lw3pl-artifacts") as sender:
        sent = [
            _in_background(sender, create_table_artifact, table=table, key=key, description=description)
            for table, key, description in _tables(report, flow_slug, account, facts, links)
        ]
        backlog = Backlog.of(ledger) if ledger is not None else None
        create_markdown_artifact(
            markdown=report.summary_markdown(f"{flow_slug} ({account})", flow_slug, backlog),
            key=artifact_key(account, flow_slug, "summary"),
            description=f"{account} run summary",
        )
        if ledger is not None:
            publish_quarantine_queue(ledger, account, links)
        for future in sent:
            future.result()  # an artifact the server refused fails the run, as it did when sent in line


def _tables(
    report: RunReport, flow_slug: str, account: str, facts: _LedgerFacts, links: Links
) -> Iterator[tuple[list[dict[str, str]], str, str]]:
    """Each non-empty section's table, artifact key and description, filled one at a time."""
    for name in _SECTIONS:
        rows = getattr(report, name)
        if rows:
            table = _table(name, rows, facts if name in _ORDER_SECTIONS else _LedgerFacts(None), links)
            description = f"{account} {flow_slug}: {_OUTCOME_NAMES[name]}"
            yield table, artifact_key(account, flow_slug, name), description


def _in_background(sender: ThreadPoolExecutor, call: Callable[..., Any], **arguments: Any) -> Future[Any]:
    """``call`` on the sender thread, inside this thread's context (the flow run the artifact belongs to)."""
    return sender.submit(contextvars.copy_context().run, functools.partial(call, **arguments))


def publish_quarantine_queue(ledger: Ledger, account: str, links: Links) -> None:
    """Replace the account's ``quarantine`` table with the whole current queue (the exception queue)."""
    rows = [_quarantine_row(record) for record in ledger.quarantined()]
    table = (
        QUARANTINE_QUEUE.render(rows, links) if rows else [{"queue": "empty: no order waits for a person"}]
    )
    create_table_artifact(
        table=table,
        key=quarantine_key(account),
        description=f"{account}: every quarantined order now ({len(rows)}); release: lw3pl ledger release",
    )


def quarantine_key(account: str) -> str:
    """``<account>-quarantine``: one artifact per account, replaced by every run."""
    return _UNSAFE_KEY.sub("-", f"{account}-quarantine".lower()).strip("-")


def publish_cycle_summary(steps: Mapping[str, Mapping[str, int]], account: str) -> None:
    """One markdown summary of a ``fulfilment-cycle`` run: each step's non-zero outcomes."""
    if not _in_flow_run():
        return
    lines = [f"# fulfilment-cycle ({account})", "", "| step | outcomes |", "|---|---|"]
    for step, counts in steps.items():
        done = [f"{_OUTCOME_NAMES.get(name, name)} {count}" for name, count in counts.items() if count]
        lines.append(f"| {step} | {', '.join(done) or 'nothing to do'} |")
    lines += ["", f"Each step's tables and backlog: its own summary artifact (`{account}-<step>-summary`)."]
    create_markdown_artifact(
        markdown="\n".join(lines),
        key=artifact_key(account, "fulfilment-cycle", "summary"),
        description=f"{account} fulfilment cycle summary",
    )


FILL_CHUNK = 500
"""Report rows filled from the ledger at a time: the ledger's record of every order of a run at once was most
of a large export's peak memory (10,000 orders: 51 of its 84 MB)."""


def _table(name: str, rows: list[ReportRow], facts: _LedgerFacts, links: Links) -> list[dict[str, str]]:
    """A section's artifact table, its rows completed from the ledger FILL_CHUNK at a time."""
    table: list[dict[str, str]] = []
    for start in range(0, len(rows), FILL_CHUNK):
        part = rows[start : start + FILL_CHUNK]
        facts.read({row.reference for row in part})
        table += TABLES[name].render([facts.fill(row) for row in part], links)
    return table


class _Facts(NamedTuple):
    """What a report row takes from the ledger: a few fields per order, not its whole record."""

    remote_id: str
    carrier: str
    tracking_numbers: tuple[str, ...]
    num_order_id: str
    shipped_at: datetime | None


class _LedgerFacts:
    """What the ledger knows of a report's orders, read FILL_CHUNK at a time and kept for the run's other
    sections (a reconcile's shipped and processed tables name the same orders: each is read once)."""

    def __init__(self, ledger: Ledger | None) -> None:
        self._ledger = ledger
        self._known: dict[str, _Facts | None] = {}

    def read(self, references: set[str]) -> None:
        """Read the orders not read yet."""
        missing = references - self._known.keys()
        if self._ledger is None or not missing:
            return
        summaries = self._ledger.summaries(missing)
        # A shipment event happened when the parcels left (ShipBob's fulfilment date, the SFTP file's
        # shipped_at); the ledger keeps every event it applied, so a later run's tables still know it.
        shipped_at = self._ledger.latest_event_at(missing, kind=EventKind.SHIPMENT.value)
        for reference in missing:
            summary = summaries.get(reference)
            self._known[reference] = None if summary is None else _facts(summary, shipped_at.get(reference))

    def fill(self, row: ReportRow) -> ReportRow:
        return _with_ledger_facts(row, self._known.get(row.reference))


def _facts(order: OrderSummary | OrderRecord, shipped_at: datetime | None) -> _Facts:
    return _Facts(
        remote_id=order.remote_id or "",
        carrier=order.carrier or "",
        tracking_numbers=tuple(order.tracking_numbers),
        num_order_id=order.num_order_id,
        shipped_at=shipped_at,
    )


def _with_ledger_facts(row: ReportRow, facts: _Facts | None) -> ReportRow:
    """The row with what the ledger knows of its order (what the producer left empty)."""
    if facts is None:
        return row
    update = {
        "threepl_order_id": row.threepl_order_id or facts.remote_id,
        "carrier": row.carrier or facts.carrier,
        "tracking": row.tracking or ", ".join(facts.tracking_numbers),
        "parcels": row.parcels if row.parcels is not None else len(facts.tracking_numbers) or None,
        "shipped_at": row.shipped_at or facts.shipped_at,
        "label": row.label or facts.num_order_id,
    }
    return row.model_copy(update=update)


def _quarantine_row(record: OrderRecord) -> ReportRow:
    reason = record.quarantine_reason or "no reason recorded"
    row = ReportRow(reference=record.reference, detail=reason, since=f"{record.updated_at:%Y-%m-%d %H:%M}")
    return _with_ledger_facts(row, _facts(record, None))


def artifact_key(account: str, flow_slug: str, section: str) -> str:
    """``<account>-<flow>-<section>``, in the lower-case letters, digits and dashes Prefect accepts."""
    return _UNSAFE_KEY.sub("-", f"{account}-{flow_slug}-{section}".lower()).strip("-")


def _emit_quarantined(report: RunReport, flow_slug: str, account: str) -> None:
    emit_event(
        event=QUARANTINE_EVENT,
        resource={"prefect.resource.id": f"lw3pl.account.{account}", "lw3pl.flow": flow_slug},
        payload={
            "count": len(report.quarantined),
            "orders": [f"{row.label or row.reference}: {row.detail}" for row in report.quarantined[:20]],
        },
    )


def _emit_changed(report: RunReport, flow_slug: str, account: str) -> None:
    """One event per run with changes after export; ``too_late`` lets an automation alert on it."""
    emit_event(
        event=CHANGED_EVENT,
        resource={"prefect.resource.id": f"lw3pl.account.{account}", "lw3pl.flow": flow_slug},
        payload={
            "count": len(report.changes),
            "too_late": sum(1 for row in report.changes if row.detail == "too late"),
            "orders": [f"{row.label or row.reference}: {row.detail}" for row in report.changes[:20]],
        },
    )


ProgressListener = Callable[[str, float], None]
_listeners: list[ProgressListener] = []


def add_progress_listener(listener: ProgressListener) -> Callable[[], None]:
    """Also report progress in-process (the CLI draws a bar on a terminal); returns the remover."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


PROGRESS_INTERVAL = 2.0
"""Seconds between two updates of a progress artifact (the last, at 100 %, is always sent). Each update
costs the Prefect server about 5 ms of CPU (bench/server_cost.py) and this process a round trip; the UI
shows a new value only when it polls, every few seconds, anyway."""


class Progress:
    """A Prefect progress artifact updated in place as batches complete (no-op outside a flow run), at most
    once per PROGRESS_INTERVAL and always when done.

    In-process listeners (:func:`add_progress_listener`) get ``(description, fraction done)`` each time.
    """

    def __init__(self, total: int, description: str) -> None:
        self._total = total
        self._done = 0
        self._id: UUID | None = None
        self._description = description
        self._shown_at = time.monotonic()
        if _in_flow_run():
            created = create_progress_artifact(progress=0.0, description=description)
            self._id = created if isinstance(created, UUID) else None

    def expect(self, total: int) -> None:
        """A better estimate of the total (it grows or shrinks while the event pull runs); shown at once."""
        self._total = total
        self.advance(0)

    def advance(self, amount: int) -> None:
        self._done += amount
        fraction = min(1.0, self._done / self._total) if self._total > 0 else 1.0  # nothing to do: done
        for listener in list(_listeners):
            listener(self._description, fraction)
        if self._id is None:
            return
        now = time.monotonic()
        if fraction >= 1.0 or now - self._shown_at >= PROGRESS_INTERVAL:
            self._shown_at = now
            update_progress_artifact(artifact_id=self._id, progress=100.0 * fraction)
