"""Business rules of the Linnworks sandbox (REFERENCE §12 items 9-21), over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.linnworks import ZERO_GUID, LinnworksSandbox
from tests.sandbox_linnworks.conftest import Api

NEW_FC = "11111111-2222-4333-8444-555555555555"


def not_tagged(tag: str) -> dict[str, Any]:
    return {"ListFields": [{"FieldCode": "GENERAL_INFO_IDENTIFIER", "Type": "Not", "Value": tag}]}


def open_ids(api: Api, location: str, filters: dict[str, Any] | None = None) -> list[str]:
    """The listed ids (.NET writes an empty list as null)."""
    return list(api.ok("Orders/GetAllOpenOrders", fulfilmentCenter=location, filters=filters) or [])


# ------------------------------------------------------------------------------------------ locations
def test_default_location_exists_and_cannot_be_renamed(api: Api) -> None:
    """The zero-GUID Default location is always there and UpdateLocation refuses to rename it."""
    (default,) = api.ok("Inventory/GetStockLocations")
    assert default["StockLocationId"] == ZERO_GUID
    assert default["LocationName"] == "Default"
    reply = api.call("Locations/UpdateLocation", location={**default, "LocationName": "Renamed"})
    assert reply.status_code == 400


def test_add_update_get_location(api: Api) -> None:
    """AddLocation keeps a given id (204), GetLocation reads it, UpdateLocation replaces the record."""
    location = {"StockLocationId": NEW_FC, "LocationName": "3PL York", "IsFulfillmentCenter": True}
    assert api.call("Locations/AddLocation", location=location).status_code == 204
    stored = api.ok("Locations/GetLocation", verb="GET", pkStockLocationId=NEW_FC)
    assert stored["IsFulfillmentCenter"] is True
    assert stored["FulfilmentCenterDeductStockWhenProcessed"] is False
    changed = {**stored, "FulfilmentCenterDeductStockWhenProcessed": True, "City": "York"}
    assert api.call("Locations/UpdateLocation", location=changed).status_code == 204
    assert api.ok("Locations/GetLocation", verb="GET", pkStockLocationId=NEW_FC) == changed
    assert len(api.ok("Inventory/GetStockLocations")) == 2


def test_add_location_mints_an_id_and_refuses_duplicate_names(api: Api) -> None:
    """Without an id the sandbox mints one; a second location with the same name is a 400."""
    assert api.call("Locations/AddLocation", location={"LocationName": "3PL"}).status_code == 204
    ids = {loc["StockLocationId"] for loc in api.ok("Inventory/GetStockLocations")}
    assert len(ids - {ZERO_GUID}) == 1
    assert api.call("Locations/AddLocation", location={"LocationName": "3pl"}).status_code == 400


# ---------------------------------------------------------------------------------------- identifiers
def test_identifiers_save_assign_unassign_delete(api: Api) -> None:
    """SaveIdentifier creates, Assign/Unassign report Changed/NotChanged, Delete removes it from orders."""
    system = api.ok("OpenOrders/GetIdentifiers", verb="GET")
    assert any(ident["Tag"] == "AMAZON_PRIME" and not ident["IsCustom"] for ident in system)
    saved = api.ok(
        "OpenOrders/SaveIdentifier", request={"Identifier": {"Tag": "SENT", "Name": "Sent to 3PL"}}
    )
    assert saved["IsCustom"] is True and saved["IdentifierId"] > 0
    first, second = api.lw.create_orders(2)
    result = api.ok("OpenOrders/AssignOrderIdentifier", request={"OrderIds": [first], "Tag": "SENT"})
    assert result == {"Changed": [first], "NotChanged": None}
    result = api.ok("OpenOrders/AssignOrderIdentifier", request={"OrderIds": [first, second], "Tag": "SENT"})
    assert result == {"Changed": [second], "NotChanged": [first]}
    order = api.ok("Orders/GetOrderById", verb="GET", pkOrderId=first)
    assert [ident["Tag"] for ident in order["GeneralInfo"]["Identifiers"]] == ["SENT"]
    result = api.ok("OpenOrders/UnassignOrderIdentifier", request={"OrderIds": [first], "Tag": "SENT"})
    assert result == {"Changed": [first], "NotChanged": None}
    assert api.call("OpenOrders/DeleteIdentifier", request={"Tag": "SENT"}).status_code == 204
    assert api.lw.order(second)["_Tags"] == []


def test_identifier_rules(api: Api) -> None:
    """Unknown tags are 400, system identifiers cannot be deleted, SaveIdentifier with an id renames."""
    order_id = api.lw.create_orders(1)[0]
    reply = api.call("OpenOrders/AssignOrderIdentifier", request={"OrderIds": [order_id], "Tag": "NOPE"})
    assert reply.status_code == 400
    assert reply.json() == {"Code": "-", "Message": "Identifier not found"}
    assert api.call("OpenOrders/DeleteIdentifier", request={"Tag": "AMAZON_PRIME"}).status_code == 400
    saved = api.ok("OpenOrders/SaveIdentifier", request={"Identifier": {"Tag": "X", "Name": "Old"}})
    renamed = api.ok("OpenOrders/SaveIdentifier", request={"Identifier": {**saved, "Name": "New"}})
    assert renamed["IdentifierId"] == saved["IdentifierId"] and renamed["Name"] == "New"


# ---------------------------------------------------------------------------------------- open orders
def test_open_orders_are_scoped_to_the_location(api: Api, fc: str) -> None:
    """GetAllOpenOrders lists only unprocessed orders of the requested location, oldest first."""
    at_fc = api.lw.create_orders(3, fc)
    api.lw.create_orders(2)
    assert open_ids(api, fc) == at_fc
    api.ok("Orders/ProcessFulfilmentCentreOrder", orderId=at_fc[0])
    assert open_ids(api, fc) == at_fc[1:]


def test_identifier_filter_matches_tag_or_name(api: Api, fc: str) -> None:
    """ListFields on GENERAL_INFO_IDENTIFIER: Is/Not match the identifier's Tag or its Name."""
    tagged, untagged = api.lw.create_orders(2, fc)
    api.ok("OpenOrders/SaveIdentifier", request={"Identifier": {"Tag": "SENT", "Name": "Sent to 3PL"}})
    api.ok("OpenOrders/AssignOrderIdentifier", request={"OrderIds": [tagged], "Tag": "SENT"})
    assert open_ids(api, fc, not_tagged("SENT")) == [untagged]
    assert open_ids(api, fc, not_tagged("sent to 3pl")) == [untagged]
    is_filter = {"ListFields": [{"FieldCode": "GENERAL_INFO_IDENTIFIER", "Type": 0, "Value": "SENT"}]}
    assert open_ids(api, fc, is_filter) == [tagged]


def test_boolean_status_and_date_filters_combine_with_and(api: Api, fc: str) -> None:
    """Parked/locked booleans, status and a received-date range all apply together."""
    ready = api.lw.create_orders(1, fc)
    parked = api.lw.create_orders(1, fc, parked=True)
    locked = api.lw.create_orders(1, fc, locked=True)
    unpaid = api.lw.create_orders(1, fc, paid=False)
    filters: dict[str, Any] = {
        "BooleanFields": [
            {"FieldCode": "GENERAL_INFO_PARKED", "Value": "false"},
            {"FieldCode": "GENERAL_INFO_LOCKED", "Value": False},
        ],
        "NumericFields": [{"FieldCode": "GENERAL_INFO_STATUS", "Type": "Equal", "Value": 1}],
    }
    assert open_ids(api, fc, filters) == ready
    assert open_ids(api, fc) == ready + parked + locked + unpaid
    order = api.lw.order(ready[0])
    window = {
        "FieldCode": "GENERAL_INFO_DATE",
        "Type": "Range",
        "DateFrom": order["GeneralInfo"]["ReceivedDate"],
    }
    assert (
        open_ids(api, fc, {"DateFields": [{**window, "DateTo": order["GeneralInfo"]["ReceivedDate"]}]})
        == ready
    )


def test_unsupported_filter_fails_loudly(api: Api) -> None:
    """A filter field the sandbox does not implement is a 400, never silently ignored."""
    filters = {"TextFields": [{"FieldCode": "CUSTOMER_PHONE", "Type": "Equal", "Text": "1"}]}
    assert api.call("Orders/GetAllOpenOrders", fulfilmentCenter=ZERO_GUID, filters=filters).status_code == 400


def test_get_orders_by_id_keeps_order_and_skips_unknown(api: Api) -> None:
    """GetOrdersById returns open and processed orders in request order and skips unknown ids."""
    first, second = api.lw.create_orders(2)
    api.ok("Orders/ProcessOrder", orderId=first, scanPerformed=True)
    orders = api.ok("Orders/GetOrdersById", pkOrderIds=[second, NEW_FC, first])
    assert [(o["OrderId"], o["Processed"]) for o in orders] == [(second, False), (first, True)]


# ----------------------------------------------------------------------------------------- processing
def test_processing_deducts_stock_only_when_the_location_says_so(api: Api, fc: str) -> None:
    """FC orders deduct stock when FulfilmentCenterDeductStockWhenProcessed is on, else leave it."""
    one = api.lw.create_orders(1, fc, lines=[{"sku": "SOCK-BLK", "quantity": 3}])[0]
    result = api.ok("Orders/ProcessFulfilmentCentreOrder", orderId=one)
    assert result == {"OrderId": one, "Processed": True, "Error": None}
    assert api.lw.stock_level("SOCK-BLK", fc) == 37
    location = api.ok("Locations/GetLocation", verb="GET", pkStockLocationId=fc)
    location["FulfilmentCenterDeductStockWhenProcessed"] = False
    api.ok("Locations/UpdateLocation", location=location)
    two = api.lw.create_orders(1, fc, lines=[{"sku": "SOCK-BLK", "quantity": 3}])[0]
    api.ok("Orders/ProcessFulfilmentCentreOrder", orderId=two)
    assert api.lw.stock_level("SOCK-BLK", fc) == 37


def test_composite_lines_deduct_their_components(api: Api) -> None:
    """Processing a bundle line deducts the component items, not the bundle."""
    before = api.lw.stock_level("MUG-LOGO"), api.lw.stock_level("SOAP-LAV")
    order_id = api.lw.create_orders(1, lines=[{"sku": "BUNDLE-GIFT", "quantity": 2}])[0]
    api.ok("Orders/ProcessOrder", orderId=order_id, scanPerformed=False)
    assert api.lw.stock_level("MUG-LOGO") == before[0] - 2
    assert api.lw.stock_level("SOAP-LAV") == before[1] - 4


def test_processing_failures_come_back_per_order(api: Api, fc: str) -> None:
    """Batch processing answers one result per id; parked, locked, processed and unknown fail alone."""
    ready, parked, locked = (
        api.lw.create_orders(1, fc, parked=p, locked=k)[0] for p, k in [(0, 0), (1, 0), (0, 1)]
    )
    results = api.ok("Orders/ProcessOrdersInBatch", ordersIds=[ready, parked, locked, ready, NEW_FC])
    assert [(r["Processed"], r["Error"]) for r in results] == [
        (True, None),
        (False, "Order is parked"),
        (False, "Order is locked"),
        (False, "Order is processed"),
        (False, f"Order {NEW_FC} not found"),
    ]


def test_fc_processing_refuses_orders_outside_a_fulfilment_centre(api: Api) -> None:
    """ProcessFulfilmentCentreOrder on a Default-location order reports an error and changes nothing."""
    order_id = api.lw.create_orders(1)[0]
    result = api.ok("Orders/ProcessFulfilmentCentreOrder", orderId=order_id)
    assert result["Processed"] is False
    assert api.lw.order(order_id)["Processed"] is False


def test_processing_failure_can_be_a_400(api: Api) -> None:
    """With process_failure_as_400 a failed process call is a 400 instead of Processed:false."""
    api.lw.configure(process_failure_as_400=True)
    order_id = api.lw.create_orders(1, parked=True)[0]
    assert api.call("Orders/ProcessOrder", orderId=order_id, scanPerformed=True).status_code == 400


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("Orders/SetOrderShippingInfo", {"info": {"TrackingNumber": "T"}}),
        ("Orders/SetOrderGeneralInfo", {"info": {"Status": 1}, "wasDraft": False}),
        ("Orders/SetOrderCustomerInfo", {"info": {"ChannelBuyerName": "x"}}),
        ("Orders/SetExtendedProperties", {"extendedProperties": []}),
        ("Orders/ChangeStatus", {"status": 1}),
        ("Orders/CancelOrder", {"fulfilmentCenter": ZERO_GUID, "refund": 0}),
        ("OpenOrders/AssignOrderIdentifier", {}),
    ],
)
def test_processed_orders_are_immutable(api: Api, method: str, params: dict[str, Any]) -> None:
    """Edits to a processed order answer 400 "Order is processed"."""
    order_id = api.lw.create_orders(1)[0]
    api.ok("Orders/ProcessOrder", orderId=order_id, scanPerformed=True)
    if method == "Orders/ChangeStatus":
        params = {**params, "orderIds": [order_id]}
    elif method == "OpenOrders/AssignOrderIdentifier":
        params = {"request": {"OrderIds": [order_id], "Tag": "AMAZON_PRIME"}}
    else:
        params = {**params, "orderId": order_id}
    reply = api.call(method, **params)
    assert reply.status_code == 400
    assert reply.json() == {"Code": "-", "Message": "Order is processed"}


def test_notes_stay_writable_after_processing(api: Api) -> None:
    """SetOrderNotes replaces all notes, works on processed orders, and GetOrderNotes reads them back."""
    order_id = api.lw.create_orders(1)[0]
    api.ok("Orders/ProcessOrder", orderId=order_id, scanPerformed=True)
    api.ok(
        "Orders/SetOrderNotes", orderId=order_id, orderNotes=[{"Note": "a", "Internal": True}, {"Note": "b"}]
    )
    api.ok("Orders/SetOrderNotes", orderId=order_id, orderNotes=[{"Note": "c"}])
    notes = api.ok("Orders/GetOrderNotes", verb="GET", orderId=order_id)
    assert [note["Note"] for note in notes] == ["c"]
    assert notes[0]["OrderId"] == order_id and notes[0]["OrderNoteId"] != ZERO_GUID
    assert api.ok("Orders/GetOrderById", verb="GET", pkOrderId=order_id)["GeneralInfo"]["Notes"] == 1


# ------------------------------------------------------------------------------------ cancel / status
@pytest.mark.parametrize("state", ["parked", "locked", "processed"])
def test_cancel_needs_an_open_unparked_unlocked_order(api: Api, state: str) -> None:
    """CancelOrder refuses parked, locked and processed orders with a 400."""
    order_id = api.lw.create_orders(1, parked=state == "parked", locked=state == "locked")[0]
    if state == "processed":
        api.ok("Orders/ProcessOrder", orderId=order_id, scanPerformed=True)
    reply = api.call("Orders/CancelOrder", orderId=order_id, fulfilmentCenter=ZERO_GUID, refund=0, note="")
    assert reply.status_code == 400


def test_cancel_moves_the_order_out_and_releases_stock(api: Api, fc: str) -> None:
    """A cancelled order becomes processed with HoldOrCancel, leaves open orders, keeps its note."""
    order_id = api.lw.create_orders(1, fc, lines=[{"sku": "SOCK-BLK", "quantity": 5}])[0]
    level = api.ok(
        "Stock/GetStockItems", verb="GET", keyWord="SOCK-BLK", locationId=fc, entriesPerPage=10, pageNumber=1
    )
    assert level["Data"][0]["InOrder"] == 5
    reply = api.call(
        "Orders/CancelOrder", orderId=order_id, fulfilmentCenter=fc, refund=0, note="out of stock"
    )
    assert reply.status_code == 200 and reply.json() is None
    order = api.ok("Orders/GetOrderById", verb="GET", pkOrderId=order_id)
    assert order["Processed"] is True and order["GeneralInfo"]["HoldOrCancel"] is True
    assert order["Notes"][0]["Note"] == "out of stock"
    assert open_ids(api, fc) == []
    level = api.ok(
        "Stock/GetStockItems", verb="GET", keyWord="SOCK-BLK", locationId=fc, entriesPerPage=10, pageNumber=1
    )
    assert (level["Data"][0]["InOrder"], level["Data"][0]["Quantity"]) == (0, 40)


def test_change_status_skips_parked_orders(api: Api) -> None:
    """ChangeStatus returns the changed ids, silently skips parked orders, stamps PaidDateTime."""
    unpaid, parked = api.lw.create_orders(1, paid=False) + api.lw.create_orders(1, paid=False, parked=True)
    assert api.ok("Orders/ChangeStatus", orderIds=[unpaid, parked], status=1) == [unpaid]
    order = api.lw.order(unpaid)
    assert order["GeneralInfo"]["Status"] == 1 and order["PaidDateTime"] is not None
    assert api.lw.order(parked)["GeneralInfo"]["Status"] == 0


# --------------------------------------------------------------------------------------- order edits
def test_shipping_info_is_a_patch_and_needs_a_known_service(api: Api) -> None:
    """Only given fields change; PostalServiceId sets vendor and name; an unknown service is a 400."""
    order_id = api.lw.create_orders(1, postal_service="Standard")[0]
    dpd = next(s for s in api.lw.postal_services() if s["PostalServiceName"] == "DPD Next Day")
    result = api.ok(
        "Orders/SetOrderShippingInfo", orderId=order_id, info={"PostalServiceId": dpd["PostalServiceId"]}
    )
    assert result["ShippingInfo"]["Vendor"] == "DPD"
    result = api.ok("Orders/SetOrderShippingInfo", orderId=order_id, info={"TrackingNumber": "JD0002211"})
    shipping = result["ShippingInfo"]
    assert (shipping["TrackingNumber"], shipping["PostalServiceName"]) == ("JD0002211", "DPD Next Day")
    assert set(result) == {"TotalsInfo", "ShippingInfo"}
    reply = api.call("Orders/SetOrderShippingInfo", orderId=order_id, info={"PostalServiceId": NEW_FC})
    assert reply.status_code == 400


def test_extended_properties_replace_all_and_get_row_ids(api: Api) -> None:
    """SetExtendedProperties replaces the list and mints RowIds; GetExtendedProperties reads it."""
    order_id = api.lw.create_orders(1)[0]
    api.ok("Orders/SetExtendedProperties", orderId=order_id, extendedProperties=[{"Name": "A", "Value": "1"}])
    rows = api.ok(
        "Orders/SetExtendedProperties",
        orderId=order_id,
        extendedProperties=[{"Name": "3PL_REF", "Value": "WH-1", "Type": "Info", "RowId": ZERO_GUID}],
    )
    assert rows[0]["RowId"] != ZERO_GUID
    assert api.ok("Orders/GetExtendedProperties", verb="GET", orderId=order_id) == rows


def test_customer_and_general_info_updates(api: Api) -> None:
    """Customer info replaces the address and returns totals; general info changes writable fields."""
    order_id = api.lw.create_orders(1)[0]
    address = {"FullName": "New Name", "Address1": "2 Low St", "Town": "Hull", "PostCode": "HU1 1AA"}
    totals = api.ok(
        "Orders/SetOrderCustomerInfo", orderId=order_id, info={"Address": address}, saveToCrm="false"
    )
    assert "TotalCharge" in totals
    general = api.ok("Orders/GetOrderById", verb="GET", pkOrderId=order_id)["GeneralInfo"]
    reply = api.call(
        "Orders/SetOrderGeneralInfo",
        orderId=order_id,
        info={**general, "SecondaryReference": "WH-9"},
        wasDraft=False,
    )
    assert reply.status_code == 204
    order = api.lw.order(order_id)
    assert order["CustomerInfo"]["Address"]["Town"] == "Hull"
    assert order["CustomerInfo"]["Address"]["Address2"] == ""
    assert order["GeneralInfo"]["SecondaryReference"] == "WH-9"


def test_update_order_item_changes_quantity_and_substitutes_sku(api: Api) -> None:
    """UpdateOrderItem edits a line by RowId, can swap it to another SKU, and recomputes totals."""
    order_id = api.lw.create_orders(1, lines=[{"sku": "SOCK-BLK", "quantity": 1}])[0]
    line = api.lw.order(order_id)["Items"][0]
    result = api.ok(
        "Orders/UpdateOrderItem",
        orderId=order_id,
        orderItem={"RowId": line["RowId"], "SKU": "SOCK-WHT", "Quantity": 2},
        fulfilmentCenter=ZERO_GUID,
        source="DIRECT",
        subSource="",
    )
    assert (result["Item"]["SKU"], result["Item"]["Quantity"]) == ("SOCK-WHT", 2)
    assert result["TotalsInfo"]["Subtotal"] == 10.0


# -------------------------------------------------------------------------------------------- stock
def test_set_stock_level_is_absolute_per_sku_and_location(api: Api, fc: str) -> None:
    """SetStockLevel sets the level and returns StockItemLevel rows with Available = level - in orders."""
    api.lw.create_orders(1, fc, lines=[{"sku": "SOCK-BLK", "quantity": 2}])
    rows = api.ok("Stock/SetStockLevel", stockLevels=[{"SKU": "SOCK-BLK", "LocationId": fc, "Level": 7}])
    row = rows[0]
    assert (row["StockLevel"], row["InOrders"], row["Available"]) == (7, 2, 5)
    assert row["Location"]["StockLocationId"] == fc
    bad = api.call("Stock/SetStockLevel", stockLevels=[{"SKU": "NOPE", "LocationId": fc, "Level": 1}])
    assert bad.status_code == 400


def test_get_stock_items_pages(api: Api) -> None:
    """GetStockItems pages with totals; a page past the end is empty."""
    page = api.ok("Stock/GetStockItems", verb="GET", keyWord="", entriesPerPage=7, pageNumber=3)
    assert (page["TotalEntries"], page["TotalPages"], len(page["Data"])) == (20, 3, 6)
    past = api.ok("Stock/GetStockItems", verb="GET", keyWord="", entriesPerPage=7, pageNumber=4)
    assert past["Data"] is None  # .NET writes the empty list as null


def full_page(api: Api, **params: Any) -> Any:
    defaults = {"keyword": "", "loadCompositeParents": True, "loadVariationParents": True, "pageNumber": 1}
    return api.call("Stock/GetStockItemsFull", **{**defaults, "entriesPerPage": 200, **params})


def test_get_stock_items_full_bounds(api: Api) -> None:
    """GetStockItemsFull takes 1..200 per page and answers 400 past the last page."""
    assert full_page(api, entriesPerPage=201).status_code == 400
    assert full_page(api, entriesPerPage=0).status_code == 400
    assert len(full_page(api).json()) == 20
    reply = full_page(api, pageNumber=2)
    assert reply.status_code == 400
    assert reply.json() == {"Code": "-", "Message": "No items found with given filter."}


def test_get_stock_items_full_options(api: Api) -> None:
    """Composite parents can be left out, and StockLevels is filled only when asked for."""
    without = full_page(api, loadCompositeParents=False).json()
    assert len(without) == 18 and all(item["StockLevels"] is None for item in without)
    levels = full_page(api, dataRequirements=["StockLevels"], searchTypes=["SKU"], keyword="sock-blk").json()
    assert [item["ItemNumber"] for item in levels] == ["SOCK-BLK"]
    assert levels[0]["StockLevels"][0]["Location"]["StockLocationId"] == ZERO_GUID


def test_get_stock_items_full_by_ids(api: Api, lw: LinnworksSandbox) -> None:
    """GetStockItemsFullByIds returns known ids, with levels when asked (requirement by ordinal)."""
    item = lw.stock_items()[0]
    reply = api.ok(
        "Stock/GetStockItemsFullByIds",
        request={"StockItemIds": [item["StockItemId"], NEW_FC], "DataRequirements": [0]},
    )
    (found,) = reply["StockItemsFullExtended"]
    assert found["StockItemId"] == item["StockItemId"] and found["StockLevels"]


def test_max_ids_per_call_cap(api: Api) -> None:
    """With a configured cap, a larger batch gets the Linnworks "maximum items count" 400."""
    api.lw.configure(max_ids_per_call=2)
    ids = api.lw.create_orders(3)
    reply = api.call("Orders/GetOrdersById", pkOrderIds=ids)
    assert reply.status_code == 400
    assert reply.json()["Message"] == "The maximum items count for this call is 2"


def test_sorting_and_additional_filter(api: Api, fc: str) -> None:
    """Sorting by date descending reverses the order; additionalFilter searches the order number."""
    ids = api.lw.create_orders(3, fc)
    sorting = [{"FieldCode": "GENERAL_INFO_DATE", "Direction": "Descending", "Order": 1}]
    assert api.ok("Orders/GetAllOpenOrders", fulfilmentCenter=fc, sorting=sorting) == ids[::-1]
    number = api.lw.order(ids[1])["NumOrderId"]
    found = api.ok(
        "Orders/GetAllOpenOrders", fulfilmentCenter=fc, additionalFilter=str(number), exactMatch=True
    )
    assert found == [ids[1]]
