"""The sandbox answers as .NET does: empty values as null (switchable), strict GUIDs, the empty class."""

from __future__ import annotations

import httpx
import pytest

from sandbox.linnworks import LinnworksSandbox
from sandbox.linnworks.model import dotnet_nulls
from tests.sandbox_linnworks.conftest import ZERO_GUID, Api
from tests.sandbox_linnworks.test_shapes import assert_shape


def test_empty_values_become_null_at_every_depth() -> None:
    """Empty lists and strings are null, nested too; other values (0, False, {}) stay as they are."""
    value = {"A": [], "B": "", "C": [{"D": [], "E": 0, "F": False}], "G": {"H": ""}, "I": "x"}
    assert dotnet_nulls(value) == {"A": None, "B": None, "C": [{"D": None, "E": 0, "F": False}],
                                   "G": {"H": None}, "I": "x"}  # fmt: skip
    assert dotnet_nulls([]) is None


def test_replies_carry_null_for_empty_collections_by_default(api: Api, fc: str) -> None:
    """On by default: NotChanged, an empty open-order list and an empty note list are null."""
    assert api.lw.describe_settings()["null_empty_values"] is True
    api.ok("OpenOrders/SaveIdentifier", request={"Identifier": {"Tag": "SENT", "Name": "SENT"}})
    (order,) = api.lw.create_orders(1, fc)
    assigned = api.ok("OpenOrders/AssignOrderIdentifier", request={"OrderIds": [order], "Tag": "SENT"})
    assert assigned == {"Changed": [order], "NotChanged": None}
    assert api.ok("Orders/GetOrderNotes", verb="GET", orderId=order) is None
    assert api.ok("Orders/GetAllOpenOrders", fulfilmentCenter=ZERO_GUID) is None


def test_the_switch_off_sends_empty_lists_and_strings(api: Api, fc: str) -> None:
    """configure(null_empty_values=False): the same replies carry [] (and "" where a string is empty)."""
    api.lw.configure(null_empty_values=False)
    api.ok("OpenOrders/SaveIdentifier", request={"Identifier": {"Tag": "SENT", "Name": "SENT"}})
    (order,) = api.lw.create_orders(1, fc)
    assigned = api.ok("OpenOrders/AssignOrderIdentifier", request={"OrderIds": [order], "Tag": "SENT"})
    assert assigned == {"Changed": [order], "NotChanged": []}
    assert api.ok("Orders/GetOrderNotes", verb="GET", orderId=order) == []
    assert api.ok("Orders/GetAllOpenOrders", fulfilmentCenter=ZERO_GUID) == []


def test_the_switch_is_an_admin_setting(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """POST /_admin/settings turns it off and on, as the other settings."""
    reply = http.post(f"{lw.data_url}/_admin/settings", json={"null_empty_values": False})
    assert reply.status_code == 200 and reply.json()["null_empty_values"] is False
    assert lw.describe_settings()["null_empty_values"] is False


@pytest.mark.parametrize(
    ("method", "params", "refused"),
    [
        ("Orders/SetOrderNotes", {"orderNotes": [{"OrderNoteId": None, "Note": "x"}]}, True),
        ("Orders/SetOrderNotes", {"orderNotes": [{"OrderNoteId": "", "Note": "x"}]}, True),
        ("Orders/SetOrderNotes", {"orderNotes": [{"Note": "x"}]}, False),
        ("Orders/SetOrderNotes", {"orderNotes": [{"OrderNoteId": ZERO_GUID, "Note": "x"}]}, False),
        ("Orders/SetExtendedProperties", {"extendedProperties": [{"RowId": None, "Name": "a"}]}, True),
        ("Orders/SetExtendedProperties", {"extendedProperties": [{"Name": "a"}]}, False),
    ],
    ids=["note-id-null", "note-id-empty", "note-id-absent", "note-id-zero", "row-id-null", "row-id-absent"],
)
def test_a_null_non_nullable_guid_is_refused(
    api: Api, fc: str, method: str, params: dict[str, object], refused: bool
) -> None:
    """A Guid property the SDK does not make nullable cannot be null (400); absent means the zero GUID."""
    (order,) = api.lw.create_orders(1, fc)
    reply = api.call(method, orderId=order, **params)
    assert (reply.status_code == 400) is refused, reply.text
    if refused:
        assert reply.json() == {"Message": "The request is invalid."}
        assert "null for a non-nullable Guid" in str(api.lw.requests(method)[-1]["reason"])


def test_an_unknown_order_id_is_answered_with_the_empty_class(api: Api) -> None:
    """GetOrderById for an unknown id: 200 with a default OrderDetails (zero ids, GeneralInfo null)."""
    reply = api.ok("Orders/GetOrderById", verb="GET", pkOrderId="0b8f9a52-7f0e-4a0c-9a55-2b1c50f0c0de")
    assert (reply["OrderId"], reply["NumOrderId"], reply["GeneralInfo"], reply["Items"]) == (
        ZERO_GUID, 0, None, None,
    )  # fmt: skip
    assert_shape(api, "Orders/GetOrderById", reply)
