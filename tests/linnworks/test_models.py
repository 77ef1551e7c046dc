"""Models: the captured real order parses; dates, money, unknown fields, outbound strictness and aliases."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from clients.linnworks import (
    OrderDetails,
    OrderGeneralInfo,
    StockLevelUpdate,
    StockLocation,
    UpdateOrderShippingInfo,
    parse_linnworks_datetime,
)
from clients.linnworks.models import WIRE

CAPTURED = Path(__file__).parent / "data" / "open-order-captured.json"


def _captured() -> dict[str, object]:
    return json.loads(CAPTURED.read_text())  # type: ignore[no-any-return]


def test_captured_real_order_parses() -> None:
    """The real captured Linnworks order parses with the fields an export needs."""
    order = OrderDetails.model_validate(_captured(), **WIRE)
    assert order.order_id == uuid.UUID("9af71b24-84f6-4400-90ef-f860b5bba0b2")
    assert order.num_order_id == 100066
    assert order.processed is False
    assert order.general_info.status == 1
    assert order.general_info.identifiers is None and order.general_info.identifier_tags == set()
    assert order.general_info.received_date == datetime(2021, 6, 25, 13, 26, 26, 157000, tzinfo=UTC)
    assert order.general_info.despatch_by_date is None, "year-1 date means unset"
    assert order.location_id == uuid.UUID("a9d95f89-fd1a-4d57-98da-9d5ef91b8fc1")
    assert order.shipping_info.postal_service_name == "Standard"
    assert order.customer_info.address.full_name == "myself5"
    assert order.totals_info.currency == "GBP"
    assert isinstance(order.totals_info.total_charge, Decimal)
    assert [item.sku for item in order.items] == ["100003", "100003"]
    assert order.items[0].stock_item_id == order.items[0].item_id
    assert order.items[0].composite_sub_items == []


def test_unknown_fields_are_ignored_inbound() -> None:
    """Fields Linnworks adds later are ignored when parsing a reply, at every level."""
    data = _captured()
    data["BrandNewField"] = 1
    data["GeneralInfo"]["AnotherNewOne"] = "x"  # type: ignore[index]
    OrderDetails.model_validate(data, **WIRE)


def test_round_trip_models_forbid_unknown_fields_in_code() -> None:
    """Built in code, a round-trip model rejects a misspelt field."""
    with pytest.raises(ValidationError):
        StockLocation(location_name="x", IsFulfilmentCenter=True)  # type: ignore[call-arg]


def test_outbound_models_forbid_unknown_fields() -> None:
    """Outbound-only models reject unknown fields."""
    with pytest.raises(ValidationError):
        UpdateOrderShippingInfo(tracking_number="T", Vendor="RM")  # type: ignore[call-arg]


def test_general_info_round_trip_keeps_every_field() -> None:
    """GeneralInfo read from a reply serialises back with the same spec names and values."""
    raw = _captured()["GeneralInfo"]
    info = OrderGeneralInfo.model_validate(raw, **WIRE)
    assert json.loads(info.model_dump_json(by_alias=True)) == {
        **raw,
        "InvoicePrintError": None,
        "PickListPrintError": None,
        "PIIRedactionDays": None,
    }  # type: ignore[dict-item]


def test_money_serialises_as_a_json_number() -> None:
    """Decimal amounts go out as JSON numbers (the spec's double), not strings."""
    dumped = json.loads(UpdateOrderShippingInfo(postage_cost=Decimal("3.50")).model_dump_json(by_alias=True))
    assert dumped["PostageCost"] == 3.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2021-06-25T13:26:26.157Z", datetime(2021, 6, 25, 13, 26, 26, 157000, tzinfo=UTC), id="millis-Z"
        ),
        pytest.param(
            "2023-01-10T13:49:54.4955163+00:00",
            datetime(2023, 1, 10, 13, 49, 54, 495516, tzinfo=UTC),
            id="7-digits-offset",
        ),
        pytest.param("2024-05-01T10:15:00Z", datetime(2024, 5, 1, 10, 15, tzinfo=UTC), id="no-fraction"),
        pytest.param(
            "2024-05-01T10:15:00-05:00", datetime(2024, 5, 1, 15, 15, tzinfo=UTC), id="negative-offset"
        ),
        pytest.param(
            "2024-05-01T10:15:00.1", datetime(2024, 5, 1, 10, 15, 0, 100000, tzinfo=UTC), id="naive-is-utc"
        ),
        pytest.param("0001-01-01T00:00:00Z", None, id="unset"),
        pytest.param("0001-01-01T00:00:00+01:00", None, id="unset-with-offset"),
        pytest.param(
            "9999-12-31T23:59:59-05:30", datetime.max.replace(tzinfo=UTC), id="max-value-past-utc-range"
        ),
        pytest.param(
            "9999-12-31T23:59:59.9999999Z",
            datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            id="max-value",
        ),
        pytest.param("0001-01-01T00:00:00", None, id="unset-naive"),
        pytest.param(None, None, id="null"),
    ],
)
def test_dates(text: str | None, expected: datetime | None) -> None:
    """Dates with Z or offsets and 0-7 fractional digits parse to UTC-aware datetimes; year 1 is unset."""
    parsed = parse_linnworks_datetime(text)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


def test_garbage_date_is_rejected() -> None:
    """A date that is not ISO 8601 is a validation error, not a silent None."""
    with pytest.raises(ValueError):
        parse_linnworks_datetime("yesterday")


def test_outbound_date_format_is_utc_z() -> None:
    """Dates go out as UTC with milliseconds and Z, like the SDK."""
    from clients.linnworks import OrderNote

    note = OrderNote(note="n", note_date=datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    assert json.loads(note.model_dump_json(by_alias=True))["NoteDate"] == "2024-05-01T10:00:00.000Z"
    assert (
        json.loads(OrderNote(note="n").model_dump_json(by_alias=True))["NoteDate"] == "0001-01-01T00:00:00Z"
    )


def test_stock_level_update_requires_a_sku() -> None:
    """A stock level without a SKU is refused before it is sent."""
    with pytest.raises(ValidationError):
        StockLevelUpdate(sku="", location_id=uuid.uuid4(), level=1)
