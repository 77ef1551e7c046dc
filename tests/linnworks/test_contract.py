"""Contract tests: every endpoint the client wraps, called over HTTP against the Linnworks sandbox.

Each test asserts the business effect (read back through the API), not just a 2xx. The last test checks
every request these tests sent against the sandbox's copy of the official spec, and that every endpoint
of the client was exercised.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from clients.errors import AuthenticationError, OutcomeUnknownError, RecordError, StopError
from clients.linnworks import (
    ENDPOINTS,
    ZERO_GUID,
    BooleanFieldFilter,
    ClientContext,
    ExtendedProperty,
    FieldsFilter,
    Identifier,
    LinnworksClient,
    ListFieldFilter,
    OrderNote,
    OrderStatus,
    StockItemsFullByIdsDataRequirement,
    StockItemsFullDataRequirement,
    StockLevelUpdate,
    StockLocation,
    UpdateOrderShippingInfo,
)
from sandbox.linnworks import LinnworksSandbox, validate_call
from sandbox.linnworks.spec import load_spec

from .conftest import SENT

TAG = "SENT_TO_3PL"

# The last test reads what the others recorded in SENT: under xdist the module runs on one worker.
pytestmark = pytest.mark.xdist_group("linnworks-contract")


def _fulfilment_centre(linnworks: LinnworksClient, name: str = "3PL Leeds") -> StockLocation:
    linnworks.add_location(
        StockLocation(
            location_name=name, is_fulfillment_center=True, fulfilment_center_deduct_stock_when_processed=True
        )
    )
    return next(loc for loc in linnworks.get_stock_locations() if loc.location_name == name)


def _orders(
    sandbox: LinnworksSandbox, location: StockLocation, count: int = 1, **flags: object
) -> list[UUID]:
    return [UUID(i) for i in sandbox.create_orders(count, str(location.stock_location_id), **flags)]  # type: ignore[arg-type]


def test_add_and_update_location(linnworks: LinnworksClient) -> None:
    """AddLocation creates the FC; UpdateLocation changes it; GetStockLocations shows both states."""
    before = linnworks.get_stock_locations()
    assert [loc.stock_location_id for loc in before] == [ZERO_GUID]
    linnworks.add_location(StockLocation(location_name="3PL Leeds", is_fulfillment_center=True, city="Leeds"))
    centre = next(loc for loc in linnworks.get_stock_locations() if loc.location_name == "3PL Leeds")
    assert centre.is_fulfillment_center and not centre.fulfilment_center_deduct_stock_when_processed
    assert centre.stock_location_id != ZERO_GUID
    linnworks.update_location(
        centre.model_copy(update={"fulfilment_center_deduct_stock_when_processed": True})
    )
    after = next(
        loc for loc in linnworks.get_stock_locations() if loc.stock_location_id == centre.stock_location_id
    )
    assert after.fulfilment_center_deduct_stock_when_processed and after.city == "Leeds"


def test_identifiers_saved_and_renamed(linnworks: LinnworksClient) -> None:
    """SaveIdentifier with id 0 creates an identifier; with its id it renames it; GetIdentifiers lists it."""
    system = {ident.tag for ident in linnworks.get_identifiers()}
    assert TAG not in system
    created = linnworks.save_identifier(Identifier(tag=TAG, name="Sent to 3PL"))
    assert created.identifier_id > 0 and created.is_custom
    linnworks.save_identifier(created.model_copy(update={"name": "Sent to warehouse"}))
    mine = [ident for ident in linnworks.get_identifiers() if ident.tag == TAG]
    assert [ident.name for ident in mine] == ["Sent to warehouse"]


def test_open_orders_and_details(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """GetAllOpenOrders lists the FC's open orders (filters apply); GetOrdersById/GetOrderById read them."""
    centre = _fulfilment_centre(linnworks)
    mine = _orders(sandbox, centre, 3)
    parked = _orders(sandbox, centre, 1, parked=True)
    sandbox.create_orders(2)  # at the Default location: not ours
    listed = linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id)
    assert set(listed) == set(mine + parked)
    unparked = FieldsFilter(
        boolean_fields=[BooleanFieldFilter(field_code="GENERAL_INFO_PARKED", value=False)]
    )
    assert set(
        linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id, filters=unparked)
    ) == set(mine)
    details = linnworks.get_orders_by_id(mine)
    assert [order.order_id for order in details] == mine
    first = details[0]
    assert first.location_id == centre.stock_location_id and not first.processed
    assert first.items and all(item.sku and item.quantity > 0 for item in first.items)
    assert first.customer_info.address.full_name and first.totals_info.currency
    single = linnworks.get_order_by_id(mine[1])
    assert single is not None and single.num_order_id == details[1].num_order_id
    assert linnworks.get_orders_by_id_batched(mine, batch_size=2) == details


def test_identifier_assignment_is_visible_and_filterable(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox
) -> None:
    """AssignOrderIdentifier shows in GeneralInfo.Identifiers and in the Not filter; Unassign removes it."""
    centre = _fulfilment_centre(linnworks)
    linnworks.save_identifier(Identifier(tag=TAG, name="Sent to 3PL"))
    first, second = _orders(sandbox, centre, 2)
    assert linnworks.assign_order_identifier([first], TAG).changed == [first]
    assert linnworks.assign_order_identifier_batched([first, second], TAG, batch_size=1).not_changed == [
        first
    ]
    assert TAG in linnworks.get_orders_by_id([first])[0].general_info.identifier_tags
    not_sent = FieldsFilter(
        list_fields=[ListFieldFilter(field_code="GENERAL_INFO_IDENTIFIER", type="Not", value=TAG)]
    )
    assert linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id, filters=not_sent) == []
    assert linnworks.unassign_order_identifier([first], TAG).changed == [first]
    assert TAG not in linnworks.get_orders_by_id([first])[0].general_info.identifier_tags
    assert linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id, filters=not_sent) == [
        first
    ]


def test_shipping_info_then_fulfilment_centre_processing(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox
) -> None:
    """Tracking is written and read back; processing removes the order from open orders and deducts stock."""
    centre = _fulfilment_centre(linnworks)
    linnworks.set_stock_level(
        [StockLevelUpdate(sku="SOCK-BLK", location_id=centre.stock_location_id, level=10)]
    )
    [order_id] = _orders(sandbox, centre, 1, lines=[{"sku": "SOCK-BLK", "quantity": 2}])
    result = linnworks.set_order_shipping_info(order_id, UpdateOrderShippingInfo(tracking_number="JD0002211"))
    assert result.shipping_info is not None and result.shipping_info.tracking_number == "JD0002211"
    assert linnworks.get_orders_by_id([order_id])[0].shipping_info.tracking_number == "JD0002211"
    processed = linnworks.process_fulfilment_centre_order(order_id)
    assert processed.processed and processed.error is None
    assert order_id not in linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id)
    assert linnworks.get_orders_by_id([order_id])[0].processed
    assert sandbox.stock_level("SOCK-BLK", str(centre.stock_location_id)) == 8
    with pytest.raises(RecordError, match="processed"):
        linnworks.set_order_shipping_info(order_id, UpdateOrderShippingInfo(tracking_number="OTHER"))


def test_process_order_and_batch(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """ProcessOrder and ProcessOrdersInBatch process open orders and report a parked one as not processed."""
    centre = _fulfilment_centre(linnworks)
    single, good = _orders(sandbox, centre, 2)
    [parked] = _orders(sandbox, centre, 1, parked=True)
    assert linnworks.process_order(single, location_id=centre.stock_location_id).processed
    results = linnworks.process_orders_in_batch([good, parked], context=ClientContext(module="3PL"))
    outcome = {result.order_id: result for result in results}
    assert outcome[good].processed and not outcome[parked].processed and outcome[parked].error
    batched = [r for batch in linnworks.process_orders_in_batches([parked], batch_size=1) for r in batch]
    assert not batched[0].processed
    assert linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id) == [parked]


def test_cancel_order(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """CancelOrder moves an open order to cancelled; a parked order is refused with Linnworks' reason."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre)
    [parked] = _orders(sandbox, centre, 1, parked=True)
    linnworks.cancel_order(
        order_id, fulfilment_center=centre.stock_location_id, refund=Decimal(0), note="Out of stock"
    )
    cancelled = linnworks.get_orders_by_id([order_id])[0]
    assert cancelled.is_cancelled
    with pytest.raises(RecordError, match="parked"):
        linnworks.cancel_order(parked, fulfilment_center=centre.stock_location_id)


def test_change_status(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """ChangeStatus marks an unpaid order paid and returns the ids it changed."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre, 1, paid=False)
    assert linnworks.get_orders_by_id([order_id])[0].general_info.status == OrderStatus.UNPAID
    assert linnworks.change_status([order_id], OrderStatus.PAID) == [order_id]
    assert linnworks.get_orders_by_id([order_id])[0].general_info.status == OrderStatus.PAID


def test_extended_properties_and_notes(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """SetExtendedProperties and SetOrderNotes replace the lists that the Get methods then return."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre)
    saved = linnworks.set_extended_properties(
        order_id, [ExtendedProperty(name="3PL_REF", value="WH-55", type="Info")]
    )
    assert saved[0].row_id not in (None, ZERO_GUID)
    assert [(p.name, p.value) for p in linnworks.get_extended_properties(order_id)] == [("3PL_REF", "WH-55")]
    moment = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    linnworks.set_order_notes(
        order_id, [OrderNote(note="Sent to warehouse", order_id=order_id, note_date=moment)]
    )
    notes = linnworks.get_order_notes(order_id)
    assert [(n.note, n.note_date) for n in notes] == [("Sent to warehouse", moment)]
    assert linnworks.get_orders_by_id([order_id])[0].general_info.notes == 1


def test_general_and_customer_info(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """SetOrderGeneralInfo/SetOrderCustomerInfo take the object as read, changed; the change sticks."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre)
    order = linnworks.get_orders_by_id([order_id])[0]
    despatch_by = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    info = order.general_info.model_copy(
        update={"secondary_reference": "WH-55", "despatch_by_date": despatch_by}
    )
    linnworks.set_order_general_info(order_id, info)
    address = order.customer_info.address.model_copy(update={"town": "Harrogate"})
    totals = linnworks.set_order_customer_info(
        order_id, order.customer_info.model_copy(update={"address": address})
    )
    assert totals.currency == order.totals_info.currency
    again = linnworks.get_orders_by_id([order_id])[0]
    assert again.general_info.secondary_reference == "WH-55"
    assert again.general_info.despatch_by_date == despatch_by
    assert again.customer_info.address.town == "Harrogate"


def test_update_order_item(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """UpdateOrderItem changes a line's quantity, identified by RowId."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre, 1, lines=[{"sku": "SOCK-BLK", "quantity": 1}])
    order = linnworks.get_orders_by_id([order_id])[0]
    line = order.items[0].model_copy(update={"quantity": 3})
    result = linnworks.update_order_item(
        order_id,
        line,
        fulfilment_center=centre.stock_location_id,
        source=order.general_info.source or "",
        sub_source=order.general_info.sub_source or "",
    )
    assert result.item is not None and result.item.quantity == 3
    assert linnworks.get_orders_by_id([order_id])[0].items[0].quantity == 3


def test_stock_levels_and_items(linnworks: LinnworksClient) -> None:
    """SetStockLevel sets absolute levels at the FC; GetStockItems, GetStockItemsFull(ByIds) show them."""
    centre = _fulfilment_centre(linnworks)
    location = centre.stock_location_id
    written = linnworks.set_stock_level_batched(
        [
            StockLevelUpdate(sku="SOCK-BLK", location_id=location, level=40),
            StockLevelUpdate(sku="SOCK-WHT", location_id=location, level=7),
        ],
        batch_size=1,
    )
    assert [(row.sku, row.stock_level) for row in written] == [("SOCK-BLK", 40), ("SOCK-WHT", 7)]
    page = linnworks.get_stock_items(key_word="SOCK-BLK", location_id=location)
    assert [(item.sku, item.quantity) for item in page.data] == [("SOCK-BLK", 40)]
    full = linnworks.get_stock_items_full(
        keyword="SOCK-BLK",
        entries_per_page=10,
        data_requirements=[StockItemsFullDataRequirement.STOCK_LEVELS],
    )
    levels = {level.location_id: level.stock_level for level in full[0].stock_levels}
    assert levels[location] == 40
    by_ids = linnworks.get_stock_items_full_by_ids(
        [full[0].stock_item_id], [StockItemsFullByIdsDataRequirement.STOCK_LEVELS]
    )
    assert {level.location_id: level.stock_level for level in by_ids[0].stock_levels}[location] == 40
    everything = linnworks.get_stock_items_full(entries_per_page=200)
    assert len(everything) == len({item.stock_item_id for item in everything}) > 0
    assert linnworks.get_stock_items_full(entries_per_page=200, page_number=2) == []
    with pytest.raises(RecordError):
        linnworks.set_stock_level([StockLevelUpdate(sku="NO-SUCH-SKU", location_id=location, level=1)])


def test_injected_429_and_503_are_retried(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """A 429 storm and a 503 from the sandbox are ridden out by the retry policy on a read."""
    sandbox.add_fault(
        "rate_limit", "Inventory/GetStockLocations", count=2, retry_after="seconds", retry_after_seconds=0
    )
    sandbox.add_fault("server_error", "OpenOrders/GetIdentifiers", count=1, status=503)
    assert linnworks.get_stock_locations()
    assert linnworks.get_identifiers()
    assert sandbox.call_counts()["Inventory/GetStockLocations"] == 3


def test_lost_process_reply_is_outcome_unknown_and_reconcilable(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox
) -> None:
    """A dropped ProcessOrder reply raises OutcomeUnknownError, is not repeated; a re-read shows the truth."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre)
    sandbox.add_fault("drop_after", "Orders/ProcessOrder", count=1)
    with pytest.raises(OutcomeUnknownError):
        linnworks.process_order(order_id)
    assert sandbox.call_counts()["Orders/ProcessOrder"] == 1
    assert linnworks.get_orders_by_id([order_id])[0].processed


def test_slow_read_times_out_and_is_retried(sandbox: LinnworksSandbox) -> None:
    """A read slower than the client's timeout is abandoned and tried again, then succeeds."""
    from pydantic import SecretStr

    from .conftest import TIME_SCALE, RecordingTransport

    client = LinnworksClient(
        sandbox.application_id,
        SecretStr(sandbox.application_secret),
        SecretStr(sandbox.installation_token),
        auth_url=sandbox.auth_url,
        transport=RecordingTransport(SENT, "test_slow_read_times_out_and_is_retried"),
        timeout=0.3,
        time_scale=TIME_SCALE,
    )
    sandbox.add_fault("slow", "OpenOrders/GetIdentifiers", count=1, delay_seconds=1.0)
    with client:
        assert client.get_identifiers()
    assert sandbox.call_counts()["OpenOrders/GetIdentifiers"] == 2


def test_dropped_write_before_work_is_still_outcome_unknown(
    linnworks: LinnworksClient, sandbox: LinnworksSandbox
) -> None:
    """A connection dropped after sending a non-idempotent write is OutcomeUnknown even if nothing ran."""
    centre = _fulfilment_centre(linnworks)
    [order_id] = _orders(sandbox, centre)
    sandbox.add_fault("drop_before", "Orders/CancelOrder", count=1)
    with pytest.raises(OutcomeUnknownError):
        linnworks.cancel_order(order_id, fulfilment_center=centre.stock_location_id)
    assert not linnworks.get_orders_by_id([order_id])[0].processed, (
        "the re-read tells the caller it did not run"
    )


def test_revoked_session_is_renewed_once(linnworks: LinnworksClient, sandbox: LinnworksSandbox) -> None:
    """When the sandbox revokes the session, the client re-authenticates once and the call succeeds."""
    linnworks.get_stock_locations()
    sandbox.revoke_sessions()
    assert linnworks.get_stock_locations()
    assert sandbox.call_counts()["Auth/AuthorizeByApplication"] == 2


def test_bad_credentials_stop_with_a_clear_message(sandbox: LinnworksSandbox) -> None:
    """The sandbox refusing the installation token gives AuthenticationError naming what to fix."""
    from pydantic import SecretStr

    client = LinnworksClient(
        sandbox.application_id,
        SecretStr(sandbox.application_secret),
        SecretStr(str(uuid.uuid4())),
        auth_url=sandbox.auth_url,
    )
    with client, pytest.raises(AuthenticationError, match="LINNWORKS_INSTALLATION_TOKEN") as raised:
        client.get_stock_locations()
    assert sandbox.application_secret not in str(raised.value)
    assert isinstance(raised.value, StopError)


def test_every_request_conforms_to_the_spec_and_every_endpoint_is_covered() -> None:
    """Each recorded request binds per the spec (verb, path, exactly the declared names); all ran."""
    assert SENT, "run the whole module: this test checks what the contract tests above sent"
    spec = load_spec()
    problems: list[str] = []
    for sent in SENT:
        operation = spec.find(sent.path)
        if operation is None:
            problems.append(f"{sent.test}: unknown path {sent.path}")
            continue
        declared = sorted(p.name for p in operation.parameters)
        if sent.verb != operation.verb:
            problems.append(
                f"{sent.test}: {operation.name} sent with {sent.verb}, spec says {operation.verb}"
            )
        if sorted(sent.names) != declared:
            problems.append(
                f"{sent.test}: {operation.name} sent {sorted(sent.names)}, spec declares {declared}"
            )
        if sent.verb == "POST" and not (sent.content_type or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            problems.append(f"{sent.test}: {operation.name} POST without a form content type")
        problems += [
            f"{sent.test}: {operation.name}: {p}" for p in validate_call(sent.path, sent.verb, sent.params)
        ]
    assert problems == []
    covered = {spec.find(sent.path).name for sent in SENT if spec.find(sent.path) is not None}  # type: ignore[union-attr]
    assert set(ENDPOINTS) - covered == set()
