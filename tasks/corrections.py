"""3PL -> Linnworks: a delivery address the 3PL corrected, written back only when a setting allows it.

Looked at when the 3PL releases a hold (an address problem is the usual hold, and fixing the address is
the usual release): the adapter compares the address it holds with the order as Linnworks has it now
(``corrected_address``; ShipBob: the open shipment's recipient; SFTP: never known). An order edited in
Linnworks since it was sent is left to tasks.edits, which sends the edit the other way.

``WRITE_BACK_CORRECTED_ADDRESS`` on: SetOrderCustomerInfo with the corrected fields (the country must be
the same), a note, and the ledger's payload hash set to the order as it is now (so the edit path does not
send it back). Off (default): a note saying what the 3PL holds, nothing written. Either way a row of the
run's ``changes`` table.
"""

from __future__ import annotations

import logging
from uuid import UUID

from clients.errors import RecordError, RetryableError
from clients.linnworks import OrderCustomerInfo, OrderDetails
from clients.threepl import Address
from ledger import NO_LEASE, OrderRecord
from tasks.mapping import MappingError, payload_hash, to_fulfilment_order
from tasks.notes import add_order_note
from tasks.outcomes import Outcomes

__all__ = ["carry_corrected_address"]

logger = logging.getLogger("lw3pl.corrections")


def carry_corrected_address(work: Outcomes, record: OrderRecord) -> None:
    """Write back (or note) the address the 3PL holds for this order, if it corrected it."""
    try:
        _carry(work, record)
    except (RetryableError, RecordError) as error:
        work.note(f"order {record.num_order_id}: corrected address not checked ({type(error).__name__})")


def _carry(work: Outcomes, record: OrderRecord) -> None:
    order = work.runtime.linnworks.get_order_by_id(UUID(record.reference))
    if order is None or order.processed:
        return
    try:
        payload = to_fulfilment_order(order, work.runtime.settings)
    except MappingError:
        return  # it cannot be sent as it is: nothing to compare
    if payload_hash(payload) != record.payload_hash:
        return  # edited in Linnworks since it was sent: tasks.edits sends that edit to the 3PL
    corrected = work.runtime.threepl.corrected_address(payload)
    if corrected is None:
        return
    same_country = corrected.country_code == payload.ship_to.country_code
    if work.runtime.settings.write_back_corrected_address and same_country:
        _write_back(work, record, order, corrected)
        return
    why = "WRITE_BACK_CORRECTED_ADDRESS is off" if same_country else "the country differs"
    text = f"lw3pl: the 3PL corrected the delivery address to {_short(corrected)}; not written back ({why})"
    add_order_note(work.runtime.linnworks, UUID(record.reference), text)
    work.changed(record, "address corrected by the 3PL: noted, not written back")


def _write_back(work: Outcomes, record: OrderRecord, order: OrderDetails, corrected: Address) -> None:
    """SetOrderCustomerInfo, then the ledger's hash of the order as it is now (tasks.edits sends nothing)."""
    info = _corrected_info(order, corrected)
    linnworks = work.runtime.linnworks
    linnworks.set_order_customer_info(order.order_id, info)
    now = to_fulfilment_order(order.model_copy(update={"customer_info": info}), work.runtime.settings)
    work.runtime.ledger.update(
        record.reference, expected_from=[record.state], owner=NO_LEASE, payload_hash=payload_hash(now)
    )
    add_order_note(linnworks, order.order_id, "lw3pl: delivery address corrected by the 3PL, written back")
    work.changed(record, "address corrected by the 3PL: written back")
    logger.info("order %s: the 3PL's corrected address written back", record.reference)


def _corrected_info(order: OrderDetails, corrected: Address) -> OrderCustomerInfo:
    address = order.customer_info.address.model_copy(
        update={
            "full_name": corrected.name,
            "company": corrected.company,
            "address1": corrected.line1,
            "address2": corrected.line2,
            "address3": corrected.line3,
            "town": corrected.city,
            "region": corrected.region,
            "post_code": corrected.postcode,
        }
    )
    return order.customer_info.model_copy(update={"address": address})


def _short(address: Address) -> str:
    """The corrected address on one line, for the Linnworks note (customer data stays in Linnworks)."""
    parts = (address.line1, address.line2, address.city, address.region, address.postcode)
    return ", ".join(part for part in parts if part)
