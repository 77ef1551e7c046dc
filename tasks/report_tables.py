"""The artifact tables' rows and named columns: one :class:`Table` per outcome, with links and what to do.

To add a table (e.g. export refusals): add a ``list[ReportRow]`` section to ``RunReport`` (``_SECTIONS`` in
tasks/reporting.py), its :class:`Table` to :data:`TABLES` (columns reused from below, or a new ``Column``
reading a new ``ReportRow`` field), and the section to ``FLOW_OUTCOMES`` for the flows that have it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol
from uuid import UUID

from pydantic import BaseModel, Field

__all__ = ["QUARANTINE_QUEUE", "TABLES", "Column", "Links", "ReportRow", "Table", "what_to_do"]


class ReportRow(BaseModel):
    """One line of an artifact table: which order or SKU, what happened, and why.

    Producers fill what they know; ``publish_report`` fills the order's 3PL id, carrier, tracking, parcels and
    ship time from the ledger; each :class:`Table` shows its own named columns of these fields.
    """

    reference: str = Field(description="Linnworks OrderId, or the SKU for stock and catalogue rows")
    label: str = Field(default="", description="NumOrderId, or the item title")
    detail: str = Field(default="", description="what happened or why (each table names it)")
    threepl_order_id: str = ""
    carrier: str = ""
    tracking: str = Field(default="", description="every parcel's tracking number, comma separated")
    parcels: int | None = None
    shipped_at: datetime | None = Field(default=None, description="when the 3PL says the parcels left")
    since: str = Field(default="", description="quarantine queue: when the order last changed")


class _LinkSettings(Protocol):
    @property
    def linnworks_web_url(self) -> str: ...

    @property
    def threepl_web_url(self) -> str: ...


class Links(NamedTuple):
    """Order link templates (LINNWORKS_WEB_URL, THREEPL_WEB_URL); empty: ids are shown without links."""

    linnworks: str = ""
    threepl: str = ""

    @classmethod
    def of(cls, settings: _LinkSettings) -> Links:
        return cls(settings.linnworks_web_url, settings.threepl_web_url)


def _link(template: str, text: str, target: str) -> str:
    """``text`` as a markdown link to ``template`` with ``{id}`` = ``target`` (a base URL gets ``/id``)."""
    if not template or not target:
        return text
    url = template.format(id=target) if "{id}" in template else f"{template.rstrip('/')}/{target}"
    return f"[{text}]({url})"


def _utc_minute(at: datetime | None) -> str:
    return "" if at is None else f"{at.astimezone(UTC):%Y-%m-%d %H:%M}"


class Column(NamedTuple):
    """A named column: its header and how a row's cell reads (with the link templates)."""

    header: str
    cell: Callable[[ReportRow, Links], str]


class Table(NamedTuple):
    """The columns of one artifact table, in order."""

    columns: tuple[Column, ...]

    def render(self, rows: Sequence[ReportRow], links: Links) -> list[dict[str, str]]:
        return [{column.header: column.cell(row, links) for column in self.columns} for row in rows]


ORDER_NUMBER = Column("Linnworks order number", lambda r, _: r.label)
ORDER_ID = Column("Linnworks order id", lambda r, links: _link(links.linnworks, r.reference, r.reference))
THREEPL_ID = Column(
    "3PL order id", lambda r, links: _link(links.threepl, r.threepl_order_id, r.threepl_order_id)
)
CARRIER = Column("carrier", lambda r, _: r.carrier)
TRACKING = Column("tracking", lambda r, _: r.tracking)
PARCELS = Column("parcels", lambda r, _: "" if r.parcels is None else str(r.parcels))
SHIPPED_AT = Column("shipped at (UTC)", lambda r, _: _utc_minute(r.shipped_at))
REASON = Column("reason", lambda r, _: r.detail)
WHAT_TO_DO = Column("what to do", lambda r, _: what_to_do(r.detail, r.reference))
SKU = Column("SKU", lambda r, _: r.reference)

_SHIPPED = (ORDER_NUMBER, ORDER_ID, THREEPL_ID, CARRIER, TRACKING, PARCELS, SHIPPED_AT)

TABLES: dict[str, Table] = {
    "exported": Table((ORDER_NUMBER, ORDER_ID, THREEPL_ID)),
    "shipped": Table(_SHIPPED),
    "processed": Table(_SHIPPED),
    "cancelled": Table((ORDER_NUMBER, ORDER_ID, THREEPL_ID, Column("note", lambda r, _: r.detail))),
    "quarantined": Table(
        (
            Column("order number or item", lambda r, _: r.label),
            ORDER_ID._replace(header="Linnworks order id or SKU"),
            REASON,
            WHAT_TO_DO,
        )
    ),
    "stock_changes": Table(
        (SKU, Column("level", lambda r, _: r.label), Column("detail", lambda r, _: r.detail))
    ),
    "catalogue": Table((SKU, Column("title", lambda r, _: r.label), Column("result", lambda r, _: r.detail))),
    "changes": Table(
        (ORDER_NUMBER, ORDER_ID, THREEPL_ID, Column("change after export", lambda r, _: r.detail))
    ),
}
"""The table of each ``RunReport`` section, by section name."""

QUARANTINE_QUEUE = Table(
    (
        ORDER_NUMBER,
        ORDER_ID,
        THREEPL_ID,
        REASON,
        WHAT_TO_DO,
        Column("quarantined since (UTC)", lambda r, _: r.since),
    )
)
"""The account's ``quarantine`` artifact: every order waiting for a person now."""

_FIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("short shipment",),
        "settle what was not shipped with the customer and make the order's lines equal what shipped",
    ),
    (("shipping service", "service_map"), "map the service in SHIPPING_SERVICE_MAP (or the block's map)"),
    (("country",), "add the country to COUNTRY_CODE_MAP or fix the address in Linnworks"),
    (("address", "postcode", "zip"), "fix the address in Linnworks"),
    (("sku", "product", "item"), "create or fix the item at the 3PL (run sync-catalogue)"),
    (("tracking",), "check the tracking number in Linnworks and at the 3PL"),
    (("too late", "cancel"), "settle the cancellation by hand with the 3PL and in Linnworks"),
    (("stock",), "review the stock change (lw3pl ledger holds)"),
)


def what_to_do(reason: str, reference: str) -> str:
    """The operator's next step for a quarantine ``reason``: the fix, then how to release the order."""
    lowered = reason.lower()
    fix = next((text for words, text in _FIXES if any(word in lowered for word in words)), "fix the cause")
    return f"{fix}; then lw3pl ledger release {reference}" if _is_order_id(reference) else fix


def _is_order_id(reference: str) -> bool:
    """Orders are named by their Linnworks OrderId (a UUID); stock and catalogue rows by SKU."""
    try:
        UUID(reference)
    except ValueError:
        return False
    return True
