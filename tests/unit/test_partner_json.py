"""clients._json.loads reads every reply json.loads reads, to the same values."""

from __future__ import annotations

import json

import pytest

from clients._json import loads


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
