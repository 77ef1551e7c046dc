"""The shapes of a configuration check: one row per item, and the report with its two renderings."""

from __future__ import annotations

import textwrap
from collections import Counter
from enum import StrEnum

from pydantic import BaseModel

__all__ = ["CheckReport", "CheckRow", "CheckStatus"]


class CheckStatus(StrEnum):
    """How one item stands."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


class CheckRow(BaseModel):
    """One line of the report: the item, its status, what was found, and what to do about it."""

    item: str
    status: CheckStatus
    detail: str
    fix: str = ""


class CheckReport(BaseModel):
    """Every row of one check run."""

    rows: list[CheckRow]

    @property
    def ready(self) -> bool:
        """True when nothing FAILed: an export would send every eligible order."""
        return all(row.status is not CheckStatus.FAIL for row in self.rows)

    def counts(self) -> dict[str, int]:
        """Rows per status (the flow's small result)."""
        found = Counter(row.status.value for row in self.rows)
        return {status.value: found[status.value] for status in CheckStatus}

    def table(self) -> str:
        """A plain-text table for a terminal; long texts wrap inside their column, nothing is cut."""
        header = ("item", "status", "detail", "what to do")
        cells = [header, *((r.item, r.status.value, r.detail, r.fix or "-") for r in self.rows)]
        lines: list[str] = []
        for number, row in enumerate(cells):
            lines += _wrapped_lines(row)
            if number == 0:
                lines.append("  ".join("-" * width for width in _WIDTHS))
        return "\n".join(lines)

    def markdown(self) -> str:
        """The same table as Markdown (the flow's artifact)."""
        verdict = "ready: an export would send every eligible order" if self.ready else "not ready"
        lines = [f"**Configuration check: {verdict}**", "", "| item | status | detail | what to do |"]
        lines.append("|---|---|---|---|")
        lines += [
            f"| {_md(r.item)} | {r.status.value} | {_md(r.detail)} | {_md(r.fix or '-')} |" for r in self.rows
        ]
        return "\n".join(lines)


_WIDTHS = (46, 6, 56, 44)


def _wrapped_lines(row: tuple[str, str, str, str]) -> list[str]:
    columns = [textwrap.wrap(text, width) or [""] for text, width in zip(row, _WIDTHS, strict=True)]
    depth = max(len(column) for column in columns)
    return [
        "  ".join(
            (column[n] if n < len(column) else "").ljust(width)
            for column, width in zip(columns, _WIDTHS, strict=True)
        ).rstrip()
        for n in range(depth)
    ]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
