"""The lw3pl file format, version 1: what goes into the CSV files exchanged with a warehouse over SFTP.

Every file is UTF-8 (no byte-order mark when we write; one is tolerated when we read), RFC 4180 CSV:
comma-separated, every field quoted with ``"`` when we write, a quote inside a field doubled, CRLF
between records, line breaks allowed inside quoted fields. The first record is a header naming the
columns; every data row starts with ``format_version`` = ``1``. Text goes through byte for byte: we never
trim, escape or normalise it. ``docs/adapters.md`` is the reference for partners; keep the two in step.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from clients.errors import excerpt
from clients.threepl.models import (
    CatalogueItem,
    Event,
    EventKind,
    FulfilmentOrder,
    InventoryLevel,
    InventorySnapshot,
    Package,
    PackageLine,
    Shipment,
)

__all__ = [
    "ACK_COLUMNS",
    "CANCEL_COLUMNS",
    "FORMAT_VERSION",
    "ITEM_COLUMNS",
    "ORDER_COLUMNS",
    "SHIPMENT_COLUMNS",
    "STOCK_COLUMNS",
    "FileFormatError",
    "ParsedEvents",
    "RawRow",
    "cancel_file_name",
    "encode_cancel",
    "encode_items",
    "encode_order",
    "order_file_name",
    "parse_event_file",
    "parse_stock_file",
    "read_rows",
    "write_rows",
]

FORMAT_VERSION = "1"
MAX_FILE_NAME_BYTES = 200

ORDER_COLUMNS = (
    "format_version", "reference", "display_ref", "service_code", "currency", "received_at", "notes",
    "ship_name", "ship_company", "ship_line1", "ship_line2", "ship_line3", "ship_city", "ship_region",
    "ship_postcode", "ship_country_code", "ship_email", "ship_phone",
    "line_ref", "sku", "quantity", "title", "unit_price",
)  # fmt: skip
CANCEL_COLUMNS = ("format_version", "reference", "reason", "requested_at")
ITEM_COLUMNS = (
    "format_version", "sku", "title", "barcode", "weight_kg", "length_cm", "width_cm", "height_cm",
)  # fmt: skip
ACK_COLUMNS = ("format_version", "reference", "status", "warehouse_order_id", "occurred_at", "reason")
SHIPMENT_COLUMNS = (
    "format_version", "reference", "warehouse_order_id", "shipment_id", "shipped_at", "is_final",
    "tracking_number", "carrier", "service", "tracking_url", "line_ref", "sku", "quantity",
)  # fmt: skip
STOCK_COLUMNS = ("format_version", "as_of", "sku", "on_hand")


class FileFormatError(ValueError):
    """A whole file cannot be read (encoding, header); the message says why."""


# --- the CSV layer ---------------------------------------------------------------------------------


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """One CSV file: header then rows, every field quoted, CRLF, UTF-8 without BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class RawRow:
    """One data row: its number (the header is row 1), values by column, and a problem if any."""

    number: int
    values: dict[str, str]
    problem: str = ""


def read_rows(data: bytes, required: Sequence[str]) -> Iterator[RawRow]:
    """The data rows of a CSV file, in order.

    A row with the wrong number of fields comes back with ``problem`` set (and its values matched to
    the columns as far as they go) so the caller can quarantine it and go on. Raises FileFormatError
    when the file as a whole cannot be read.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise FileFormatError("empty file: no header")
        missing = [name for name in required if name not in header]
        if missing:
            raise FileFormatError(f"header lacks columns {', '.join(missing)}")
        for number, values in enumerate(reader, start=2):
            yield _raw_row(number, header, values)
    except csv.Error as exc:
        raise FileFormatError(f"broken CSV near row {reader.line_num}: {exc}") from None


def _raw_row(number: int, header: list[str], values: list[str]) -> RawRow:
    matched = dict(zip(header, values, strict=False))
    if len(values) != len(header):
        return RawRow(number, matched, f"has {len(values)} fields, the header has {len(header)}")
    return RawRow(number, matched)


# --- value types of the wire models -----------------------------------------------------------------


def _utc_from_text(value: object) -> object:
    if not isinstance(value, str):
        return value
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("needs a UTC offset (e.g. 2026-11-27T09:00:00Z)")
    return parsed.astimezone(UTC)


def _whole_number(value: object) -> object:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number of digits 0-9")
    return value


def _yes_no(value: object) -> object:
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


WireTime = Annotated[datetime, BeforeValidator(_utc_from_text)]
WireCount = Annotated[int, BeforeValidator(_whole_number)]
WireBool = Annotated[bool, BeforeValidator(_yes_no)]
WireText = Annotated[str, AfterValidator(_not_blank)]


class _InRow(BaseModel):
    """A row the warehouse wrote: unknown columns ignored, the ones we use strict."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    format_version: Literal["1"]


class AckRow(_InRow):
    reference: WireText
    status: Literal[
        "accepted", "rejected", "on_hold", "released", "backordered", "cancelled", "cancel_rejected"
    ]
    warehouse_order_id: str = ""
    occurred_at: WireTime
    reason: str = ""


class ShipmentRow(_InRow):
    reference: WireText
    warehouse_order_id: str = ""
    shipment_id: WireText
    shipped_at: WireTime
    is_final: WireBool
    tracking_number: WireText
    carrier: str = ""
    service: str = ""
    tracking_url: str = ""
    line_ref: str = ""
    sku: WireText
    quantity: WireCount

    def group_key(self) -> tuple[str, str, datetime, bool, str]:
        """The fields every row of one shipment must agree on."""
        return (self.reference, self.warehouse_order_id, self.shipped_at, self.is_final, self.shipment_id)


class StockRow(_InRow):
    as_of: WireTime
    sku: WireText
    on_hand: WireCount


def _reason(exc: ValueError | ValidationError) -> str:
    """A pydantic error as one line naming the columns, without echoing the values."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        column = ".".join(str(p) for p in error["loc"]) or "row"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{column}: {message}")
    return "; ".join(parts)


# --- what we write ----------------------------------------------------------------------------------


def order_file_name(reference: str) -> str:
    """``ord_<reference>.csv``, the reference percent-encoded so that any text makes a safe name."""
    return _named("ord", reference)


def cancel_file_name(reference: str) -> str:
    """``can_<reference>.csv``: one cancel request per order."""
    return _named("can", reference)


def _named(prefix: str, reference: str) -> str:
    name = f"{prefix}_{quote(reference, safe='')}.csv"
    if len(name.encode()) > MAX_FILE_NAME_BYTES:
        raise ValueError(f"reference too long for a file name ({len(reference)} characters)")
    return name


def _time_text(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decimal_text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def encode_order(order: FulfilmentOrder) -> bytes:
    """The ``ord_`` file: one row per order line, the order fields repeated on every row."""
    to = order.ship_to
    head = [
        FORMAT_VERSION, order.reference, order.display_ref, order.service_code, order.currency,
        _time_text(order.received_at), "\n".join(order.notes),
        to.name, to.company, to.line1, to.line2, to.line3, to.city, to.region, to.postcode,
        to.country_code, to.email, to.phone,
    ]  # fmt: skip
    rows = [
        [*head, line.line_ref, line.sku, str(line.quantity), line.title, _decimal_text(line.unit_price)]
        for line in order.lines
    ]
    return write_rows(ORDER_COLUMNS, rows)


def encode_cancel(reference: str, reason: str, requested_at: datetime) -> bytes:
    """The ``can_`` file: one row asking the warehouse to cancel the order."""
    return write_rows(CANCEL_COLUMNS, [[FORMAT_VERSION, reference, reason, _time_text(requested_at)]])


def encode_items(items: Sequence[CatalogueItem]) -> bytes:
    """The ``itm_`` file: one row per catalogue item to create or update by SKU."""
    rows = [[FORMAT_VERSION, item.sku, item.title, item.barcode, *_dimensions(item)] for item in items]
    return write_rows(ITEM_COLUMNS, rows)


def _dimensions(item: CatalogueItem) -> list[str]:
    return [_decimal_text(v) for v in (item.weight_kg, item.length_cm, item.width_cm, item.height_cm)]


# --- what we read -----------------------------------------------------------------------------------


@dataclass
class ParsedEvents:
    """The events of one outbound file, and its rows that could not be read."""

    events: list[Event] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)


def parse_event_file(name: str, data: bytes) -> ParsedEvents:
    """Events from an ``ack_`` or ``shp_`` file; a bad row is quarantined and the rest go on."""
    parsed = ParsedEvents()
    try:
        if name.startswith("ack_"):
            _parse_acks(name, data, parsed)
        else:
            _parse_shipments(name, data, parsed)
    except FileFormatError as exc:
        return ParsedEvents(quarantined=[(name, str(exc))])
    return parsed


_ACK_KINDS = {
    "accepted": EventKind.ACCEPTED,
    "released": EventKind.RELEASED,
    "rejected": EventKind.ERROR,
    "on_hold": EventKind.ON_HOLD,
    "backordered": EventKind.BACKORDERED,
    "cancelled": EventKind.CANCELLED,
    "cancel_rejected": EventKind.CANCEL_REJECTED,
}


def _parse_acks(name: str, data: bytes, parsed: ParsedEvents) -> None:
    for row in read_rows(data, ACK_COLUMNS):
        record = f"{name}#{row.number}"
        try:
            if row.problem:
                raise ValueError(row.problem)
            ack = AckRow.model_validate(row.values)
        except (ValueError, ValidationError) as exc:
            parsed.quarantined.append((record, f"{_label(row)}: {_reason(exc)}"))
            continue
        parsed.events.append(_ack_event(record, ack))


def _label(row: RawRow) -> str:
    """``row 3 (reference 'R1', shipment 'S1')``: what a person needs to find the record."""
    ids = [
        f"{column.replace('_id', '')} {excerpt(row.values[column], 60)!r}"
        for column in ("reference", "shipment_id")
        if row.values.get(column)
    ]
    return f"row {row.number} ({', '.join(ids)})" if ids else f"row {row.number}"


def _ack_event(record: str, ack: AckRow) -> Event:
    # rejected shares ERROR: the detail starts with the status to tell them apart
    prefixed = ack.status == "rejected"
    detail = f"{ack.status}: {ack.reason}" if prefixed else ack.reason
    return Event(
        event_id=record,
        kind=_ACK_KINDS[ack.status],
        reference=ack.reference,
        remote_id=ack.warehouse_order_id,
        occurred_at=ack.occurred_at,
        detail=detail,
    )


def _parse_shipments(name: str, data: bytes, parsed: ParsedEvents) -> None:
    groups: dict[str, list[tuple[int, ShipmentRow]]] = {}
    broken: dict[str, tuple[int, str]] = {}
    for row in read_rows(data, SHIPMENT_COLUMNS):
        try:
            if row.problem:
                raise ValueError(row.problem)
            valid = ShipmentRow.model_validate(row.values)
        except (ValueError, ValidationError) as exc:
            reason = f"{_label(row)}: {_reason(exc)}"
            parsed.quarantined.append((f"{name}#{row.number}", reason))
            # the rest of that shipment is held back below: never half a shipment
            broken.setdefault(row.values.get("shipment_id", ""), (row.number, reason))
            continue
        groups.setdefault(valid.shipment_id, []).append((row.number, valid))
    for shipment_id, rows in groups.items():
        problem = broken.get(shipment_id) or _disagreement(rows)
        if problem is None:
            parsed.events.append(_shipment_event(shipment_id, [r for _, r in rows]))
            continue
        held = f"held back: shipment {shipment_id!r} has a bad row {problem[0]} ({problem[1]})"
        parsed.quarantined.extend((f"{name}#{n}", held) for n, _ in rows)


def _disagreement(rows: list[tuple[int, ShipmentRow]]) -> tuple[int, str] | None:
    first_number, first = rows[0]
    for number, row in rows[1:]:
        if row.group_key() != first.group_key():
            return number, f"its order, time or is_final differ from row {first_number}"
    return None


def _shipment_event(shipment_id: str, rows: list[ShipmentRow]) -> Event:
    packages: dict[str, Package] = {}
    for row in rows:
        package = packages.setdefault(
            row.tracking_number,
            Package(
                tracking_number=row.tracking_number,
                carrier=row.carrier,
                service=row.service,
                tracking_url=row.tracking_url,
            ),
        )
        package.lines.append(PackageLine(line_ref=row.line_ref, sku=row.sku, quantity=row.quantity))
    first = rows[0]
    shipment = Shipment(
        shipment_id=shipment_id,
        shipped_at=first.shipped_at,
        packages=list(packages.values()),
        is_final=first.is_final,
    )
    return Event(
        event_id=f"shipment:{shipment_id}",
        kind=EventKind.SHIPMENT,
        reference=first.reference,
        remote_id=first.warehouse_order_id,
        occurred_at=first.shipped_at,
        shipment=shipment,
    )


def parse_stock_file(name: str, data: bytes) -> InventorySnapshot:
    """A whole stock snapshot, or FileFormatError naming the first problem: never a partial picture."""
    rows: list[StockRow] = []
    for row in read_rows(data, STOCK_COLUMNS):
        try:
            if row.problem:
                raise ValueError(row.problem)
            rows.append(StockRow.model_validate(row.values))
        except (ValueError, ValidationError) as exc:
            raise FileFormatError(f"{name} row {row.number}: {_reason(exc)}") from None
    return _snapshot(name, rows)


def _snapshot(name: str, rows: list[StockRow]) -> InventorySnapshot:
    if not rows:
        raise FileFormatError(f"{name}: no rows, so no as_of time")
    as_of = rows[0].as_of
    if any(row.as_of != as_of for row in rows):
        raise FileFormatError(f"{name}: rows disagree on as_of")
    skus = [row.sku for row in rows]
    if len(set(skus)) != len(skus):
        raise FileFormatError(f"{name}: a SKU appears twice")
    return InventorySnapshot(
        as_of=as_of, levels=[InventoryLevel(sku=r.sku, on_hand=r.on_hand) for r in rows], complete=True
    )
