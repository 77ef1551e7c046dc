"""The warehouse clerk: turns inbound files into warehouse calls and warehouse events into outbound files."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote

from sandbox.sftp._csv import (
    ACK_HEADER,
    SHIPMENT_HEADER,
    STOCK_HEADER,
    CsvProblem,
    read_table,
    render_table,
    write_atomically,
)
from sandbox.sftp._server import Faults
from sandbox.warehouse import (
    CancelOutcome,
    DuplicateReference,
    ShipmentRecord,
    UnknownSku,
    Warehouse,
    WarehouseEvent,
)

__all__ = ["Clerk", "ClerkReport"]

_log = logging.getLogger("sandbox.sftp")
_ACK_STATUS = {
    "accepted": "accepted",
    "on_hold": "on_hold",
    "released": "released",
    "backordered": "backordered",
    "cancelled": "cancelled",
}
Row = list[str]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ClerkReport:
    """What one round did: files taken in, files written."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.written: list[str] = []

    def __repr__(self) -> str:
        return f"ClerkReport(taken={self.taken}, written={self.written})"


class Clerk:
    """Works the sandbox's folders against a :class:`Warehouse`, one round per ``process_once``."""

    def __init__(
        self, warehouse: Warehouse, root: Path, faults: Faults, clock: Callable[[], datetime]
    ) -> None:
        self.warehouse = warehouse
        self.inbound = root / "inbound"
        self.outbound = root / "outbound"
        self._faults = faults
        self._clock = clock
        self._lock = threading.Lock()
        self._position = warehouse.events_since(0)[1]
        self._seq = 0
        self._last_stock: dict[str, int] | None = None
        self._corrupted: set[str] = set()

    def prepare(self) -> None:
        """Create the folders of the file contract."""
        for folder in (self.inbound / "processed", self.outbound / "processed"):
            folder.mkdir(parents=True, exist_ok=True)

    def process_once(self, now: datetime | None = None) -> ClerkReport:
        """Take inbound files, move the warehouse on to ``now``, write ack, shipment and stock files."""
        with self._lock:
            now = now or self._clock()
            report = ClerkReport()
            acks: list[Row] = []
            for path in self._inbound_files():
                acks.extend(self._take(path, now))
                report.taken.append(path.name)
            self.warehouse.advance(now)
            events, self._position = self.warehouse.events_since(self._position)
            acks.extend(self._ack_rows(events))
            shipments = [
                row for e in events if e.shipment for row in self._shipment_rows(e.reference, e.shipment)
            ]
            self._write_events(now, acks, shipments, report)
            self._write_stock_if_changed(now, report)
            return report

    def write_stock_snapshot(self, now: datetime | None = None) -> str:
        """Write an ``inv_`` file now, changed or not; returns its name."""
        with self._lock:
            report = ClerkReport()
            self._last_stock = None
            self._write_stock_if_changed(now or self._clock(), report)
            return report.written[0]

    def corrupt_shipments_of(self, reference: str) -> None:
        """From now on every shipment row of ``reference`` has no tracking number, in new files and in
        the shipment files already waiting in outbound."""
        with self._lock:
            self._corrupted.add(reference)
            for path in sorted(self.outbound.glob("shp_*.csv")):
                rows = read_table(path.read_bytes())
                if any(row["reference"] == reference for row in rows):
                    fixed = [self._maybe_corrupt([row[c] for c in SHIPMENT_HEADER]) for row in rows]
                    write_atomically(path, render_table(SHIPMENT_HEADER, fixed))

    def _maybe_corrupt(self, row: Row) -> Row:
        if row[1] in self._corrupted:
            row[6] = ""  # tracking_number
        return row

    # --- inbound ------------------------------------------------------------------------------------

    def _inbound_files(self) -> list[Path]:
        files = [
            p
            for p in self.inbound.iterdir()
            if p.is_file() and p.name.startswith(("ord_", "can_", "itm_")) and p.name.endswith(".csv")
        ]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def _take(self, path: Path, now: datetime) -> list[Row]:
        kind = path.name[:3]
        data = path.read_bytes()
        self._archive(path)
        if kind == "itm":
            self._take_items(path.name, data)
            return []
        reference = unquote(path.name[4:-4])
        if kind == "can":
            return self._take_cancel(reference, now)
        return self._take_order(reference, data, now)

    def _archive(self, path: Path) -> None:
        target = self.inbound / "processed" / path.name
        copies = 0
        while target.exists():
            copies += 1
            target = self.inbound / "processed" / f"{path.name}.dup{copies}"
        path.rename(target)

    def _take_order(self, reference: str, data: bytes, now: datetime) -> list[Row]:
        try:
            rows = read_table(data)
            if not rows:
                raise CsvProblem("no order lines")
            if any(row["reference"] != reference for row in rows):
                raise CsvProblem("the reference column does not match the file name")
            lines = [(row["sku"], int(row["quantity"]), row["line_ref"]) for row in rows]
            first = rows[0]
            address = {key[5:]: value for key, value in first.items() if key.startswith("ship_")}
            metadata = {k: first[k] for k in ("display_ref", "notes", "currency", "received_at")}
            self.warehouse.create_order(reference, lines, first["service_code"], address, metadata)
        except DuplicateReference:
            _log.info("sandbox sftp: %s already held; repeat file ignored", reference)
        except (CsvProblem, KeyError, ValueError, UnknownSku) as exc:
            return [self._ack(reference, "rejected", "", now, _problem(exc))]
        return []

    def _take_cancel(self, reference: str, now: datetime) -> list[Row]:
        outcome = self.warehouse.cancel(reference, now)
        if outcome is CancelOutcome.TOO_LATE:
            return [self._ack(reference, "cancel_rejected", "", now, "already shipped")]
        if outcome is CancelOutcome.NOT_FOUND:
            return [self._ack(reference, "cancel_rejected", "", now, "unknown reference")]
        return []  # cancelled: the warehouse's own event becomes the ack row

    def _take_items(self, name: str, data: bytes) -> None:
        try:
            rows = read_table(data)
        except CsvProblem as exc:
            _log.warning("sandbox sftp: %s unreadable: %s", name, exc)
            return
        for row in rows:
            try:
                dims = [_decimal(row[k]) for k in ("weight_kg", "length_cm", "width_cm", "height_cm")]
                self.warehouse.upsert_product(row["sku"], row["title"], row["barcode"], *dims)
            except (KeyError, InvalidOperation) as exc:
                _log.warning("sandbox sftp: %s: item row skipped: %s", name, _problem(exc))

    # --- outbound -----------------------------------------------------------------------------------

    def _ack(self, reference: str, status: str, order_id: str, at: datetime, reason: str) -> Row:
        return ["1", reference, status, order_id, _iso(at), reason]

    def _ack_rows(self, events: Sequence[WarehouseEvent]) -> list[Row]:
        return [
            self._ack(e.reference, _ACK_STATUS[e.kind], str(e.order_id), e.at, e.detail)
            for e in events
            if e.kind in _ACK_STATUS
        ]

    def _shipment_rows(self, reference: str, shipment: ShipmentRecord) -> list[Row]:
        final = "true" if shipment.is_final else "false"
        head = [
            "1",
            reference,
            str(shipment.order_id),
            str(shipment.shipment_id),
            _iso(shipment.shipped_at),
            final,
        ]
        rows: list[Row] = []
        for package in shipment.packages:
            tracking = package.tracking_number
            parcel = [tracking, package.carrier, shipment.service, f"https://track.example/{tracking}"]
            rows.extend([*head, *parcel, line_ref, sku, str(qty)] for sku, qty, line_ref in package.lines)
        return [self._maybe_corrupt(row) for row in rows]

    def _write_events(
        self, now: datetime, acks: list[Row], shipments: list[Row], report: ClerkReport
    ) -> None:
        if (shipments or acks) and self._faults.take("malformed_event_rows"):
            if shipments:
                shipments.append([*shipments[0][:3], "BROKEN-SHIPMENT", shipments[0][4], "true",
                                  "TRK-BROKEN", "", "", "", "", shipments[0][11], "-1"])  # fmt: skip
            else:
                acks.append(["1", acks[0][1], "teleported", "", _iso(now), "fault injected"])
        if acks:
            report.written.append(self._write("ack", now, ACK_HEADER, acks))
        if shipments:
            report.written.append(self._write("shp", now, SHIPMENT_HEADER, shipments))

    def _write_stock_if_changed(self, now: datetime, report: ClerkReport) -> None:
        view = self.warehouse.inventory_snapshot(now)
        levels = {sku: level.on_hand for sku, level in view.levels.items()}
        if not levels or levels == self._last_stock:
            return
        self._last_stock = levels
        rows = [["1", _iso(view.as_of), sku, str(on_hand)] for sku, on_hand in levels.items()]
        if self._faults.take("malformed_stock_files"):
            rows.append(["1", _iso(view.as_of), "SKU-BROKEN", "a dozen"])
        report.written.append(self._write("inv", now, STOCK_HEADER, rows))

    def _write(self, prefix: str, now: datetime, header: Sequence[str], rows: list[Row]) -> str:
        self._seq += 1
        name = f"{prefix}_{_stamp(now)}_{self._seq:06d}.csv"
        write_atomically(self.outbound / name, render_table(header, rows))
        _log.info("sandbox sftp: wrote %s (%d rows)", name, len(rows))
        return name


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def _problem(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing column {exc.args[0]}"
    return str(exc)
