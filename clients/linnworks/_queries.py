"""Open-order query filters and the replies of processing and order writes."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from ._base import LwDateTime, _Inbound, _Outbound
from ._orders import OrderItem, OrderShippingInfo, OrderTotalsInfo

# --- open order queries ------------------------------------------------------------------------------------


class TextFieldFilter(_Outbound):
    """``{FieldCode, Type: Equal|Contains|StartWith|EndsWith, Text}``."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Equal", alias="Type")
    text: str = Field(alias="Text")


class BooleanFieldFilter(_Outbound):
    """``{FieldCode, Value}``, e.g. GENERAL_INFO_PARKED = false."""

    field_code: str = Field(alias="FieldCode")
    value: bool = Field(alias="Value")


class NumericFieldFilter(_Outbound):
    """``{FieldCode, Type: Equal|Greater|Lower, Value}``."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Equal", alias="Type")
    value: float = Field(alias="Value")


class DateFieldFilter(_Outbound):
    """``{FieldCode, Type: Range|OlderThan|LastDays, DateFrom, DateTo, Value}``."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Range", alias="Type")
    date_from: LwDateTime = Field(default=None, alias="DateFrom")
    date_to: LwDateTime = Field(default=None, alias="DateTo")
    value: int | None = Field(default=None, alias="Value")


class ListFieldFilter(_Outbound):
    """``{FieldCode, Type: Is|Not, Value}``, e.g. GENERAL_INFO_IDENTIFIER Not SENT_TO_3PL."""

    field_code: str = Field(alias="FieldCode")
    type: str = Field(default="Is", alias="Type")
    value: str = Field(alias="Value")


class FieldsFilter(_Outbound):
    """The ``filters`` of Orders/GetAllOpenOrders (entries combine with AND)."""

    text_fields: list[TextFieldFilter] = Field(default_factory=list, alias="TextFields")
    boolean_fields: list[BooleanFieldFilter] = Field(default_factory=list, alias="BooleanFields")
    numeric_fields: list[NumericFieldFilter] = Field(default_factory=list, alias="NumericFields")
    date_fields: list[DateFieldFilter] = Field(default_factory=list, alias="DateFields")
    list_fields: list[ListFieldFilter] = Field(default_factory=list, alias="ListFields")


class FieldSorting(_Outbound):
    """One ``sorting`` entry."""

    field_code: str = Field(alias="FieldCode")
    direction: str = Field(default="Ascending", alias="Direction")
    order: int = Field(default=1, alias="Order")


# --- processing and order writes ---------------------------------------------------------------------------


class ClientContext(_Outbound):
    """``context`` of the process calls: where the call came from."""

    module: str = Field(default="lw3pl", alias="Module")


class ProcessOrderResult(_Inbound):
    """Per-order outcome of ProcessOrder / ProcessOrdersInBatch / ProcessFulfilmentCentreOrder."""

    order_id: UUID | None = Field(default=None, alias="OrderId")
    processed: bool = Field(alias="Processed")
    error: str | None = Field(default=None, alias="Error")


class UpdateTotalsResult(_Inbound):
    """Reply of SetOrderShippingInfo."""

    totals_info: OrderTotalsInfo | None = Field(default=None, alias="TotalsInfo")
    shipping_info: OrderShippingInfo | None = Field(default=None, alias="ShippingInfo")


class UpdateOrderItemResult(_Inbound):
    """Reply of UpdateOrderItem."""

    totals_info: OrderTotalsInfo | None = Field(default=None, alias="TotalsInfo")
    item: OrderItem | None = Field(default=None, alias="Item")
    item_weight: float | None = Field(default=None, alias="ItemWeight")
    total_weight: float | None = Field(default=None, alias="TotalWeight")
