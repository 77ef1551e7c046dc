"""Batched helpers split long id lists into calls of batch_size and join the results in order."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from clients.linnworks import StockLevelUpdate

from .fakes import FakeLinnworks, make_client

IDS = [uuid.UUID(int=n + 1) for n in range(7)]


def _order(order_id: str) -> dict[str, object]:
    return {
        "OrderId": order_id,
        "NumOrderId": 1,
        "GeneralInfo": {"Status": 1},
        "ShippingInfo": {},
        "CustomerInfo": {"Address": {}},
        "TotalsInfo": {},
        "Items": [],
    }


def _echo_orders(request: httpx.Request) -> httpx.Response:
    ids = json.loads(dict(httpx.QueryParams(request.content.decode()))["pkOrderIds"])
    return httpx.Response(200, json=[_order(i) for i in ids])


def _echo_assign(request: httpx.Request) -> httpx.Response:
    ids = json.loads(dict(httpx.QueryParams(request.content.decode()))["request"])["OrderIds"]
    return httpx.Response(200, json={"Changed": ids[:1], "NotChanged": ids[1:]})


def _echo_process(request: httpx.Request) -> httpx.Response:
    ids = json.loads(dict(httpx.QueryParams(request.content.decode()))["ordersIds"])
    return httpx.Response(200, json=[{"OrderId": i, "Processed": True, "Error": None} for i in ids])


def _echo_levels(request: httpx.Request) -> httpx.Response:
    rows = json.loads(dict(httpx.QueryParams(request.content.decode()))["stockLevels"])
    return httpx.Response(200, json=[{"StockLevel": r["Level"], "SKU": r["SKU"]} for r in rows])


def test_get_orders_by_id_batched() -> None:
    """Seven ids in batches of three make three calls and come back in request order."""
    fake = FakeLinnworks(ok={"Orders/GetOrdersById": _echo_orders})
    orders = make_client(fake).get_orders_by_id_batched(IDS, batch_size=3)
    assert [o.order_id for o in orders] == IDS
    assert [len(json.loads(c.fields["pkOrderIds"])) for c in fake.data_calls()] == [3, 3, 1]


def test_assign_identifier_batched_merges_results() -> None:
    """Assign results of every batch are merged."""
    fake = FakeLinnworks(ok={"OpenOrders/AssignOrderIdentifier": _echo_assign})
    result = make_client(fake).assign_order_identifier_batched(IDS, "SENT", batch_size=4)
    assert result.changed == [IDS[0], IDS[4]]
    assert len(result.not_changed) == 5


def test_process_in_batches_yields_per_batch() -> None:
    """Processing in batches yields each batch's results as soon as that call returns."""
    fake = FakeLinnworks(ok={"Orders/ProcessOrdersInBatch": _echo_process})
    batches = make_client(fake).process_orders_in_batches(IDS, batch_size=5)
    first = next(batches)
    assert len(first) == 5 and len(fake.data_calls()) == 1
    assert len(next(batches)) == 2


def test_set_stock_level_batched() -> None:
    """Stock rows are written batch_size at a time."""
    fake = FakeLinnworks(ok={"Stock/SetStockLevel": _echo_levels})
    rows = [StockLevelUpdate(sku=f"S{n}", location_id=IDS[0], level=n) for n in range(5)]
    written = make_client(fake).set_stock_level_batched(rows, batch_size=2)
    assert [w.stock_level for w in written] == [0, 1, 2, 3, 4]
    assert len(fake.data_calls()) == 3


def test_empty_batches_make_no_call() -> None:
    """No ids, no call."""
    fake = FakeLinnworks()
    client = make_client(fake)
    assert client.get_orders_by_id_batched([]) == []
    assert client.set_stock_level_batched([]) == []
    assert fake.seen == []


def test_batch_size_must_be_positive() -> None:
    """A batch size below one is a usage error."""
    with pytest.raises(ValueError):
        make_client(FakeLinnworks()).get_orders_by_id_batched(IDS, batch_size=0)
