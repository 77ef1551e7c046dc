"""How Linnworks replies are read: one TypeAdapter per reply shape, ``null`` lists as empty, and the
"empty class" GetOrderById answers for an unknown id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from clients.errors import MalformedResponseError

from ._http import Reply, describe_validation_error
from ._stock import _GetStockItemsFullByIdsResponse
from .models import (
    WIRE,
    AssignResult,
    ExtendedProperty,
    Identifier,
    OrderDetails,
    OrderNote,
    OrderTotalsInfo,
    ProcessOrderResult,
    StockItemFull,
    StockItemLevel,
    StockItemPage,
    StockLocation,
    UpdateOrderItemResult,
    UpdateTotalsResult,
)

__all__ = [
    "ASSIGN_RESULT",
    "EXTENDED_PROPERTIES",
    "IDENTIFIER",
    "IDENTIFIERS",
    "ITEM_RESULT",
    "LOCATIONS",
    "NOTES",
    "ORDER",
    "ORDERS",
    "PROCESS_RESULT",
    "PROCESS_RESULTS",
    "STOCK_BY_IDS",
    "STOCK_ITEMS_FULL",
    "STOCK_LEVELS",
    "STOCK_PAGE",
    "TOTALS",
    "TOTALS_RESULT",
    "UUIDS",
    "batches",
    "is_empty_order",
    "parse",
    "parse_list",
]

T = TypeVar("T")


def parse(reply: Reply, adapter: TypeAdapter[T]) -> T:
    if reply.data is None:
        raise MalformedResponseError(f"{_name(reply)} replied with an empty body", context=reply.context)
    try:
        return adapter.validate_python(reply.data, **WIRE)
    except ValidationError as error:
        raise MalformedResponseError(
            f"{_name(reply)} replied with data of the wrong shape: {describe_validation_error(error)}",
            context=reply.context,
        ) from None


def parse_list(reply: Reply, adapter: TypeAdapter[list[T]]) -> list[T]:
    """A list reply; .NET writes an empty (unset) list as ``null``, which reads as ``[]`` (an empty body
    stays malformed: that is a lost reply, not an empty list)."""
    return [] if reply.data is None and reply.has_body else parse(reply, adapter)


def is_empty_order(data: Any) -> bool:
    if data is None or data == {}:
        return True
    return isinstance(data, dict) and data.get("GeneralInfo") is None


def _name(reply: Reply) -> str:
    return f"Linnworks {reply.context.path.removeprefix('/api/')}"


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    if size < 1:
        raise ValueError("batch_size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


LOCATIONS = TypeAdapter(list[StockLocation])
IDENTIFIERS = TypeAdapter(list[Identifier])
IDENTIFIER = TypeAdapter(Identifier)
ASSIGN_RESULT = TypeAdapter(AssignResult)
UUIDS = TypeAdapter(list[UUID])
ORDERS = TypeAdapter(list[OrderDetails])
ORDER = TypeAdapter(OrderDetails)
EXTENDED_PROPERTIES = TypeAdapter(list[ExtendedProperty])
NOTES = TypeAdapter(list[OrderNote])
TOTALS_RESULT = TypeAdapter(UpdateTotalsResult)
TOTALS = TypeAdapter(OrderTotalsInfo)
ITEM_RESULT = TypeAdapter(UpdateOrderItemResult)
PROCESS_RESULT = TypeAdapter(ProcessOrderResult)
PROCESS_RESULTS = TypeAdapter(list[ProcessOrderResult])
STOCK_LEVELS = TypeAdapter(list[StockItemLevel])
STOCK_PAGE = TypeAdapter(StockItemPage)
STOCK_ITEMS_FULL = TypeAdapter(list[StockItemFull])
STOCK_BY_IDS = TypeAdapter(_GetStockItemsFullByIdsResponse)
