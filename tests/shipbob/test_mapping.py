"""The 2026-01 mappings one at a time: financials, every documented cancel reply, the catalogue cases."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from clients.errors import MalformedResponseError
from clients.threepl import CancelOutcome, CatalogueItem
from tests.shipbob.helpers import json_reply, make_order, order_json, script


def _created(request: httpx.Request) -> httpx.Response:
    return json_reply(order_json(777, "LW-1"), status=201)


@pytest.mark.parametrize(
    ("currency", "goods_total", "expected"),
    [
        pytest.param("USD", Decimal("24.50"), {"total_price": 24.5}, id="usd-known"),
        pytest.param("GBP", Decimal("24.50"), None, id="gbp: shipbob's total is USD"),
        pytest.param("USD", None, None, id="usd-unknown-total"),
    ],
)
def test_total_price_is_sent_only_in_usd_and_only_when_known(
    currency: str, goods_total: Decimal | None, expected: dict[str, Any] | None
) -> None:
    """financials.total_price is ShipBob's USD goods total; anything else is left out, not guessed."""
    replies = script(_created)
    order = make_order().model_copy(update={"currency": currency, "goods_total": goods_total})
    replies.adapter().submit_order(order)
    body = json.loads(replies.requests[0].content)
    assert body.get("financials") == expected
    assert body["type"] == "DTC" and body["products"][0]["name"] == "Widget"
    assert replies.requests[0].url.path == "/2026-01/order"


def _cancel_reply(status: str, reasons: list[str | None]) -> dict[str, Any]:
    results = [
        {"action": "Cancel", "is_success": reason is None, "reason": reason, "shipment_id": 10 + index}
        for index, reason in enumerate(reasons)
    ]
    return {"order_id": 501, "status": status, "canceled_shipment_results": results, "order": {}}


@pytest.mark.parametrize(
    ("reply", "outcome", "detail"),
    [
        pytest.param(json_reply(_cancel_reply("Success", [None])), CancelOutcome.CANCELLED, "", id="success"),
        pytest.param(
            json_reply(_cancel_reply("Failure", ["Shipment already shipped"])),
            CancelOutcome.TOO_LATE,
            "Shipment already shipped",
            id="failure",
        ),
        pytest.param(
            json_reply(_cancel_reply("PartialSuccess", [None, "Picked"])),
            CancelOutcome.TOO_LATE,
            "Picked",
            id="partial: something still ships",
        ),
        pytest.param(json_reply(None, status=404), CancelOutcome.NOT_FOUND, "", id="404"),
        pytest.param(
            json_reply({"orderId": ["Order 501 is already cancelled."]}, status=422),
            CancelOutcome.CANCELLED,
            "already cancelled",
            id="422-already-cancelled",
        ),
        pytest.param(
            json_reply({"errors": ["Order cannot be cancelled in its current state"]}, status=422),
            CancelOutcome.TOO_LATE,
            "Order cannot be cancelled in its current state",
            id="422-refused",
        ),
    ],
)
def test_every_documented_cancel_reply_maps_onto_a_result(
    reply: httpx.Response, outcome: CancelOutcome, detail: str
) -> None:
    """POST /order/{id}:cancel: Success, Failure, PartialSuccess, 404 and both kinds of 422."""
    replies = script(json_reply([order_json(501, "LW-1")]), reply)
    result = replies.adapter().cancel_order("LW-1", "customer asked")
    assert (result.outcome, result.detail) == (outcome, detail)
    assert replies.requests[1].url.path == "/2026-01/order/501:cancel"


def _products(*products: dict[str, Any]) -> httpx.Response:
    return json_reply({"items": list(products), "next": None, "first": None, "last": None, "prev": None})


def _product(product_id: int, *variants: tuple[int, str, str]) -> dict[str, Any]:
    return {
        "id": product_id,
        "name": variants[0][2],
        "variants": [{"id": vid, "sku": sku, "name": name, "barcodes": None} for vid, sku, name in variants],
    }


def test_a_sku_on_two_products_is_refused_with_their_ids() -> None:
    """ShipBob's duplicate SKU: neither product is touched, and the result names both."""
    replies = script(_products(_product(1, (11, "SKU-1", "A")), _product(2, (21, "SKU-1", "B"))))
    [result] = replies.adapter().upsert_items([CatalogueItem(sku="SKU-1", title="A")])
    assert not result.ok and "1, 2" in result.detail and "merge" in result.detail
    assert len(replies.requests) == 1


def test_a_changed_variant_is_patched_by_id_and_partial_sku_matches_are_ignored() -> None:
    """Only an exact SKU counts (SKU-10 is not SKU-1); the variant and its one-variant product are renamed."""
    catalogue = _products(_product(1, (11, "SKU-1", "Old")), _product(2, (21, "SKU-10", "Other")))
    replies = script(catalogue, json_reply(_product(1, (11, "SKU-1", "New"))))
    [result] = replies.adapter().upsert_items([CatalogueItem(sku="SKU-1", title="New", barcode="5012")])
    assert (result.ok, result.detail) == (True, "updated")
    patch = replies.requests[1]
    assert (patch.method, patch.url.path) == ("PATCH", "/2026-01/product/1")
    assert json.loads(patch.content) == {
        "name": "New",
        "variants": [{"id": 11, "name": "New", "barcodes": [{"value": "5012"}]}],
    }


def test_inventory_follows_next_links_on_the_same_host_only() -> None:
    """Usable on hand = fulfillable + committed; a next link to another host is refused (token leak)."""
    level = {"inventory_id": 1, "sku": "SKU-1", "total_on_hand_quantity": 9}
    first = json_reply(
        {"items": [{**level, "total_fulfillable_quantity": 5, "total_committed_quantity": 3}],
         "next": "/2026-01/inventory-level?PageSize=250&Cursor=1"}
    )  # fmt: skip
    elsewhere = json_reply({"items": [], "next": "https://evil.example/steal"})
    replies = script(first, elsewhere)
    with pytest.raises(MalformedResponseError, match="leaves its host"):
        replies.adapter().fetch_inventory()
    assert replies.requests[1].url == "https://api.shipbob.test/2026-01/inventory-level?PageSize=250&Cursor=1"
    snapshot = script(first, json_reply({"items": [], "next": None})).adapter().fetch_inventory()
    assert [(level.sku, level.on_hand) for level in snapshot.levels] == [("SKU-1", 8)]
