"""ShipBob orders turned into events: grouping, finality, holds, cancellations, and quarantine."""

from __future__ import annotations

import json
from typing import Any

import httpx

from clients.threepl import EventKind, WrittenTracking
from tests.shipbob.helpers import json_reply, order_json, parcel_json, script


def _page(*orders: Any) -> httpx.Response:
    return json_reply(list(orders), headers={"Total-Pages": "1", "Page-Number": "1"})


def test_parcels_of_one_dispatch_form_one_final_shipment() -> None:
    """Two parcels that left together are one shipment with two packages, final for a fulfilled order."""
    order = order_json(status="Fulfilled", shipments=[parcel_json(9002, "1Z2"), parcel_json(9001, "1Z1")])
    page = script(_page(order)).adapter().poll_events(None)
    shipments = [e for e in page.events if e.kind is EventKind.SHIPMENT]
    assert len(shipments) == 1
    event = shipments[0]
    assert event.event_id == "shipbob:501:shipment:9001+9002"
    assert event.shipment is not None and event.shipment.is_final
    assert [p.tracking_number for p in event.shipment.packages] == ["1Z1", "1Z2"]
    assert (
        event.shipment.packages[0].lines[0].sku == "SKU-1"
        and event.shipment.packages[0].lines[0].quantity == 2
    )


def test_partial_order_first_dispatch_is_not_final() -> None:
    """A partially fulfilled order's shipment is not final; the later dispatch of a fulfilled one is."""
    early = parcel_json(9001, "1Z1")
    late = {**parcel_json(9003, "1Z3"), "actual_fulfillment_date": "2026-03-03T10:00:00Z"}
    partial = (
        script(_page(order_json(status="PartiallyFulfilled", shipments=[early]))).adapter().poll_events(None)
    )
    done = script(_page(order_json(status="Fulfilled", shipments=[early, late]))).adapter().poll_events(None)
    assert [e.shipment.is_final for e in partial.events if e.shipment] == [False]
    assert [(e.event_id, e.shipment.is_final) for e in done.events if e.shipment] == [
        ("shipbob:501:shipment:9001", False),
        ("shipbob:501:shipment:9003", True),
    ]


def test_hold_backorder_and_cancel_events() -> None:
    """On-hold, out-of-stock and cancelled orders produce their own events with stable keys."""
    held = order_json(
        501, "LW-1", shipments=[{"id": 1, "status": "OnHold", "last_update_at": "2026-03-02T09:30:00Z"}]
    )
    short = order_json(
        502,
        "LW-2",
        status="Exception",
        shipments=[
            {
                "id": 2,
                "status": "Exception",
                "status_details": [{"name": "OutOfStock"}],
                "last_update_at": "2026-03-02T09:40:00Z",
            }
        ],
    )
    gone = order_json(
        503,
        "LW-3",
        status="Cancelled",
        shipments=[{"id": 3, "status": "Cancelled", "last_update_at": "2026-03-02T09:50:00Z"}],
    )
    page = script(_page(held, short, gone)).adapter().poll_events(None)
    kinds = {(e.reference, e.kind) for e in page.events if e.kind is not EventKind.ACCEPTED}
    assert kinds == {
        ("LW-1", EventKind.ON_HOLD),
        ("LW-2", EventKind.BACKORDERED),
        ("LW-3", EventKind.CANCELLED),
    }
    again = script(_page(held, short, gone)).adapter().poll_events(None)
    assert [e.event_id for e in page.events] == [e.event_id for e in again.events]


def test_malformed_orders_are_quarantined_and_the_rest_go_on() -> None:
    """Bad quantities, missing tracking and non-objects quarantine only their own order."""
    good = order_json(510, "LW-GOOD", status="Fulfilled", shipments=[parcel_json(9100, "1ZGOOD")])
    bad = [
        order_json(511, "LW-STR", status="Fulfilled", shipments=[parcel_json(9101, quantity="5")]),
        order_json(512, "LW-NEG", status="Fulfilled", shipments=[parcel_json(9102, quantity=-1)]),
        order_json(513, "LW-NOTRK", status="Fulfilled", shipments=[parcel_json(9103, tracking=None)]),
        order_json(514, "LW-BLANK", status="Fulfilled", shipments=[parcel_json(9104, tracking="  ")]),
        "<order 515>",
        {**order_json(516, "LW-LONG"), "reference_id": "x" * 10_000, "status": "Processing"},
    ]
    page = script(_page(good, *bad)).adapter().poll_events(None)
    shipped = [e.reference for e in page.events if e.kind is EventKind.SHIPMENT]
    assert shipped == ["LW-GOOD"]
    assert len(page.quarantined) == 5
    reasons = " | ".join(reason for _, reason in page.quarantined)
    assert "tracking" in reasons and "quantity" in reasons
    assert any("LW-STR" in record for record, _ in page.quarantined)
    assert any(e.reference == "x" * 10_000 for e in page.events), "a long but valid reference is still read"


def test_paging_follows_total_pages_and_checkpoint_moves() -> None:
    """Every page is read (two per poll allowed here), and the next pass starts an overlap before the
    newest update seen. The first pass reads no separate tracking queue: a stream from the beginning lists
    every queued order."""
    first = json_reply([order_json(501, "LW-1")], headers={"Total-Pages": "2"})
    second = json_reply(
        [order_json(502, "LW-2", status="Fulfilled", shipments=[parcel_json()])], headers={"Total-Pages": "2"}
    )
    replies = script(first, second)
    page = replies.adapter(max_pages_per_poll=2).poll_events(None)
    assert {e.reference for e in page.events} == {"LW-1", "LW-2"}
    assert [r.url.params["Page"] for r in replies.requests] == ["1", "2"]
    assert all("HasTracking" not in r.url.params for r in replies.requests)
    assert all(r.url.params["SortOrder"] == "Oldest" for r in replies.requests)
    cursor = json.loads(page.checkpoint or "")
    assert cursor["since"] == "2026-03-02T09:50:00+00:00" and cursor["page"] == 1
    assert page.caught_up, "the pass is complete: polling again would only re-read the overlap"


def test_poll_continues_where_a_capped_pass_stopped() -> None:
    """A pass longer than max_pages_per_poll resumes at the next page with the same start time."""
    checkpoint = json.dumps({"v": 2, "since": "2026-03-02T09:00:00+00:00", "page": 1, "newest": None})
    replies = script(_page(), json_reply([order_json(501, "LW-1")], headers={"Total-Pages": "3"}))
    page = replies.adapter(max_pages_per_poll=1).poll_events(checkpoint)
    cursor = json.loads(page.checkpoint or "")
    assert cursor["page"] == 2 and cursor["since"] == "2026-03-02T09:00:00+00:00"
    assert not page.caught_up, "pages of this pass are still unread"
    requests_before = len(replies.requests)
    replies.adapter(max_pages_per_poll=1).poll_events(page.checkpoint)
    assert len(replies.requests) == requests_before + 1, "mid-pass: the queue is not read again"
    assert replies.requests[-1].url.params["Page"] == "2"
    assert replies.requests[-1].url.params["LastUpdateStartDate"] == "2026-03-02T09:00:00Z"


def test_checkpoint_filters_by_last_update() -> None:
    """A checkpoint turns into LastUpdateStartDate in UTC."""
    replies = script(_page())
    checkpoint = json.dumps({"v": 1, "since": "2026-03-02T09:00:00+00:00", "page": 1, "newest": None})
    page = replies.adapter().poll_events(checkpoint)
    assert "LastUpdateStartDate" not in replies.requests[0].url.params  # the rest of the tracking queue
    assert replies.requests[1].url.params["LastUpdateStartDate"] == "2026-03-02T09:00:00Z"
    assert page.events == [] and json.loads(page.checkpoint or "")["since"] == "2026-03-02T09:00:00+00:00"


def test_a_pass_starts_with_the_tracking_queue_the_stream_will_not_list() -> None:
    """Shipped orders last updated before the pass's start come from HasTracking=true&IsTrackingUploaded=
    false up to that start (however old); the stream from that start lists the queued orders after it."""
    shipped = order_json(503, "LW-OLD", status="Fulfilled", shipments=[parcel_json()])
    replies = script(_page(shipped), _page())
    checkpoint = json.dumps({"v": 2, "since": "2026-03-09T00:00:00+00:00", "page": 1, "newest": None})
    page = replies.adapter().poll_events(checkpoint)
    queue, stream = (request.url.params for request in replies.requests)
    assert (queue["HasTracking"], queue["IsTrackingUploaded"]) == ("true", "false")
    assert "LastUpdateStartDate" not in queue
    assert queue["LastUpdateEndDate"] == stream["LastUpdateStartDate"] == "2026-03-09T00:00:00Z"
    assert [e.reference for e in page.events if e.kind is EventKind.SHIPMENT] == ["LW-OLD"]


def test_confirm_tracking_marks_only_the_parcels_the_ledger_recorded() -> None:
    """The recorded parcels (the ledger's shipment ids, parcel ids joined by +) are marked uploaded in one
    call, with no read first; a parcel that shipped later is not among them and stays queued."""
    results = [{"shipmentId": parcel, "isSuccess": True} for parcel in (9001, 9002, 9005)]
    replies = script(json_reply({"results": results, "summary": {"total": 3}}))
    replies.adapter().confirm_tracking(
        [
            WrittenTracking(
                reference="LW-1",
                remote_id="501",
                tracking_numbers=("1Z-A", "1Z-B"),
                shipment_ids=("9001+9002",),
            ),
            WrittenTracking(
                reference="LW-2",
                remote_id="502",
                tracking_numbers=("1Z-E",),
                shipment_ids=("9005", "not-a-parcel"),
            ),
        ]
    )
    [mark] = replies.requests
    assert mark.url.path == "/2026-01/shipment:batchUpdateTrackingUpload"
    assert json.loads(mark.content) == {"shipment_ids": [9001, 9002, 9005], "is_tracking_uploaded": True}


def test_a_shipment_back_in_processing_after_creation_is_a_release() -> None:
    """ShipBob has no release status: the open shipment in Processing again, updated after it was created,
    is a ``released`` event keyed by its update; a Processing shipment never updated gives none."""
    created = "2026-03-02T09:00:00Z"
    released = order_json(
        501,
        "LW-1",
        shipments=[
            {
                "id": 1,
                "status": "Processing",
                "created_date": created,
                "last_update_at": "2026-03-02T10:00:00Z",
            }
        ],
    )
    fresh = order_json(
        502,
        "LW-2",
        shipments=[{"id": 2, "status": "Processing", "created_date": created, "last_update_at": created}],
    )
    page = script(_page(released, fresh)).adapter().poll_events(None)
    releases = [(e.reference, e.event_id) for e in page.events if e.kind is EventKind.RELEASED]
    assert releases == [("LW-1", "shipbob:501:released:1:2026-03-02T10:00:00+00:00")]
