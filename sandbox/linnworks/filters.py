"""``FieldsFilter`` and ``FieldSorting`` for ``Orders/GetAllOpenOrders`` (REFERENCE §4.2, §12.11).

Entries combine with AND. Field codes the sandbox does not implement fail loudly (400) instead of being
ignored, so a client never believes a filter was applied when it was not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox.linnworks.model import BusinessError, Order

__all__ = ["check_supported", "order_matches", "sort_orders"]


_TEXT_FIELDS: dict[str, Callable[[Order], list[str]]] = {
    "GENERAL_INFO_ORDER_ID": lambda o: [str(o.doc["NumOrderId"])],
    "GENERAL_INFO_REFERENCE_NUMBER": lambda o: [o.general["ReferenceNum"] or ""],
    "GENERAL_INFO_CHANNEL_REFERENCE_NUMBER": lambda o: [o.general["ReferenceNum"] or ""],
    "GENERAL_INFO_EXTERNAL_REFERENCE_NUMBER": lambda o: [o.general["ExternalReferenceNum"] or ""],
    "GENERAL_INFO_SOURCE": lambda o: [o.general["Source"] or ""],
    "GENERAL_INFO_SUBSOURCE": lambda o: [o.general["SubSource"] or ""],
    "SHIPPING_INFORMATION_TRACKING_NUMBER": lambda o: [o.doc["ShippingInfo"]["TrackingNumber"] or ""],
    "SHIPPING_INFORMATION_SERVICE": lambda o: [o.doc["ShippingInfo"]["PostalServiceName"] or ""],
    "CUSTOMER_EMAIL": lambda o: [o.doc["CustomerInfo"]["Address"]["EmailAddress"] or ""],
    "ITEMS_SKU": lambda o: [line["SKU"] or "" for line in o.doc["Items"]],
}

_BOOLEAN: dict[str, Callable[[Order], bool]] = {
    "GENERAL_INFO_LOCKED": lambda o: o.locked,
    "GENERAL_INFO_PARKED": lambda o: o.parked,
    "GENERAL_INFO_LABEL_PRINTED": lambda o: bool(o.general["LabelPrinted"]),
    "GENERAL_INFO_INVOICE_PRINTED": lambda o: bool(o.general["InvoicePrinted"]),
    "GENERAL_INFO_PICK_LIST_PRINTED": lambda o: bool(o.general["PickListPrinted"]),
    "GENERAL_INFO_PART_SHIPPED": lambda o: bool(o.general["PartShipped"]),
}


def _unsupported(kind: str, code: Any) -> BusinessError:
    return BusinessError(f"{kind} filter on field {code} is not supported by the sandbox")


def _text_match(kind: str | None, value: str, wanted: str) -> bool:
    value, wanted = value.lower(), wanted.lower()
    if kind == "Contains":
        return wanted in value
    if kind == "StartWith":
        return value.startswith(wanted)
    if kind == "EndsWith":
        return value.endswith(wanted)
    return value == wanted


def _check_text(order: Order, entry: dict[str, Any]) -> bool:
    getter = _TEXT_FIELDS.get(entry.get("FieldCode") or "")
    if getter is None:
        raise _unsupported("Text", entry.get("FieldCode"))
    wanted = entry.get("Text") or ""
    return any(_text_match(entry.get("Type"), value, wanted) for value in getter(order))


def _check_boolean(order: Order, entry: dict[str, Any]) -> bool:
    getter = _BOOLEAN.get(entry.get("FieldCode") or "")
    if getter is None:
        raise _unsupported("Boolean", entry.get("FieldCode"))
    return getter(order) == bool(entry.get("Value"))


def _numeric_value(order: Order, code: str | None) -> float:
    if code == "GENERAL_INFO_STATUS":
        return float(order.general["Status"])
    if code == "GENERAL_INFO_ORDER_ID":
        return float(order.doc["NumOrderId"])
    if code == "GENERAL_INFO_ITEMS_COUNT":
        return float(len(order.doc["Items"]))
    raise _unsupported("Numeric", code)


def _check_numeric(order: Order, entry: dict[str, Any]) -> bool:
    value = _numeric_value(order, entry.get("FieldCode"))
    wanted = float(entry.get("Value") or 0)
    if entry.get("Type") == "Greater":
        return value > wanted
    if entry.get("Type") == "Lower":
        return value < wanted
    return value == wanted


def _check_date(order: Order, entry: dict[str, Any], now: datetime) -> bool:
    if entry.get("FieldCode") != "GENERAL_INFO_DATE":
        raise _unsupported("Date", entry.get("FieldCode"))
    received = order.received
    kind = entry.get("Type") or "Range"
    if kind == "LastDays":
        return received >= now - timedelta(days=int(entry.get("Value") or 0))
    if kind == "OlderThan":
        return received < now - timedelta(days=int(entry.get("Value") or 0))
    start, end = entry.get("DateFrom"), entry.get("DateTo")
    return (start is None or received >= start) and (end is None or received <= end)


def _check_list(order: Order, entry: dict[str, Any], identifiers: Mapping[str, Mapping[str, Any]]) -> bool:
    code = entry.get("FieldCode")
    wanted = str(entry.get("Value") or "").strip().lower()
    if code == "GENERAL_INFO_IDENTIFIER":
        names = {str(identifiers[t.upper()]["Name"]).lower() for t in order.tags if t.upper() in identifiers}
        has = wanted in {t.lower() for t in order.tags} or wanted in names
    elif code == "GENERAL_INFO_STATUS":
        has = str(order.general["Status"]) == wanted
    elif code == "GENERAL_INFO_SOURCE":
        has = (order.general["Source"] or "").lower() == wanted
    elif code == "SHIPPING_INFORMATION_SERVICE":
        shipping = order.doc["ShippingInfo"]
        has = wanted in {str(shipping["PostalServiceName"]).lower(), str(shipping["PostalServiceId"])}
    else:
        raise _unsupported("List", code)
    return has if entry.get("Type", "Is") != "Not" else not has


def order_matches(
    order: Order,
    filters: dict[str, Any] | None,
    additional: str | None,
    exact: bool,
    now: datetime,
    identifiers: Mapping[str, Mapping[str, Any]],
) -> bool:
    """Whether ``order`` passes every filter entry (AND) and the free-text ``additional`` filter."""
    filters = filters or {}
    checks: list[tuple[str, Callable[[Order, dict[str, Any]], bool]]] = [
        ("TextFields", _check_text),
        ("BooleanFields", _check_boolean),
        ("NumericFields", _check_numeric),
        ("ListFields", lambda o, e: _check_list(o, e, identifiers)),
    ]
    for key, check in checks:
        for entry in filters.get(key) or []:
            if entry is not None and not check(order, entry):
                return False
    for entry in filters.get("DateFields") or []:
        if entry is not None and not _check_date(order, entry, now):
            return False
    return _additional_matches(order, additional, exact)


def _additional_matches(order: Order, additional: str | None, exact: bool) -> bool:
    term = (additional or "").strip().lower()
    if not term:
        return True
    general = order.general
    haystack = [
        str(order.doc["NumOrderId"]),
        general["ReferenceNum"] or "",
        general["ExternalReferenceNum"] or "",
        order.doc["CustomerInfo"]["Address"]["EmailAddress"] or "",
        *(line["SKU"] or "" for line in order.doc["Items"]),
    ]
    if exact:
        return any(term == value.lower() for value in haystack)
    return any(term in value.lower() for value in haystack)


_SORT_KEYS: dict[str, Callable[[Order], Any]] = {
    "GENERAL_INFO_DATE": lambda o: o.received,
    "GENERAL_INFO_ORDER_ID": lambda o: o.doc["NumOrderId"],
    "GENERAL_INFO_REFERENCE_NUMBER": lambda o: o.general["ReferenceNum"] or "",
    "GENERAL_INFO_STATUS": lambda o: o.general["Status"],
}


def sort_orders(orders: list[Order], sorting: list[dict[str, Any]] | None) -> list[Order]:
    """Orders sorted by the given fields (applied by ``Order``); default ``ReceivedDate`` ascending."""
    result = sorted(orders, key=lambda o: (o.received, o.doc["NumOrderId"]))
    entries = sorted((s for s in sorting or [] if s is not None), key=lambda s: s.get("Order") or 0)
    for entry in reversed(entries):
        key = _SORT_KEYS.get(entry.get("FieldCode") or "")
        if key is None:
            raise BusinessError(f"Sorting on field {entry.get('FieldCode')} is not supported by the sandbox")
        result.sort(key=key, reverse=entry.get("Direction") == "Descending")
    return result


_LIST_CODES = {
    "GENERAL_INFO_IDENTIFIER",
    "GENERAL_INFO_STATUS",
    "GENERAL_INFO_SOURCE",
    "SHIPPING_INFORMATION_SERVICE",
}
_NUMERIC_CODES = {"GENERAL_INFO_STATUS", "GENERAL_INFO_ORDER_ID", "GENERAL_INFO_ITEMS_COUNT"}


def check_supported(filters: dict[str, Any] | None, sorting: list[dict[str, Any]] | None) -> None:
    """Refuse (400) any filter or sort field the sandbox does not implement, even when no order is open."""
    supported = {
        "TextFields": set(_TEXT_FIELDS),
        "BooleanFields": set(_BOOLEAN),
        "NumericFields": _NUMERIC_CODES,
        "DateFields": {"GENERAL_INFO_DATE"},
        "ListFields": _LIST_CODES,
    }
    for key, codes in supported.items():
        for entry in (filters or {}).get(key) or []:
            if entry is not None and entry.get("FieldCode") not in codes:
                raise _unsupported(key.removesuffix("Fields"), entry.get("FieldCode"))
    for entry in sorting or []:
        if entry is not None and entry.get("FieldCode") not in _SORT_KEYS:
            raise BusinessError(f"Sorting on field {entry.get('FieldCode')} is not supported by the sandbox")
