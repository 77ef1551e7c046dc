"""The export and reconcile flows move orders from Linnworks through the 3PL and back."""

from __future__ import annotations

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import State
from tests.flows.conftest import FlowEnv


def test_orders_are_exported_shipped_tracked_and_processed(flow_env: FlowEnv) -> None:
    """Every paid open order at the fulfilment centre ends processed in Linnworks with its tracking number."""
    created = flow_env.create_orders(5)
    assert export_orders()["exported"] == 5
    flow_env.advance(hours=2)
    counts = reconcile_shipments()
    assert counts["processed"] == 5
    for reference in created:
        order = flow_env.linnworks.order(reference)
        record = flow_env.runtime.ledger.get(reference)
        assert record is not None and record.state is State.PROCESSED
        assert order["Processed"] is True
        assert order["ShippingInfo"]["TrackingNumber"] == record.tracking_number
    assert len(flow_env.warehouse.list_orders()) == 5
