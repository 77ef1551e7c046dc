"""The warehouse's side of the lw3pl file format, version 1, written from docs/adapters.md.

Deliberately independent of ``clients.sftp``: a column misnamed in the client must not be mirrored here.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "ACK_HEADER",
    "SHIPMENT_HEADER",
    "STOCK_HEADER",
    "CsvProblem",
    "read_table",
    "render_table",
    "write_atomically",
]

ACK_HEADER = ("format_version", "reference", "status", "warehouse_order_id", "occurred_at", "reason")
SHIPMENT_HEADER = (
    "format_version", "reference", "warehouse_order_id", "shipment_id", "shipped_at", "is_final",
    "tracking_number", "carrier", "service", "tracking_url", "line_ref", "sku", "quantity",
)  # fmt: skip
STOCK_HEADER = ("format_version", "as_of", "sku", "on_hand")


class CsvProblem(ValueError):
    """The file cannot be read as the format says."""


def read_table(data: bytes) -> list[dict[str, str]]:
    """Rows of a version-1 file as dicts by column name; any unreadable row fails the whole file."""
    try:
        text = data.decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CsvProblem(f"unreadable file: {exc}") from None
    if not records:
        raise CsvProblem("empty file")
    header, body = records[0], records[1:]
    rows = []
    for number, record in enumerate(body, start=2):
        if len(record) != len(header):
            raise CsvProblem(f"row {number} has {len(record)} fields, the header {len(header)}")
        row = dict(zip(header, record, strict=True))
        if row.get("format_version") != "1":
            raise CsvProblem(f"row {number}: format_version must be 1")
        rows.append(row)
    return rows


def render_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A file as a warehouse writes it: minimal quoting, CRLF, UTF-8."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_atomically(target: Path, data: bytes) -> None:
    """Write under a dot-name in the same folder, then rename: readers never see half a file."""
    temp = target.with_name(f".{target.name}.tmp")
    temp.write_bytes(data)
    os.replace(temp, target)
