"""``LinnworksClient``: one typed method per Linnworks v1 endpoint lw3pl uses."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any
from uuid import UUID

import httpx
from pydantic import SecretStr

from clients._pacing import Pacer, SpacingPacer
from clients._retry import RetryPolicy
from clients.errors import RecordError

from ._http import Caller, Credentials, Reply, Safety
from ._orders import _ChangeOrderIdentifierRequest, _SaveIdentifiersRequest
from ._pacing import shared_pacer
from ._replies import (
    ASSIGN_RESULT,
    EXTENDED_PROPERTIES,
    IDENTIFIER,
    IDENTIFIERS,
    ITEM_RESULT,
    LOCATIONS,
    NOTES,
    ORDER,
    ORDERS,
    PROCESS_RESULT,
    PROCESS_RESULTS,
    TOTALS,
    TOTALS_RESULT,
    UUIDS,
    batches,
    is_empty_order,
    parse,
    parse_list,
)
from ._stock_calls import StockCalls
from .models import (
    AssignResult,
    ClientContext,
    ExtendedProperty,
    FieldsFilter,
    FieldSorting,
    Identifier,
    OrderCustomerInfo,
    OrderDetails,
    OrderGeneralInfo,
    OrderItem,
    OrderNote,
    OrderStatus,
    OrderTotalsInfo,
    ProcessOrderResult,
    StockLocation,
    UpdateOrderItemResult,
    UpdateOrderShippingInfo,
    UpdateTotalsResult,
)

__all__ = ["LinnworksClient"]

_DEFAULT_BATCH = 100
_ORDER_BATCH = 50  # GetOrdersById replies are large; 50 keeps one reply well under a megabyte


class LinnworksClient(StockCalls):
    """A synchronous, thread-safe client for the Linnworks v1 API.

    Args:
        application_id: the app's id (LINNWORKS_APPLICATION_ID).
        application_secret: the app's secret (LINNWORKS_APPLICATION_SECRET).
        installation_token: the token of the app's installation (LINNWORKS_INSTALLATION_TOKEN).
        auth_url: where Auth/AuthorizeByApplication lives; data calls go to the session's ``Server``.
        transport: an httpx transport (tests inject ``httpx.MockTransport``).
        pacer: paces calls below the per-method limits; default an in-process pacer shared by every client
            of the same account in this process (a private one when ``clock``/``sleep`` are injected).
        clock: monotonic seconds; sleep: how to wait (both injected for tests).
        retry: the retry policy (attempts, total time, backoff).
        timeout: seconds for connect/read/write of one HTTP exchange.
        time_scale: the partner's minute lasts ``60 / time_scale`` s (sandbox benchmarks); scales the default
            pacer and the session refresh.

    Example:
        >>> with LinnworksClient(app_id, SecretStr(secret), SecretStr(token)) as linnworks:  # doctest: +SKIP
        ...     centre = next(loc for loc in linnworks.get_stock_locations() if loc.is_fulfillment_center)
        ...     ids = linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id)
    """

    def __init__(
        self,
        application_id: str,
        application_secret: SecretStr,
        installation_token: SecretStr,
        *,
        auth_url: str = "https://api.linnworks.net",
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        time_scale: float = 1.0,
    ) -> None:
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)
        credentials = Credentials(
            application_id=application_id,
            application_secret=application_secret.get_secret_value(),
            installation_token=installation_token.get_secret_value(),
        )
        self._caller = Caller(
            http=self._http,
            auth_url=auth_url,
            credentials=credentials,
            pacer=pacer or _default_pacer(credentials, auth_url, clock, sleep, time_scale),
            retry=retry or RetryPolicy(),
            clock=clock,
            sleep=sleep,
            time_scale=time_scale,
        )

    def __repr__(self) -> str:
        return "LinnworksClient(<credentials redacted>)"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> LinnworksClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- locations ---------------------------------------------------------------------------------------

    def get_stock_locations(self) -> list[StockLocation]:
        """All stock locations (Inventory/GetStockLocations); the Default one has the zero GUID."""
        reply = self._call("Inventory/GetStockLocations", {}, Safety.READ)
        return parse_list(reply, LOCATIONS)

    def add_location(self, location: StockLocation) -> None:
        """Create a location (Locations/AddLocation); re-read GetStockLocations to learn its id."""
        self._call("Locations/AddLocation", {"location": location}, Safety.UNSAFE)

    def update_location(self, location: StockLocation) -> None:
        """Replace a location's record (Locations/UpdateLocation); send the whole object as read."""
        self._call("Locations/UpdateLocation", {"location": location}, Safety.IDEMPOTENT)

    # --- identifiers -------------------------------------------------------------------------------------

    def get_identifiers(self) -> list[Identifier]:
        """Every identifier defined on the account (OpenOrders/GetIdentifiers)."""
        return parse_list(self._call("OpenOrders/GetIdentifiers", {}, Safety.READ), IDENTIFIERS)

    def save_identifier(self, identifier: Identifier) -> Identifier:
        """Create (``identifier_id`` 0) or update an identifier (OpenOrders/SaveIdentifier)."""
        safety = Safety.UNSAFE if identifier.identifier_id == 0 else Safety.IDEMPOTENT
        request = _SaveIdentifiersRequest(identifier=identifier)
        return parse(self._call("OpenOrders/SaveIdentifier", {"request": request}, safety), IDENTIFIER)

    def assign_order_identifier(self, order_ids: Sequence[UUID], tag: str) -> AssignResult:
        """Put identifier ``tag`` on orders (OpenOrders/AssignOrderIdentifier)."""
        return self._change_identifier("OpenOrders/AssignOrderIdentifier", order_ids, tag)

    def unassign_order_identifier(self, order_ids: Sequence[UUID], tag: str) -> AssignResult:
        """Take identifier ``tag`` off orders (OpenOrders/UnassignOrderIdentifier)."""
        return self._change_identifier("OpenOrders/UnassignOrderIdentifier", order_ids, tag)

    def assign_order_identifier_batched(
        self, order_ids: Sequence[UUID], tag: str, *, batch_size: int = _DEFAULT_BATCH
    ) -> AssignResult:
        """``assign_order_identifier`` over any number of orders, ``batch_size`` per call."""
        result = AssignResult()
        for batch in batches(order_ids, batch_size):
            result = result.merged(self.assign_order_identifier(batch, tag))
        return result

    def _change_identifier(self, endpoint: str, order_ids: Sequence[UUID], tag: str) -> AssignResult:
        request = _ChangeOrderIdentifierRequest(order_ids=list(order_ids), tag=tag)
        return parse(self._call(endpoint, {"request": request}, Safety.IDEMPOTENT), ASSIGN_RESULT)

    # --- reading orders ----------------------------------------------------------------------------------

    def get_all_open_orders(
        self,
        *,
        fulfilment_center: UUID,
        filters: FieldsFilter | None = None,
        sorting: Sequence[FieldSorting] = (),
        additional_filter: str = "",
        exact_match: bool = False,
    ) -> list[UUID]:
        """Ids of every open order at ``fulfilment_center`` matching ``filters`` (Orders/GetAllOpenOrders)."""
        values = {
            "filters": filters,
            "sorting": list(sorting),
            "fulfilmentCenter": fulfilment_center,
            "additionalFilter": additional_filter,
            "exactMatch": exact_match,
        }
        return parse_list(self._call("Orders/GetAllOpenOrders", values, Safety.READ), UUIDS)

    def get_orders_by_id(self, order_ids: Sequence[UUID]) -> list[OrderDetails]:
        """Details of open or processed orders (Orders/GetOrdersById); unknown ids may be left out."""
        if not order_ids:
            return []
        reply = self._call("Orders/GetOrdersById", {"pkOrderIds": list(order_ids)}, Safety.READ)
        return parse_list(reply, ORDERS)

    def get_orders_by_id_batched(
        self, order_ids: Sequence[UUID], *, batch_size: int = _ORDER_BATCH
    ) -> list[OrderDetails]:
        """``get_orders_by_id`` over any number of ids, ``batch_size`` per call, in request order."""
        return [order for batch in batches(order_ids, batch_size) for order in self.get_orders_by_id(batch)]

    def get_order_by_id(self, order_id: UUID) -> OrderDetails | None:
        """One order (Orders/GetOrderById); None for an unknown id, which Linnworks answers with ``null``,
        ``{}`` or the "empty class" (a default ``OrderDetails``: zero OrderId, ``GeneralInfo`` null)."""
        reply = self._call("Orders/GetOrderById", {"pkOrderId": order_id}, Safety.READ)
        if is_empty_order(reply.data):
            return None
        return parse(reply, ORDER)

    def get_extended_properties(self, order_id: UUID) -> list[ExtendedProperty]:
        """An order's extended properties (Orders/GetExtendedProperties)."""
        reply = self._call("Orders/GetExtendedProperties", {"orderId": order_id}, Safety.READ)
        return parse_list(reply, EXTENDED_PROPERTIES)

    def get_order_notes(self, order_id: UUID) -> list[OrderNote]:
        """An order's notes (Orders/GetOrderNotes)."""
        return parse_list(self._call("Orders/GetOrderNotes", {"orderId": order_id}, Safety.READ), NOTES)

    # --- writing orders ----------------------------------------------------------------------------------

    def set_order_shipping_info(self, order_id: UUID, info: UpdateOrderShippingInfo) -> UpdateTotalsResult:
        """Write tracking number / service (Orders/SetOrderShippingInfo); read it back before processing."""
        values = {"orderId": order_id, "info": info}
        return parse(self._call("Orders/SetOrderShippingInfo", values, Safety.IDEMPOTENT), TOTALS_RESULT)

    def set_order_general_info(
        self, order_id: UUID, info: OrderGeneralInfo, *, was_draft: bool = False
    ) -> None:
        """Replace an order's general info (Orders/SetOrderGeneralInfo); send the object as read, changed."""
        values = {"orderId": order_id, "info": info, "wasDraft": was_draft}
        self._call("Orders/SetOrderGeneralInfo", values, Safety.IDEMPOTENT)

    def set_order_customer_info(
        self, order_id: UUID, info: OrderCustomerInfo, *, save_to_crm: bool = False
    ) -> OrderTotalsInfo:
        """Replace an order's customer info (Orders/SetOrderCustomerInfo); totals may change."""
        values = {"orderId": order_id, "info": info, "saveToCrm": save_to_crm}
        return parse(self._call("Orders/SetOrderCustomerInfo", values, Safety.IDEMPOTENT), TOTALS)

    def set_order_notes(self, order_id: UUID, notes: Sequence[OrderNote]) -> None:
        """Replace ALL notes of an order (Orders/SetOrderNotes): read them first and send them back."""
        values = {"orderId": order_id, "orderNotes": list(notes)}
        self._call("Orders/SetOrderNotes", values, Safety.IDEMPOTENT)

    def set_extended_properties(
        self, order_id: UUID, properties: Sequence[ExtendedProperty]
    ) -> list[ExtendedProperty]:
        """Set an order's extended properties (Orders/SetExtendedProperties); returns them with row ids."""
        values = {"orderId": order_id, "extendedProperties": list(properties)}
        reply = self._call("Orders/SetExtendedProperties", values, Safety.IDEMPOTENT)
        return parse_list(reply, EXTENDED_PROPERTIES)

    def change_status(self, order_ids: Sequence[UUID], status: OrderStatus) -> list[UUID]:
        """Set the payment status of orders (Orders/ChangeStatus); returns the ids that changed."""
        values = {"orderIds": list(order_ids), "status": int(status)}
        return parse_list(self._call("Orders/ChangeStatus", values, Safety.IDEMPOTENT), UUIDS)

    def update_order_item(
        self, order_id: UUID, item: OrderItem, *, fulfilment_center: UUID, source: str, sub_source: str
    ) -> UpdateOrderItemResult:
        """Change one order line, identified by ``item.row_id`` (Orders/UpdateOrderItem). Not retried."""
        values = {
            "orderId": order_id,
            "orderItem": item,
            "fulfilmentCenter": fulfilment_center,
            "source": source,
            "subSource": sub_source,
        }
        return parse(self._call("Orders/UpdateOrderItem", values, Safety.UNSAFE), ITEM_RESULT)

    def cancel_order(
        self, order_id: UUID, *, fulfilment_center: UUID, refund: Decimal = Decimal(0), note: str = ""
    ) -> None:
        """Cancel an open, unparked, unlocked order (Orders/CancelOrder). Not retried.

        Raises:
            RecordError: Linnworks refused, or replied with an error text instead of null.
        """
        values = {"orderId": order_id, "fulfilmentCenter": fulfilment_center, "refund": refund, "note": note}
        reply = self._call("Orders/CancelOrder", values, Safety.UNSAFE)
        if isinstance(reply.data, str) and reply.data.strip():
            raise RecordError(
                f"Linnworks Orders/CancelOrder refused: {reply.data[:300]}", context=reply.context
            )

    def process_order(
        self,
        order_id: UUID,
        *,
        scan_performed: bool = True,
        location_id: UUID | None = None,
        context: ClientContext | None = None,
    ) -> ProcessOrderResult:
        """Process one order (Orders/ProcessOrder). Not retried: after OutcomeUnknownError re-read it."""
        values = {
            "orderId": order_id,
            "scanPerformed": scan_performed,
            "locationId": location_id,
            "context": context or ClientContext(),
        }
        return parse(self._call("Orders/ProcessOrder", values, Safety.UNSAFE), PROCESS_RESULT)

    def process_fulfilment_centre_order(self, order_id: UUID) -> ProcessOrderResult:
        """Process an order of a fulfilment centre (Orders/ProcessFulfilmentCentreOrder). Not retried."""
        reply = self._call("Orders/ProcessFulfilmentCentreOrder", {"orderId": order_id}, Safety.UNSAFE)
        return parse(reply, PROCESS_RESULT)

    def process_orders_in_batch(
        self,
        order_ids: Sequence[UUID],
        *,
        location_id: UUID | None = None,
        context: ClientContext | None = None,
    ) -> list[ProcessOrderResult]:
        """Process several orders (Orders/ProcessOrdersInBatch); one result per order. Not retried."""
        values = {
            "ordersIds": list(order_ids),
            "locationId": location_id,
            "context": context or ClientContext(),
        }
        return parse_list(self._call("Orders/ProcessOrdersInBatch", values, Safety.UNSAFE), PROCESS_RESULTS)

    def process_orders_in_batches(
        self,
        order_ids: Sequence[UUID],
        *,
        batch_size: int = _ORDER_BATCH,
        location_id: UUID | None = None,
        context: ClientContext | None = None,
    ) -> Iterator[list[ProcessOrderResult]]:
        """``process_orders_in_batch`` per ``batch_size`` ids, yielding each batch's results as it completes.

        A generator so a caller keeps the results of finished batches when a later one fails.
        """
        for batch in batches(order_ids, batch_size):
            yield self.process_orders_in_batch(batch, location_id=location_id, context=context)

    # --- plumbing ----------------------------------------------------------------------------------------

    def _call(self, endpoint: str, values: dict[str, Any], safety: Safety) -> Reply:
        return self._caller.call(endpoint, values, safety)


def _default_pacer(
    credentials: Credentials,
    auth_url: str,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    time_scale: float,
) -> Pacer:
    if clock is time.monotonic and sleep is time.sleep:
        # Real time: every client of this account in the process shares one budget.
        account = f"{auth_url}|{credentials.application_id}|{credentials.installation_token}"
        return shared_pacer(account, time_scale)
    return SpacingPacer(clock=clock, sleep=sleep, time_scale=time_scale)
