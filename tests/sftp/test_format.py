"""Unit tests of the lw3pl CSV file format, version 1 (no server involved)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from clients.sftp import _format as fmt
from clients.threepl import Address, CatalogueItem, EventKind, FulfilmentOrder, OrderLine

HOSTILE = [
    "comma, \"quotes\" and 'apostrophes'",
    "two\nlines and\r\nCRLF and a lone\rCR",
    "emoji 📦🚚 and a flag 🇬🇧",
    "right-to-left: שלום עולם مرحبا",
    "\u202eoverride\u202c and zero\u200bwidth",
    "  leading and trailing spaces  ",
    '=HYPERLINK("http://x")',
    "'; DROP TABLE orders; --",
    "",
]

ACK_HEADER = '"format_version","reference","status","warehouse_order_id","occurred_at","reason"\r\n'
SHP_HEADER = (
    "format_version,reference,warehouse_order_id,shipment_id,shipped_at,is_final,"
    "tracking_number,carrier,service,tracking_url,line_ref,sku,quantity\r\n"
)


def _order(text: str) -> FulfilmentOrder:
    return FulfilmentOrder(
        reference="ref-1",
        display_ref=text,
        ship_to=Address(name=text, company=text, line1=text or "x", city="c", country_code="GB", phone=text),
        service_code="Standard",
        lines=[OrderLine(line_ref="L1", sku="SKU-1", quantity=3, title=text, unit_price=Decimal("9.99"))],
        notes=[text, "second note"],
    )


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_order_file_round_trips_hostile_text_byte_for_byte(text: str) -> None:
    """Every text field of an order file reads back exactly as written, whatever characters it holds."""
    data = fmt.encode_order(_order(text))
    [row] = list(fmt.read_rows(data, fmt.ORDER_COLUMNS))
    assert row.problem == ""
    values = row.values
    assert (values["display_ref"], values["ship_name"], values["ship_company"], values["title"]) == (
        text,
    ) * 4
    assert values["ship_phone"] == text
    assert values["notes"] == f"{text}\nsecond note"
    assert values["quantity"] == "3" and values["unit_price"] == "9.99"


def test_order_file_is_utf8_quoted_crlf_without_bom() -> None:
    """Written files are UTF-8 without BOM, every field quoted, records ending in CRLF."""
    data = fmt.encode_order(_order('Zoë, "Z"'))
    assert not data.startswith(b"\xef\xbb\xbf")
    header, row = data.decode("utf-8").split("\r\n")[:2]
    assert header.split(",")[:2] == ['"format_version"', '"reference"']
    assert row.startswith('"1","ref-1",')
    assert '"Zoë, ""Z"""' in row


def test_order_file_has_one_row_per_line_with_the_order_repeated() -> None:
    """A two-line order makes two rows that both carry the reference and the address."""
    order = _order("x").model_copy(
        update={
            "lines": [
                OrderLine(line_ref="L1", sku="A", quantity=1),
                OrderLine(line_ref="L2", sku="B", quantity=4),
            ]
        }
    )
    rows = [r.values for r in fmt.read_rows(fmt.encode_order(order), fmt.ORDER_COLUMNS)]
    assert [(r["reference"], r["ship_name"], r["line_ref"], r["sku"], r["quantity"]) for r in rows] == [
        ("ref-1", "x", "L1", "A", "1"),
        ("ref-1", "x", "L2", "B", "4"),
    ]


def test_file_names_percent_encode_the_reference() -> None:
    """References with separators or non-ASCII text still make one safe, reversible file name."""
    assert fmt.order_file_name("5f0c2c8e-0d0e") == "ord_5f0c2c8e-0d0e.csv"
    assert fmt.order_file_name("a/b c") == "ord_a%2Fb%20c.csv"
    assert fmt.cancel_file_name("é") == "can_%C3%A9.csv"
    with pytest.raises(ValueError, match="too long"):
        fmt.order_file_name("x" * 300)


def test_items_file_writes_empty_dimensions_as_empty_fields() -> None:
    """Unknown weights and sizes are empty fields, known ones plain decimals."""
    data = fmt.encode_items([CatalogueItem(sku="S1", title="T, 1", weight_kg=Decimal("0.250"))])
    [row] = [r.values for r in fmt.read_rows(data, fmt.ITEM_COLUMNS)]
    assert (row["sku"], row["title"], row["weight_kg"], row["length_cm"]) == ("S1", "T, 1", "0.250", "")


def test_ack_rows_become_events_keyed_by_file_and_row() -> None:
    """Each ack status maps to its event kind; the dedup key is the file name and row number."""
    data = (
        ACK_HEADER
        + '"1","r1","accepted","100","2026-11-27T09:00:00Z",""\r\n'
        + '"1","r2","rejected","","2026-11-27T10:00:00+01:00","unknown SKU ""X"""\r\n'
        + '"1","r3","cancel_rejected","7","2026-11-27T09:00:00Z","already shipped"\r\n'
        + '"1","r4","on_hold","8","2026-11-27T09:00:00Z","address check"\r\n'
    ).encode()
    parsed = fmt.parse_event_file("ack_1.csv", data)
    assert parsed.quarantined == []
    assert [(e.event_id, e.kind, e.reference, e.detail) for e in parsed.events] == [
        ("ack_1.csv#2", EventKind.ACCEPTED, "r1", ""),
        ("ack_1.csv#3", EventKind.ERROR, "r2", 'rejected: unknown SKU "X"'),
        ("ack_1.csv#4", EventKind.CANCEL_REJECTED, "r3", "already shipped"),
        ("ack_1.csv#5", EventKind.ON_HOLD, "r4", "address check"),
    ]
    assert parsed.events[1].occurred_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('"1","r9","teleported","","2026-11-27T09:00:00Z",""', "status"),
        ('"1","r9","accepted","","2026-11-27T09:00:00",""', "occurred_at: needs a UTC offset"),
        ('"1","","accepted","","2026-11-27T09:00:00Z",""', "reference: must not be empty"),
        ('"2","r9","accepted","","2026-11-27T09:00:00Z",""', "format_version"),
        ('"1","r9","accepted"', "has 3 fields, the header has 6"),
    ],
    ids=["unknown-status", "naive-time", "empty-reference", "future-version", "short-row"],
)
def test_a_malformed_ack_row_is_quarantined_and_the_rest_go_on(row: str, reason: str) -> None:
    """A bad row is reported with file, row and reason; the good rows around it still become events."""
    good = '"1","r1","accepted","100","2026-11-27T09:00:00Z",""\r\n'
    data = (ACK_HEADER + good + row + "\r\n" + good.replace("r1", "r2")).encode()
    parsed = fmt.parse_event_file("ack_9.csv", data)
    assert [e.reference for e in parsed.events] == ["r1", "r2"]
    [(record, why)] = parsed.quarantined
    assert record == "ack_9.csv#3" and ("(reference 'r9')" in why or "reference: must not be empty" in why)
    assert why.startswith("row 3") and reason in why


def test_shipment_rows_group_into_packages_and_lines() -> None:
    """Rows of one shipment make one event; rows sharing a tracking number make one package."""
    data = (
        SHP_HEADER
        + "1,r1,100,S1,2026-11-27T09:30:00Z,true,T1,UPS,Ground,,L1,A,2\r\n"
        + "1,r1,100,S1,2026-11-27T09:30:00Z,true,T1,UPS,Ground,,L2,B,1\r\n"
        + "1,r1,100,S1,2026-11-27T09:30:00Z,true,T2,UPS,Ground,,L2,B,3\r\n"
        + "1,r2,101,S2,2026-11-27T09:31:00Z,false,T3,DHL,,,L9,C,1\r\n"
    ).encode()
    parsed = fmt.parse_event_file("shp_1.csv", data)
    assert parsed.quarantined == []
    first, second = parsed.events
    assert (first.event_id, first.kind, first.remote_id) == ("shipment:S1", EventKind.SHIPMENT, "100")
    assert first.shipment is not None and first.shipment.is_final
    assert [
        (p.tracking_number, [(x.line_ref, x.sku, x.quantity) for x in p.lines])
        for p in first.shipment.packages
    ] == [
        ("T1", [("L1", "A", 2), ("L2", "B", 1)]),
        ("T2", [("L2", "B", 3)]),
    ]
    assert second.shipment is not None and not second.shipment.is_final


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ("1,r1,100,S1,2026-11-27T09:30:00Z,true,T1,UPS,,,L2,B,-1", "quantity: must be a whole number"),
        ("1,r1,100,S1,2026-11-27T09:30:00Z,true,,UPS,,,L2,B,1", "tracking_number: must not be empty"),
        ('1,r1,100,S1,2026-11-27T09:30:00Z,true,T1,UPS,,,L2,B,"5.0"', "quantity"),
        ("1,r1,100,S1,2026-11-27T09:30:00Z,yes,T1,UPS,,,L2,B,1", "is_final: must be true or false"),
        ("1,r1,100,S1,2026-11-27T09:45:00Z,true,T1,UPS,,,L2,B,1", "differ from row 2"),
    ],
    ids=["negative-quantity", "no-tracking", "decimal-quantity", "bad-bool", "disagreeing-time"],
)
def test_a_bad_row_holds_back_its_whole_shipment_but_not_the_others(bad_row: str, reason: str) -> None:
    """Never half a shipment: the bad row and its siblings are quarantined, other shipments go on."""
    data = (
        SHP_HEADER
        + "1,r1,100,S1,2026-11-27T09:30:00Z,true,T1,UPS,,,L1,A,2\r\n"
        + bad_row
        + "\r\n"
        + "1,r2,101,S2,2026-11-27T09:31:00Z,true,T3,DHL,,,L9,C,1\r\n"
    ).encode()
    parsed = fmt.parse_event_file("shp_2.csv", data)
    assert [e.event_id for e in parsed.events] == ["shipment:S2"]
    records = dict(parsed.quarantined)
    assert set(records) == {"shp_2.csv#2", "shp_2.csv#3"}
    assert records["shp_2.csv#2"].startswith("held back: shipment 'S1' has a bad row 3")
    assert reason in records["shp_2.csv#2"] and reason in records["shp_2.csv#3"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe not utf-8", "not UTF-8"),
        (b"", "empty file"),
        (b"format_version,reference,status\r\n1,r1,accepted\r\n", "header lacks columns warehouse_order_id"),
        (ACK_HEADER.encode() + b'"1","r1","acc"epted"\r\n', "broken CSV"),
    ],
    ids=["not-utf8", "empty", "missing-columns", "broken-quoting"],
)
def test_an_unreadable_event_file_is_quarantined_whole(data: bytes, reason: str) -> None:
    """A file whose encoding, header or quoting is broken yields no events and one reason."""
    parsed = fmt.parse_event_file("ack_bad.csv", data)
    assert parsed.events == []
    [(record, why)] = parsed.quarantined
    assert record == "ack_bad.csv" and reason in why


def test_reading_tolerates_a_bom_extra_columns_and_any_column_order() -> None:
    """Columns are found by name; unknown ones are ignored; a leading BOM is skipped."""
    text = (
        "\ufeffreason,extra,occurred_at,status,reference,warehouse_order_id,format_version\r\n"
        "why,ignored,2026-11-27T09:00:00Z,on_hold,r1,5,1\r\n"
    )
    [event] = fmt.parse_event_file("ack_2.csv", text.encode()).events
    assert (event.kind, event.reference, event.remote_id, event.detail) == (
        EventKind.ON_HOLD,
        "r1",
        "5",
        "why",
    )


def test_a_stock_file_reads_as_a_complete_snapshot() -> None:
    """Every row becomes a level; the snapshot carries the warehouse's as_of in UTC."""
    data = (
        b"format_version,as_of,sku,on_hand\r\n"
        b"1,2026-11-27T10:00:00+01:00,A,5\r\n"
        b"1,2026-11-27T10:00:00+01:00,B,0\r\n"
    )
    snapshot = fmt.parse_stock_file("inv_1.csv", data)
    assert snapshot.as_of == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert [(level.sku, level.on_hand) for level in snapshot.levels] == [("A", 5), ("B", 0)]
    assert snapshot.complete


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("1,2026-11-27T09:00:00Z,A,5\r\n1,2026-11-27T09:00:00Z,B,-2\r\n", "row 3: on_hand"),
        ("1,2026-11-27T09:00:00Z,A,5\r\n1,2026-11-27T09:05:00Z,B,2\r\n", "disagree on as_of"),
        ("1,2026-11-27T09:00:00Z,A,5\r\n1,2026-11-27T09:00:00Z,A,2\r\n", "a SKU appears twice"),
        ("", "no rows"),
        ("1,2026-11-27T09:00:00Z,A\r\n", "row 2: has 3 fields"),
    ],
    ids=["negative", "mixed-as-of", "duplicate-sku", "header-only", "truncated"],
)
def test_a_malformed_stock_file_is_rejected_whole(body: str, reason: str) -> None:
    """Any bad row rejects the whole stock file with a reason: never a partial stock picture."""
    with pytest.raises(fmt.FileFormatError, match=reason):
        fmt.parse_stock_file("inv_2.csv", f"format_version,as_of,sku,on_hand\r\n{body}".encode())
