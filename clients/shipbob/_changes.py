"""Changes to an open order after it was sent: the address and the quantities of its shipment.

ShipBob 2026-01 changes a *shipment*, not an order: ``PUT /shipment/{id}:updateAddress`` and
``POST /shipment/{id}:updateLineItems`` (the complete list of lines as ``GET /shipment/{id}:getLineItems``
returns them; partial bodies are refused). The open shipment is the one still in Processing, OnHold or
Exception. What the warehouse holds is compared with the order first, so a change already sent is not sent
again. A refusal after picking comes back as 200 with ``is_success: false`` and the error: too late.
Adding a SKU the shipment does not have, and a new shipping service, are not sent (unsupported): the
first needs ShipBob's inventory id of a product the order never had, the second a bulk job.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from clients.errors import MalformedResponseError
from clients.threepl.models import Address, ChangeOutcome, ChangeResult, FulfilmentOrder

from ._feed import ORDERS
from ._orders import first_error, issues_text
from ._transport import Reply, Safety, Transport
from ._wire import NullableList, ShipmentIn, _In, _Out

__all__ = ["change_order", "corrected_address"]

OPEN_SHIPMENT = ("Processing", "OnHold", "Exception", "", None)


class _AddressIn(_In):
    address1: str | None = None
    address2: str | None = None
    company_name: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


class _RecipientIn(_In):
    name: str | None = None
    address: _AddressIn = Field(default_factory=_AddressIn)
    email: str | None = None
    phone_number: str | None = None


class _OpenShipmentIn(ShipmentIn):
    ship_option: str | None = None
    recipient: _RecipientIn = Field(default_factory=_RecipientIn)


class _OrderIn(_In):
    id: int
    reference_id: str
    shipments: NullableList[_OpenShipmentIn] = Field(default_factory=list)


class _UpdateAddressOut(_Out):
    recipient_name: str | None
    company_name: str | None
    street_address1: str = Field(min_length=1)
    street_address2: str | None
    city: str = Field(min_length=1)
    state: str | None
    zip_code: str | None
    country_code: str | None
    email: str | None
    phone_number: str | None


class _VariantIn(_In):
    sku: str | None = None


class _LineItemIn(_In):
    id: int | None = None
    inventory_id: int
    quantity: int
    fulfillment_center_id: int | None = None
    product_variant: _VariantIn = Field(default_factory=_VariantIn)


class _LineItemOut(_Out):
    id: int | None = None
    inventory_id: int
    quantity: int
    fulfillment_center_id: int | None = None


class _UpdateLinesOut(_Out):
    items: list[_LineItemOut] = Field(min_length=1)


class _ErrorIn(_In):
    code: str | None = None
    message: str | None = None


class _ChangeReplyIn(_In):
    is_success: bool = False
    error: _ErrorIn | None = None


def change_order(http: Transport, order: FulfilmentOrder) -> ChangeResult:
    """Compare the open shipment with ``order``; send what differs (address, then quantities)."""
    found = _order(http, order.reference)
    if found is None:
        return ChangeResult(outcome=ChangeOutcome.NOT_FOUND)
    shipment = _open_shipment(found)
    if shipment is None:
        return ChangeResult(outcome=ChangeOutcome.TOO_LATE, detail="ShipBob has no open shipment left")
    unsupported = _unsupported(shipment, order)
    if unsupported:
        return ChangeResult(outcome=ChangeOutcome.UNSUPPORTED, detail=unsupported)
    return _send(http, shipment, order)


def _open_shipment(order: _OrderIn) -> _OpenShipmentIn | None:
    return next((s for s in order.shipments if s.status in OPEN_SHIPMENT), None)


def _send(http: Transport, shipment: _OpenShipmentIn, order: FulfilmentOrder) -> ChangeResult:
    changed: list[str] = []
    address = address_body(order.ship_to)
    if address != _held_address(shipment):
        refused = _sent(http.call("PUT", f"/shipment/{shipment.id}:updateAddress", **_put(address)))
        if refused is not None:
            return refused
        changed.append("address")
    if _quantities(order) != _shipment_quantities(shipment):
        refused = _send_lines(http, shipment.id, _quantities(order))
        if refused is not None:
            return refused.model_copy(update={"changed": tuple(changed)})
        changed.append("lines")
    outcome = ChangeOutcome.APPLIED if changed else ChangeOutcome.UNCHANGED
    return ChangeResult(outcome=outcome, changed=tuple(changed))


def _put(body: _Out) -> dict[str, Any]:
    # Both updates set the final state, so a repeat after a lost reply is harmless. The address is sent
    # whole with nulls (a field removed in Linnworks is cleared); line items leave unknown ids out.
    data = body.model_dump(mode="json") if isinstance(body, _UpdateAddressOut) else body.wire()
    return {"safety": Safety.IDEMPOTENT, "body": data, "accept": (400,)}


def _order(http: Transport, reference: str) -> _OrderIn | None:
    reply = http.call("GET", ORDERS, safety=Safety.READ, params={"ReferenceIds": reference})
    if not isinstance(reply.data, list):
        raise MalformedResponseError("ShipBob order search did not return a list", context=reply.context)
    for raw in reply.data:
        try:
            found = _OrderIn.model_validate(raw)
        except ValidationError as error:
            message = f"unreadable ShipBob order for {reference}: {first_error(error)}"
            raise MalformedResponseError(message, context=reply.context) from None
        if found.reference_id == reference:
            return found
    return None


def _unsupported(shipment: _OpenShipmentIn, order: FulfilmentOrder) -> str:
    held = _shipment_quantities(shipment)
    added = sorted(set(_quantities(order)) - set(held))
    if added:
        return f"ShipBob cannot add SKU {', '.join(added)} to a shipment it holds; send a new order"
    if shipment.ship_option and shipment.ship_option != order.service_code:
        return (
            f"the shipping service changed ({shipment.ship_option} -> {order.service_code}); "
            "lw3pl does not send service changes to ShipBob: change it in ShipBob"
        )
    return ""


def address_body(address: Address) -> _UpdateAddressOut:
    """The ``UpdateAddressRequest`` for ``address`` (empty fields as null, as the create body sends)."""
    street2 = ", ".join(part for part in (address.line2, address.line3) if part)
    return _UpdateAddressOut(
        recipient_name=address.name or None,
        company_name=address.company or None,
        street_address1=address.line1,
        street_address2=street2 or None,
        city=address.city,
        state=address.region or None,
        zip_code=address.postcode or None,
        country_code=address.country_code.upper(),
        email=address.email or None,
        phone_number=address.phone[:50] or None,
    )


def corrected_address(http: Transport, order: FulfilmentOrder) -> Address | None:
    """The open shipment's address when it differs from ``order.ship_to`` as ShipBob would hold it."""
    found = _order(http, order.reference)
    shipment = _open_shipment(found) if found is not None else None
    held = _held_address(shipment) if shipment is not None else None
    if held is None or held == address_body(order.ship_to):
        return None
    return Address(
        name=held.recipient_name or order.ship_to.name,
        company=held.company_name or "",
        line1=held.street_address1,
        line2=held.street_address2 or "",
        city=held.city,
        region=held.state or "",
        postcode=held.zip_code or "",
        country_code=held.country_code or order.ship_to.country_code,
        email=held.email or "",
        phone=held.phone_number or "",
    )


def _held_address(shipment: _OpenShipmentIn) -> _UpdateAddressOut | None:
    recipient, where = shipment.recipient, shipment.recipient.address
    if not where.address1 or not where.city:
        return None
    return _UpdateAddressOut(
        recipient_name=recipient.name or None,
        company_name=where.company_name or None,
        street_address1=where.address1,
        street_address2=where.address2 or None,
        city=where.city,
        state=where.state or None,
        zip_code=where.zip_code or None,
        country_code=(where.country or "").upper() or None,
        email=recipient.email or None,
        phone_number=recipient.phone_number or None,
    )


def _quantities(order: FulfilmentOrder) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in order.lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return wanted


def _shipment_quantities(shipment: _OpenShipmentIn) -> dict[str, int]:
    held: dict[str, int] = {}
    for product in shipment.products:
        sku = product.sku or product.reference_id or ""
        held[sku] = held.get(sku, 0) + product.quantity
    return held


def _send_lines(http: Transport, shipment_id: int, wanted: dict[str, int]) -> ChangeResult | None:
    """Read the shipment's complete line list, set each SKU's quantity, send the list; None when applied."""
    path = f"/shipment/{shipment_id}:getLineItems"
    reply = http.call("GET", path, safety=Safety.READ)
    try:
        held = [_LineItemIn.model_validate(raw) for raw in reply.data]
    except (ValidationError, TypeError) as error:
        detail = first_error(error) if isinstance(error, ValidationError) else "not a list"
        raise MalformedResponseError(
            f"unreadable ShipBob line items: {detail}", context=reply.context
        ) from None
    items = [
        _LineItemOut(
            id=item.id,
            inventory_id=item.inventory_id,
            quantity=wanted.get(item.product_variant.sku or "", 0),
            fulfillment_center_id=item.fulfillment_center_id,
        )
        for item in held
    ]
    kept = [item for item in items if item.quantity > 0]
    if not kept:
        detail = "every line was removed: cancel the order instead"
        return ChangeResult(outcome=ChangeOutcome.UNSUPPORTED, detail=detail)
    body = _UpdateLinesOut(items=kept)
    return _sent(http.call("POST", f"/shipment/{shipment_id}:updateLineItems", **_put(body)))


def _sent(reply: Reply) -> ChangeResult | None:
    """None when ShipBob applied the change; a 400 (a body it will not take) is unsupported, and
    ``is_success: false`` (the warehouse has gone too far: picked, packed) is too late."""
    if reply.status == 400:
        detail = f"ShipBob refused the change: {issues_text(reply.data) or 'no reason given'}"
        return ChangeResult(outcome=ChangeOutcome.UNSUPPORTED, detail=detail)
    try:
        result = _ChangeReplyIn.model_validate(reply.data)
    except ValidationError as error:
        raise MalformedResponseError(
            f"unreadable ShipBob change reply: {first_error(error)}", context=reply.context
        ) from None
    if result.is_success:
        return None
    why = result.error or _ErrorIn()
    detail = f"ShipBob refused the change ({why.code or 'no code'}): {why.message or 'no reason given'}"
    return ChangeResult(outcome=ChangeOutcome.TOO_LATE, detail=detail)
