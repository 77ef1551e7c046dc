"""Linnworks order -> the neutral 3PL order, and the checks that decide whether an order may be exported.

Pure functions: no I/O, no Prefect. A problem with one order raises :class:`MappingError` with a reason a
person can act on (which field, what to change); the export task quarantines that order and goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from uuid import UUID

from clients.linnworks import OrderDetails, OrderItem, OrderStatus
from clients.threepl import Address, FulfilmentOrder, OrderLine
from lw3pl.core.settings import Settings
from tasks.countries import country_code

__all__ = [
    "MappingError",
    "has_identifier",
    "mapped_service",
    "not_exportable_reason",
    "ordered_units",
    "payload_hash",
    "to_fulfilment_order",
]

_FALLBACK_SERVICE = "*"


class MappingError(ValueError):
    """This order cannot be sent as it is; the message says what to fix."""


def not_exportable_reason(order: OrderDetails, location_id: UUID, tag: str) -> str | None:
    """Why an order is not (or no longer) to be exported, or None if it is.

    GetAllOpenOrders already filters on these, but the details are re-checked: an order can change between
    the listing and the read, and the filter semantics of the real API are not all documented.
    """
    general = order.general_info
    checks = [
        (order.processed, "processed"),
        (general.hold_or_cancel, "held or cancelled"),
        (general.is_parked, "parked"),
        (general.status != OrderStatus.PAID, f"not paid (status {general.status})"),
        (order.location_id != location_id, "not at the fulfilment centre"),
        (has_identifier(order, tag), f"already carries identifier {tag}"),
    ]
    return next((reason for failed, reason in checks if failed), None)


def has_identifier(order: OrderDetails, tag: str) -> bool:
    """Whether the order carries identifier ``tag`` (matched on Tag or Name, as Linnworks filters do)."""
    wanted = tag.lower()
    return any(
        wanted in {(identifier.tag or "").lower(), (identifier.name or "").lower()}
        for identifier in order.general_info.identifiers or []
    )


def to_fulfilment_order(order: OrderDetails, settings: Settings) -> FulfilmentOrder:
    """The order the 3PL receives, under reference = Linnworks OrderId."""
    return FulfilmentOrder(
        reference=str(order.order_id),
        display_ref=str(order.num_order_id),
        ship_to=_address(order, settings),
        service_code=_service(order, settings),
        lines=_lines(order.items, settings.composite_items),
        notes=[note.note for note in order.notes or [] if not note.internal and note.note.strip()],
        currency=order.totals_info.currency or "GBP",
        received_at=order.general_info.received_date,
    )


def payload_hash(order: FulfilmentOrder) -> str:
    """A stable fingerprint of what was (or would be) sent, to notice an order that changed since."""
    return hashlib.sha256(order.model_dump_json().encode()).hexdigest()[:32]


def _service(order: OrderDetails, settings: Settings) -> str:
    name = order.shipping_info.postal_service_name or ""
    service = mapped_service(name, settings.shipping_service_map)
    if not service:
        raise MappingError(
            f"shipping service {name!r} is not mapped to a 3PL service; add it to SHIPPING_SERVICE_MAP"
        )
    return service


def mapped_service(name: str, mapping: Mapping[str, str]) -> str | None:
    """The 3PL service for Linnworks postal service ``name`` (or the ``"*"`` fallback), if mapped."""
    return mapping.get(name) or mapping.get(_FALLBACK_SERVICE) or None


def _address(order: OrderDetails, settings: Settings) -> Address:
    source = order.customer_info.address
    missing = [
        label
        for label, value in (
            ("FullName", source.full_name),
            ("Address1", source.address1),
            ("Town", source.town),
        )
        if not (value or "").strip()
    ]
    if missing:
        raise MappingError(f"delivery address has no {', '.join(missing)}; complete the address in Linnworks")
    code = country_code(source.country or "", settings.country_code_map)
    if code is None:
        raise MappingError(
            f"delivery country {source.country!r} has no known ISO code; fix the address or add it to "
            "COUNTRY_CODE_MAP"
        )
    return Address(
        name=source.full_name or "",
        company=source.company or "",
        line1=source.address1 or "",
        line2=source.address2 or "",
        line3=source.address3 or "",
        city=source.town or "",
        region=source.region or "",
        postcode=source.post_code or "",
        country_code=code,
        email=source.email_address or "",
        phone=source.phone_number or "",
    )


def ordered_units(order: OrderDetails, settings: Settings) -> dict[str, int]:
    """Units per SKU the 3PL is asked to ship for ``order`` (its lines as exported, summed per SKU)."""
    units: dict[str, int] = {}
    for line in _lines(order.items, settings.composite_items):
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    return units


def _lines(items: Iterable[OrderItem], composite_mode: str) -> list[OrderLine]:
    lines: list[OrderLine] = []
    for item in items:
        if item.is_service:
            continue
        parts = item.composite_sub_items if composite_mode == "components" else []
        lines += [_line(part, parent=item) for part in parts] if parts else [_line(item, parent=None)]
    if not lines:
        raise MappingError("order has no shippable lines")
    return lines


def _line(item: OrderItem, parent: OrderItem | None) -> OrderLine:
    if not (item.sku or "").strip():
        raise MappingError(f"line {item.row_id or (parent.row_id if parent else '')} has no SKU")
    if item.quantity <= 0:
        raise MappingError(f"line with SKU {item.sku} has quantity {item.quantity}")
    row = item.row_id or (parent.row_id if parent else None)
    return OrderLine(
        line_ref=f"{row}:{item.sku}" if parent else str(row or item.sku),
        sku=item.sku or "",
        quantity=item.quantity,
        title=item.title or "",
        unit_price=item.price_per_unit or 0,
    )
