"""Wire encoding: every declared parameter, SDK-style values, GET in the query string, POST form-encoded."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from clients.linnworks import (
    ENDPOINTS,
    ClientContext,
    FieldsFilter,
    ListFieldFilter,
    StockLevelUpdate,
    StockLocation,
)
from clients.linnworks._encoding import encode_fields

from .fakes import FakeLinnworks, make_client, reply

ORDER = uuid.UUID("9af71b24-84f6-4400-90ef-f860b5bba0b2")
FC = uuid.UUID("7c6a1f0e-0000-4000-8000-00000000000a")
PROCESSED = reply(200, {"OrderId": str(ORDER), "Processed": True, "Error": None})


def test_process_order_fields_are_exactly_the_declared_ones() -> None:
    """ProcessOrder sends orderId, scanPerformed, locationId (empty when null) and context as JSON."""
    fake = FakeLinnworks(ok={"Orders/ProcessOrder": PROCESSED})
    make_client(fake).process_order(ORDER)
    call = fake.data_calls()[0]
    assert call.method == "POST"
    assert call.content_type == "application/x-www-form-urlencoded; charset=UTF-8"
    assert call.fields == {
        "orderId": str(ORDER),
        "scanPerformed": "true",
        "locationId": "",
        "context": '{"Module":"lw3pl"}',
    }


def test_get_all_open_orders_encoding() -> None:
    """GetAllOpenOrders sends filters/sorting as JSON, the bare GUID, a raw string and a bool."""
    fake = FakeLinnworks(ok={"Orders/GetAllOpenOrders": reply(200, [str(ORDER)])})
    filters = FieldsFilter(
        list_fields=[ListFieldFilter(field_code="GENERAL_INFO_IDENTIFIER", type="Not", value="X")]
    )
    ids = make_client(fake).get_all_open_orders(
        fulfilment_center=FC, filters=filters, additional_filter="a b&c"
    )
    assert ids == [ORDER]
    fields = fake.data_calls()[0].fields
    assert set(fields) == {"filters", "sorting", "fulfilmentCenter", "additionalFilter", "exactMatch"}
    assert json.loads(fields["filters"])["ListFields"] == [
        {"FieldCode": "GENERAL_INFO_IDENTIFIER", "Type": "Not", "Value": "X"}
    ]
    assert fields["sorting"] == "[]"
    assert fields["fulfilmentCenter"] == str(FC)
    assert fields["additionalFilter"] == "a b&c"
    assert fields["exactMatch"] == "false"


def test_null_filters_are_sent_as_json_null() -> None:
    """An absent filter object is sent as ``null`` (the SDK's JSON of None), not left out."""
    fake = FakeLinnworks()
    make_client(fake).get_all_open_orders(fulfilment_center=FC)
    assert fake.data_calls()[0].fields["filters"] == "null"


def test_get_methods_put_parameters_in_the_query_string() -> None:
    """GET endpoints (per spec) carry their parameters in the query string and have no body."""
    fake = FakeLinnworks(
        ok={
            "Stock/GetStockItems": reply(
                200, {"PageNumber": 1, "EntriesPerPage": 200, "TotalEntries": 0, "TotalPages": 0, "Data": []}
            )
        }
    )
    make_client(fake).get_stock_items(key_word="sock", location_id=FC)
    call = fake.data_calls()[0]
    assert call.method == "GET" and call.raw.content == b""
    assert call.fields == {
        "keyWord": "sock",
        "locationId": str(FC),
        "entriesPerPage": "200",
        "pageNumber": "1",
        "excludeComposites": "false",
        "excludeVariations": "false",
        "excludeBatches": "false",
    }


def test_parameterless_get_has_no_query() -> None:
    """GetStockLocations is a GET with nothing appended to the path."""
    fake = FakeLinnworks()
    make_client(fake).get_stock_locations()
    assert fake.data_calls()[0].raw.url.query == b""


def test_location_is_sent_with_spec_field_names() -> None:
    """AddLocation sends one ``location`` field whose JSON uses the spec's names, including the FC flags."""
    fake = FakeLinnworks(ok={"Locations/AddLocation": reply(204)})
    location = StockLocation(
        location_name="3PL Leeds",
        is_fulfillment_center=True,
        fulfilment_center_deduct_stock_when_processed=True,
    )
    make_client(fake).add_location(location)
    sent = json.loads(fake.data_calls()[0].fields["location"])
    assert sent["LocationName"] == "3PL Leeds"
    assert sent["IsFulfillmentCenter"] is True
    assert sent["FulfilmentCenterDeductStockWhenProcessed"] is True
    assert sent["StockLocationId"] == "00000000-0000-0000-0000-000000000000"


def test_cancel_order_numbers_and_strings() -> None:
    """CancelOrder sends refund as a plain number and note as raw text."""
    fake = FakeLinnworks(
        ok={"Orders/CancelOrder": reply(200, text="null", headers={"Content-Type": "application/json"})}
    )
    make_client(fake).cancel_order(ORDER, fulfilment_center=FC, refund=Decimal("0"), note="Out of stock")
    assert fake.data_calls()[0].fields == {
        "orderId": str(ORDER),
        "fulfilmentCenter": str(FC),
        "refund": "0",
        "note": "Out of stock",
    }


def test_set_stock_level_sends_json_list_and_change_source() -> None:
    """SetStockLevel sends stockLevels as a JSON list of {SKU, LocationId, Level} and changeSource."""
    fake = FakeLinnworks()
    make_client(fake).set_stock_level([StockLevelUpdate(sku="SOCK", location_id=FC, level=4)])
    fields = fake.data_calls()[0].fields
    assert json.loads(fields["stockLevels"]) == [{"SKU": "SOCK", "LocationId": str(FC), "Level": 4}]
    assert fields["changeSource"] == "lw3pl"


def test_process_in_batch_uses_ordersIds_spelling() -> None:
    """ProcessOrdersInBatch uses the spec's ``ordersIds`` (double s)."""
    fake = FakeLinnworks(ok={"Orders/ProcessOrdersInBatch": reply(200, [])})
    make_client(fake).process_orders_in_batch([ORDER], location_id=FC, context=ClientContext(module="3PL"))
    assert fake.data_calls()[0].fields == {
        "ordersIds": json.dumps([str(ORDER)]),
        "locationId": str(FC),
        "context": '{"Module":"3PL"}',
    }


def test_encoder_refuses_undeclared_or_missing_parameters() -> None:
    """A parameter set differing from the spec is a programming error caught before sending."""
    spec = ENDPOINTS["Orders/GetOrderById"]
    with pytest.raises(TypeError):
        encode_fields("Orders/GetOrderById", spec, {})
    with pytest.raises(TypeError):
        encode_fields("Orders/GetOrderById", spec, {"pkOrderId": ORDER, "extra": 1})


def test_limits_table_has_every_method_the_client_calls() -> None:
    """The generated table holds the verb and limit of each endpoint; GET ones match the spec."""
    gets = {name for name, spec in ENDPOINTS.items() if spec.verb == "GET"}
    assert gets == {
        "Inventory/GetStockLocations",
        "OpenOrders/GetIdentifiers",
        "Orders/GetOrderById",
        "Orders/GetExtendedProperties",
        "Orders/GetOrderNotes",
        "Stock/GetStockItems",
    }
    assert ENDPOINTS["Orders/GetOrdersById"].per_minute == 250
    assert ENDPOINTS["Stock/GetStockItemsFull"].per_minute == 150
