"""What a run leaves behind for the operations person: artifact tables, a markdown summary, progress.

Tasks return :class:`RunReport` fragments; the flow merges them and calls :func:`publish_report` once at the
end. Rows carry ids and reasons, never addresses or secrets. Outside a flow run (unit tests calling
``.fn()``) publishing is a no-op.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
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

__all__ = [
    "CHANGED_EVENT",
    "QUARANTINE_EVENT",
    "Progress",
    "ReportRow",
    "RunReport",
    "add_progress_listener",
    "artifact_key",
    "publish_report",
]

logger = logging.getLogger("lw3pl.reporting")

_SECTIONS = (
    "exported", "shipped", "processed", "cancelled", "quarantined", "stock_changes", "catalogue", "changes",
)  # fmt: skip


class ReportRow(BaseModel):
    """One line of an artifact table: which order or SKU, what happened, and why."""

    reference: str = Field(description="Linnworks OrderId, or the SKU for stock and catalogue rows")
    label: str = Field(default="", description="NumOrderId, or the item title")
    detail: str = ""


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
        merged: dict[str, Any] = {name: getattr(self, name) + getattr(other, name) for name in _SECTIONS}
        return RunReport(
            **merged,
            deferred=self.deferred + other.deferred,
            notes=self.notes + other.notes,
            claimed=self.claimed + other.claimed,
        )

    def counts(self) -> dict[str, int]:
        counts = {name: len(getattr(self, name)) for name in _SECTIONS}
        counts["deferred"] = self.deferred
        return counts

    def summary_markdown(self, title: str) -> str:
        lines = [f"# {title}", "", "| outcome | count |", "|---|---|"]
        lines += [f"| {name.replace('_', ' ')} | {count} |" for name, count in self.counts().items()]
        if self.quarantined:
            lines += ["", "## Quarantined (needs a person)", ""]
            lines += [f"- `{row.reference}` {row.label}: {row.detail}" for row in self.quarantined[:50]]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes[:20]]
        return "\n".join(lines)


def _in_flow_run() -> bool:
    return FlowRunContext.get() is not None


QUARANTINE_EVENT = "lw3pl.orders.quarantined"
CHANGED_EVENT = "lw3pl.orders.changed"
_UNSAFE_KEY = re.compile(r"[^a-z0-9-]+")


def publish_report(report: RunReport, flow_slug: str, account: str = "default") -> None:
    """Write one table artifact per non-empty outcome and a markdown summary, keyed by account and flow.

    The account leads every key and title, so sellers sharing one Prefect server never overwrite or read
    each other's artifacts. Quarantined orders also emit a ``lw3pl.orders.quarantined`` Prefect event (see
    automations.yaml), so a person is alerted without watching every run.
    """
    if not _in_flow_run():
        return
    if report.quarantined:
        _emit_quarantined(report, flow_slug, account)
    if report.changes:
        _emit_changed(report, flow_slug, account)
    for name in _SECTIONS:
        rows = getattr(report, name)
        if rows:
            create_table_artifact(
                table=[row.model_dump() for row in rows],
                key=artifact_key(account, flow_slug, name),
                description=f"{account} {flow_slug}: {name.replace('_', ' ')}",
            )
    create_markdown_artifact(
        markdown=report.summary_markdown(f"{flow_slug} ({account})"),
        key=artifact_key(account, flow_slug, "summary"),
        description=f"{account} run summary",
    )


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


class Progress:
    """A Prefect progress artifact updated in place as batches complete (no-op outside a flow run).

    In-process listeners (:func:`add_progress_listener`) get ``(description, fraction done)`` too.
    """

    def __init__(self, total: int, description: str) -> None:
        self._total = max(total, 1)
        self._done = 0
        self._id: UUID | None = None
        self._description = description
        if _in_flow_run():
            created = create_progress_artifact(progress=0.0, description=description)
            self._id = created if isinstance(created, UUID) else None

    def advance(self, amount: int) -> None:
        self._done += amount
        for listener in list(_listeners):
            listener(self._description, min(1.0, self._done / self._total))
        if self._id is not None:
            progress = min(100.0, 100.0 * self._done / self._total)
            update_progress_artifact(artifact_id=self._id, progress=progress)
