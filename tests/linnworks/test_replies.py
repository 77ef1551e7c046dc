"""Reading replies: malformed bodies, void methods, CancelOrder's error string, typed parsing."""

from __future__ import annotations

import uuid

import pytest

from clients.errors import MalformedResponseError, RecordError
from clients.linnworks import OrderNote, StockLocation

from .fakes import FakeLinnworks, make_client, reply

ORDER = uuid.UUID("9af71b24-84f6-4400-90ef-f860b5bba0b2")


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(
            reply(200, text="<html><body>Maintenance</body></html>", headers={"Content-Type": "text/html"}),
            id="html-200",
        ),
        pytest.param(
            reply(200, text='[{"StockLocationId": "00000000-', headers={"Content-Type": "application/json"}),
            id="truncated-json",
        ),
        pytest.param(reply(200, {"not": "a list"}), id="wrong-type"),
        pytest.param(reply(200, [{"StockLocationId": "not-a-guid", "LocationName": "x"}]), id="bad-guid"),
        pytest.param(reply(200), id="empty-body-for-a-read"),
    ],
)
def test_malformed_reply_names_the_endpoint(action: object) -> None:
    """An unreadable 200 raises MalformedResponseError naming the endpoint, and is not retried."""
    fake = FakeLinnworks()
    fake.queue("Inventory/GetStockLocations", action)  # type: ignore[arg-type]
    with pytest.raises(MalformedResponseError, match="Inventory/GetStockLocations"):
        make_client(fake).get_stock_locations()
    assert len(fake.data_calls()) == 1


def test_html_reply_keeps_a_short_excerpt() -> None:
    """A malformed reply's context carries a short excerpt of the body for the person debugging it."""
    fake = FakeLinnworks()
    fake.queue("Inventory/GetStockLocations", reply(200, text="<html><body>Maintenance</body></html>"))
    with pytest.raises(MalformedResponseError) as raised:
        make_client(fake).get_stock_locations()
    assert raised.value.context is not None and "Maintenance" in (raised.value.context.body_excerpt or "")


def test_wrong_shape_message_does_not_echo_values() -> None:
    """Validation problems are described by field path, never by the (possibly personal) value."""
    fake = FakeLinnworks(
        ok={
            "Inventory/GetStockLocations": reply(
                200, [{"StockLocationId": "secret-street-1", "LocationName": "x"}]
            )
        }
    )
    with pytest.raises(MalformedResponseError) as raised:
        make_client(fake).get_stock_locations()
    assert "secret-street-1" not in str(raised.value)
    assert "StockLocationId" in str(raised.value)


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(reply(204), id="204"),
        pytest.param(reply(200), id="200-empty"),
        pytest.param(reply(200, text="   "), id="200-blank"),
    ],
)
def test_void_methods_accept_204_and_empty_200(action: object) -> None:
    """Void methods (UpdateLocation, SetOrderNotes) succeed on 204 or an empty 200."""
    fake = FakeLinnworks()
    fake.queue("Locations/UpdateLocation", action)  # type: ignore[arg-type]
    fake.queue("Orders/SetOrderNotes", action)  # type: ignore[arg-type]
    client = make_client(fake)
    client.update_location(StockLocation(location_name="x"))
    client.set_order_notes(ORDER, [OrderNote(note="hello")])


def test_cancel_order_error_text_is_a_record_error() -> None:
    """CancelOrder answering a non-null string (its error channel) raises RecordError with that text."""
    fake = FakeLinnworks(ok={"Orders/CancelOrder": reply(200, "Order is locked")})
    with pytest.raises(RecordError, match="Order is locked"):
        make_client(fake).cancel_order(ORDER, fulfilment_center=ORDER)


def test_get_order_by_id_empty_object_is_none() -> None:
    """GetOrderById replying null or an empty object means no such order."""
    fake = FakeLinnworks(ok={"Orders/GetOrderById": reply(200, {})})
    assert make_client(fake).get_order_by_id(ORDER) is None


def test_stock_items_full_past_last_page_is_empty() -> None:
    """GetStockItemsFull's 400 "No items found with given filter." past the end reads as an empty page."""
    fake = FakeLinnworks(
        ok={
            "Stock/GetStockItemsFull": reply(
                400, {"Code": "-", "Message": "No items found with given filter."}
            )
        }
    )
    assert make_client(fake).get_stock_items_full(page_number=9) == []
