"""The setup flow makes the fulfilment centre and the export identifier once; a rerun changes nothing."""

from __future__ import annotations

from uuid import UUID

from flows.setup import setup_fulfilment_centre
from tests.flows.conftest import FlowEnv


def _writes(env: FlowEnv) -> int:
    calls = env.linnworks.call_counts()
    return sum(
        calls.get(m, 0)
        for m in ("Locations/AddLocation", "Locations/UpdateLocation", "OpenOrders/SaveIdentifier")
    )


def test_second_setup_changes_nothing(flow_env: FlowEnv) -> None:
    """After setup, another run makes no AddLocation, UpdateLocation or SaveIdentifier call."""
    before = _writes(flow_env)
    setup_fulfilment_centre()
    assert _writes(flow_env) == before
    locations = [
        loc for loc in flow_env.linnworks.account.locations.values() if loc["LocationName"] == "3PL Warehouse"
    ]
    assert len(locations) == 1
    assert locations[0]["IsFulfillmentCenter"] and locations[0]["FulfilmentCenterDeductStockWhenProcessed"]
    tags = [i["Tag"] for i in flow_env.linnworks.identifiers()]
    assert tags.count("SENT_TO_3PL") == 1


def test_existing_plain_location_is_made_a_fulfilment_centre(flow_env: FlowEnv) -> None:
    """A location with the name but without the FC flags is updated in place, not duplicated."""
    flow_env.linnworks.add_location("Second Warehouse")
    from tasks.context import build_runtime, registered_runtime

    settings = flow_env.settings.model_copy(update={"fulfilment_centre_name": "Second Warehouse"})
    runtime = build_runtime(settings)
    try:
        with registered_runtime(runtime):
            setup_fulfilment_centre()
    finally:
        runtime.close()
    matching = [
        loc
        for loc in flow_env.linnworks.account.locations.values()
        if loc["LocationName"] == "Second Warehouse"
    ]
    assert len(matching) == 1
    assert matching[0]["IsFulfillmentCenter"] and matching[0]["FulfilmentCenterDeductStockWhenProcessed"]


def test_setup_refreshes_the_cached_location_lookup(flow_env: FlowEnv) -> None:
    """After the location is replaced and setup runs again, the flows see the new id, not the cached one."""
    from prefect import flow

    from tasks.setup import find_fulfilment_centre

    @flow
    def lookup() -> UUID:
        """What export-orders and reconcile-shipments get for the location (cached for ten minutes)."""
        return find_fulfilment_centre(flow_env.account, flow_env.settings.fulfilment_centre_name)

    name = flow_env.settings.fulfilment_centre_name
    old = lookup()
    assert str(old) == flow_env.location_id
    with flow_env.linnworks._lock:  # someone renames the old location in the Linnworks UI
        flow_env.linnworks.account.locations[flow_env.location_id]["LocationName"] = "Old Warehouse"
    setup_fulfilment_centre()
    new = lookup()
    assert new != old
    renamed = [loc for loc in flow_env.linnworks.account.locations.values() if loc["LocationName"] == name]
    assert [loc["StockLocationId"] for loc in renamed] == [str(new)]
