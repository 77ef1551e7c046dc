"""The client against the sandbox answering as .NET does: nulls for empty values, strict GUIDs, empty class.

Each test names one point of issue 8; each failed against the client before the fix (the sandbox's replies
and its GUID binding follow the official SDK, not the client's assumptions).
"""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
import pytest

from clients.linnworks import (
    ZERO_GUID,
    ExtendedProperty,
    Identifier,
    LinnworksClient,
    OrderDetails,
    StockItemsFullDataRequirement,
    StockLocation,
)
from clients.linnworks.models import WIRE
from sandbox.linnworks import LinnworksSandbox
from tasks.mapping import not_exportable_reason
from tasks.notes import add_order_note

TAG = "SENT_TO_3PL"


@pytest.fixture
def centre(linnworks: LinnworksClient) -> StockLocation:
    linnworks.add_location(StockLocation(location_name="3PL Leeds", is_fulfillment_center=True))
    return next(loc for loc in linnworks.get_stock_locations() if loc.location_name == "3PL Leeds")


def _order(sandbox: LinnworksSandbox, centre: StockLocation) -> UUID:
    return UUID(sandbox.create_orders(1, str(centre.stock_location_id))[0])


def test_a_new_note_is_sent_with_a_fresh_guid(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox, centre: StockLocation
) -> None:
    """Point 1: a new note goes out with a new OrderNoteId (a null is refused), older notes keep theirs."""
    order_id = _order(sandbox, centre)
    assert add_order_note(linnworks, order_id, "first")
    (first,) = linnworks.get_order_notes(order_id)
    assert add_order_note(linnworks, order_id, "second")
    notes = linnworks.get_order_notes(order_id)
    assert [note.note for note in notes] == ["first", "second"]
    assert notes[0].order_note_id == first.order_note_id
    assert ZERO_GUID not in {note.order_note_id for note in notes}
    sent = sandbox.requests("Orders/SetOrderNotes")
    assert [call["status"] for call in sent] == [204, 204]


def test_a_new_extended_property_is_sent_with_a_fresh_guid(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox, centre: StockLocation
) -> None:
    """Point 1: a new extended property carries a RowId of its own, which Linnworks keeps."""
    order_id = _order(sandbox, centre)
    new = ExtendedProperty(name="3PL order id", value="SB-1", type="Info")
    (saved,) = linnworks.set_extended_properties(order_id, [new])
    assert saved.row_id == new.row_id != ZERO_GUID


def test_the_sandbox_refuses_a_null_non_nullable_guid(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox, centre: StockLocation
) -> None:
    """What the client no longer sends: OrderNoteId null is a binding failure (400), as in .NET."""
    order_id = _order(sandbox, centre)
    reply = _post_null_note_id(sandbox, linnworks, order_id)
    assert reply == 400
    assert "null for a non-nullable Guid in OrderNote" in str(sandbox.requests("Orders/SetOrderNotes")[-1])


def _post_null_note_id(sandbox: LinnworksSandbox, linnworks: LinnworksClient, order_id: UUID) -> int:
    linnworks.get_stock_locations()  # opens a session the sandbox knows
    token = sandbox.sessions()[-1]
    notes = '[{"OrderNoteId": null, "Note": "x", "Internal": true}]'
    reply = httpx.post(
        f"{sandbox.data_url}/api/Orders/SetOrderNotes",
        data={"orderId": str(order_id), "orderNotes": notes},
        headers={"Authorization": token},
    )
    return reply.status_code


def test_null_collections_read_as_empty(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox, centre: StockLocation
) -> None:
    """Point 3: NotChanged, StockLevels, Data, empty id and note lists arrive as null: they read as empty."""
    linnworks.save_identifier(Identifier(tag=TAG, name=TAG))
    order_id = _order(sandbox, centre)
    result = linnworks.assign_order_identifier([order_id], TAG)
    assert (result.changed, result.not_changed) == ([order_id], [])
    items = linnworks.get_stock_items_full(data_requirements=[StockItemsFullDataRequirement.PRICING])
    assert items and all(item.stock_levels == [] for item in items)
    assert linnworks.get_stock_items(page_number=99).data == []
    assert linnworks.get_all_open_orders(fulfilment_center=uuid4()) == []
    linnworks.set_order_notes(order_id, [])
    assert linnworks.get_order_notes(order_id) == []


def test_the_null_switch_off_sends_empty_values(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox, centre: StockLocation
) -> None:
    """With null_empty_values off the sandbox sends [] and the client reads the same result."""
    sandbox.configure(null_empty_values=False)
    try:
        linnworks.save_identifier(Identifier(tag=TAG, name=TAG))
        result = linnworks.assign_order_identifier([_order(sandbox, centre)], TAG)
        assert result.not_changed == []
        assert sandbox.requests("OpenOrders/AssignOrderIdentifier")[-1]["status"] == 200
    finally:
        sandbox.configure(null_empty_values=True)


def test_an_unknown_order_id_reads_as_none(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """Point 4: GetOrderById answers an unknown id with the empty class (GeneralInfo null): not found."""
    assert linnworks.get_order_by_id(uuid4()) is None
    assert sandbox.requests("Orders/GetOrderById")[-1]["status"] == 200


def test_the_location_falls_back_to_general_info(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox, centre: StockLocation
) -> None:
    """Point 5: an order whose FulfilmentLocationId is unset (zero GUID) is placed by GeneralInfo.Location."""
    order_id = _order(sandbox, centre)
    order = linnworks.get_order_by_id(order_id)
    assert order is not None
    raw = order.model_dump(mode="json", by_alias=True)
    raw["FulfilmentLocationId"] = str(ZERO_GUID)
    raw["GeneralInfo"]["Location"] = str(centre.stock_location_id)
    unset = OrderDetails.model_validate(raw, **WIRE)
    assert unset.location_id == centre.stock_location_id
    assert not_exportable_reason(unset, centre.stock_location_id, TAG) is None
