"""clients._json: loads reads what json.loads reads, to the same values; dumps writes what httpx would."""

from __future__ import annotations

import json

import httpx
import pytest

from clients._json import JSON_CONTENT, dumps, loads


@pytest.mark.parametrize(
    "raw",
    [
        b'{"Id": 1, "Price": 12.35, "Name": "caf\xc3\xa9", "Lines": [null, true]}',
        '{"Id": 1, "Name": "café"}',
        '{"Id": 1}'.encode("utf-16"),
        b'{"Score": NaN}',
    ],
    ids=["utf8-bytes", "text", "utf16-with-bom", "nan"],
)
def test_loads_parses_what_json_loads_parses_to_the_same_values(raw: bytes | str) -> None:
    """Bodies orjson refuses (UTF-16, NaN) are still read, as the standard library reads them."""
    assert repr(loads(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize(
    "raw", [b"<html>proxy</html>", b'{"cut": ', b"\xff\xfe\x00"], ids=["html", "cut", "bytes"]
)
def test_loads_raises_value_error_for_what_is_not_json(raw: bytes) -> None:
    """What is not JSON raises ValueError, the error the clients turn into a malformed-reply error."""
    with pytest.raises(ValueError):
        loads(raw)


@pytest.mark.parametrize(
    "body",
    [
        {"reference_id": "6d1f", "recipient": {"name": "Zoë Müller", "address": {"city": "Köln"}}},
        {"products": [{"sku": "A-1", "quantity": 2, "unit_price": 9.99}], "financials": {"total_price": 0.1}},
        [{"shipment_id": 1, "is_tracking_uploaded": True}, {"shipment_id": 2, "tracking": None}],
    ],
    ids=["non-ascii", "numbers", "list"],
)
def test_dumps_writes_the_bytes_httpx_json_would_send(body: object) -> None:
    """A body sent as ``content=dumps(body)`` is the one ``json=body`` sent: same bytes, same header."""
    by_httpx = httpx.Request("POST", "https://api.example/order", json=body)
    by_us = httpx.Request("POST", "https://api.example/order", content=dumps(body), headers=JSON_CONTENT)
    assert by_us.content == by_httpx.content
    assert by_us.headers["Content-Type"] == by_httpx.headers["Content-Type"]
