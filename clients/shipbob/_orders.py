"""Orders on the wire: the create body, ShipBob's refusals as issues, the cancel reply as a result.

``financials.total_price`` is, per the 2026-01 spec, "the sum of all line item prices, discounts, and
taxes in USD". It is sent only for a USD order whose goods total (after discounts, with taxes) is known;
any other order goes without it, because a converted or tax-less figure would be a wrong number.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pydantic import ValidationError

from clients.errors import CallContext, MalformedResponseError
from clients.threepl.models import CancelOutcome, CancelResult, FulfilmentOrder, ValidationIssue

from ._wire import CancelReply, CreateOrderOut, FinancialsOut, OrderSummaryIn

__all__ = [
    "DUPLICATE_WORDS",
    "cancel_result",
    "first_error",
    "issues",
    "issues_text",
    "local_issues",
    "mentions_duplicate",
    "order_body",
    "summary",
]

DUPLICATE_WORDS = ("already exist", "duplicate", "exists")
TOTAL_PRICE_CURRENCY = "USD"


def order_body(order: FulfilmentOrder) -> CreateOrderOut:
    """The ``CreateOrderModel`` for ``order``; raises ``ValidationError`` (located from the body's root,
    e.g. ``recipient.name``) for what ShipBob would refuse."""
    address = order.ship_to
    street2 = ", ".join(part for part in (address.line2, address.line3) if part)
    recipient = {
        "name": address.name,
        "address": {
            "address1": address.line1,
            "address2": street2 or None,
            "company_name": address.company or None,
            "city": address.city,
            "state": address.region or None,
            "zip_code": address.postcode or None,
            "country": address.country_code.upper(),
        },
        "email": address.email or None,
        "phone_number": address.phone[:50] or None,
    }
    lines = [
        {
            "reference_id": line.sku,
            "sku": line.sku,
            "name": line.title or line.sku,
            "quantity": line.quantity,
            "unit_price": float(line.unit_price),
        }
        for line in order.lines
    ]
    return CreateOrderOut.model_validate(
        {
            "reference_id": order.reference,
            "order_number": order.display_ref or None,
            "shipping_method": order.service_code,
            "recipient": recipient,
            "products": lines,
            "purchase_date": order.received_at.astimezone(UTC).isoformat() if order.received_at else None,
            "financials": _financials(order),
        }
    )


def _financials(order: FulfilmentOrder) -> FinancialsOut | None:
    if order.currency.upper() != TOTAL_PRICE_CURRENCY or order.goods_total is None:
        return None
    return FinancialsOut(total_price=float(order.goods_total))


def summary(raw: Any, context: CallContext) -> OrderSummaryIn:
    try:
        return OrderSummaryIn.model_validate(raw)
    except ValidationError as error:
        raise MalformedResponseError(
            f"unreadable ShipBob order: {first_error(error)}", context=context
        ) from None


def issues(data: Any, order: FulfilmentOrder) -> list[ValidationIssue]:
    """ShipBob's refusal as issues, naming the SKU of a product line.

    Two bodies are documented: model state ``{field: [messages]}`` (400, and 422 in practice) and
    ``{"errors": [messages]}`` (the 2026-01 example for a 422).
    """
    if not isinstance(data, dict):
        return [ValidationIssue(message=f"ShipBob refused the order: {str(data)[:300]}")]
    found = []
    for field_name, messages in data.items():
        for message in messages if isinstance(messages, list) else [messages]:
            text = str(message)
            sku = _line_sku(field_name, order)
            if sku and sku not in text:
                text = f"{text} (SKU {sku})"
            where = "" if field_name == "errors" else str(field_name)
            found.append(ValidationIssue(field=where, message=text))
    return found or [ValidationIssue(message="ShipBob refused the order without a reason")]


def _line_sku(field_name: str, order: FulfilmentOrder) -> str | None:
    if not field_name.startswith("products["):
        return None
    try:
        index = int(field_name[len("products[") : field_name.index("]")])
    except ValueError:
        return None
    return order.lines[index].sku if 0 <= index < len(order.lines) else None


def mentions_duplicate(found: list[ValidationIssue]) -> bool:
    return any(
        "reference" in f"{issue.field} {issue.message}".lower()
        and any(word in issue.message.lower() for word in DUPLICATE_WORDS)
        for issue in found
    )


def issues_text(data: Any) -> str:
    if isinstance(data, dict):
        parts: list[str] = []
        for key, value in data.items():
            messages = value if isinstance(value, list) else [value]
            parts.extend(f"{key}: {m}" if key and key != "errors" else str(m) for m in messages)
        return "; ".join(parts)
    return "" if data is None else str(data)[:300]


def cancel_result(status: int, data: Any, context: CallContext) -> CancelResult:
    """``POST /order/{id}:cancel``: 200 Success | Failure | PartialSuccess, 404 not found, 422 refused.

    A 422 that says the order is already cancelled is the outcome we wanted; any other 422, and a
    Failure, mean the warehouse has gone too far (picked, packed or shipped). PartialSuccess cancelled
    what had not left and could not stop the rest: for the core that is too late, since something ships.
    """
    if status == 404:
        return CancelResult(outcome=CancelOutcome.NOT_FOUND)
    if status == 422:
        text = issues_text(data)
        if "already cancel" in text.lower():
            return CancelResult(outcome=CancelOutcome.CANCELLED, detail="already cancelled")
        return CancelResult(outcome=CancelOutcome.TOO_LATE, detail=text or "ShipBob refused the cancel")
    try:
        reply = CancelReply.model_validate(data)
    except ValidationError as error:
        raise MalformedResponseError(
            f"unreadable cancel reply: {first_error(error)}", context=context
        ) from None
    if reply.status == "Success":
        return CancelResult(outcome=CancelOutcome.CANCELLED)
    reasons = "; ".join(
        dict.fromkeys(r.reason for r in reply.canceled_shipment_results if r.reason and not r.is_success)
    )
    return CancelResult(outcome=CancelOutcome.TOO_LATE, detail=reasons or reply.status)


def local_issues(error: ValidationError) -> list[ValidationIssue]:
    return [
        ValidationIssue(
            field=".".join(str(part) for part in issue.get("loc", ())), message=issue.get("msg", "invalid")
        )
        for issue in error.errors()
    ]


def first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"
