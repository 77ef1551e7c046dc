"""The invariants of RELIABILITY.md (C1-C5), checked against the sandboxes and the ledger after a run.

Each check returns a list of problems (empty when it holds) so a test can assert on all of them at once and
print every violation, not only the first one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ledger import Ledger, State
from sandbox.linnworks import LinnworksSandbox
from sandbox.warehouse import Warehouse

__all__ = ["check_all", "check_c1", "check_c2", "check_c3", "check_c4", "check_c5"]

# Ledger states that explain an order still open in Linnworks at the fulfilment centre.
_OPEN_EXPLAINED = {
    State.PENDING,
    State.SUBMITTING,
    State.SUBMITTED,
    State.EXPORTED,
    State.PARTIALLY_SHIPPED,
    State.SHIPPED,
    State.TRACKING_WRITTEN,
    State.CANCEL_REQUESTED,
    State.ON_HOLD,
    State.QUARANTINED,
}
_TAGGED_STATES = _OPEN_EXPLAINED - {State.PENDING, State.SUBMITTING, State.SUBMITTED}


def check_c1(warehouse: Warehouse) -> list[str]:
    """C1: at most one 3PL order per Linnworks order."""
    counts = Counter(order.reference for order in warehouse.list_orders())
    return [f"C1: {count} 3PL orders for {ref}" for ref, count in counts.items() if count > 1]


def check_c2(warehouse: Warehouse, linnworks: LinnworksSandbox) -> list[str]:
    """C2: every 3PL order maps to a known Linnworks order."""
    known = {order["OrderId"] for order in linnworks.orders()}
    return [
        f"C2: 3PL order {o.reference} is no Linnworks order"
        for o in warehouse.list_orders()
        if o.reference not in known
    ]


def check_c3(linnworks: LinnworksSandbox, ledger: Ledger) -> list[str]:
    """C3: no order processed before its tracking was written and read back (ledger trail + Linnworks)."""
    problems: list[str] = []
    known = ledger.get_many(order["OrderId"] for order in linnworks.orders(state="processed"))
    for reference, record in known.items():
        order = linnworks.order(reference)
        states = [step.to_state for step in ledger.history(reference)]
        if record.state is State.PROCESSED and State.TRACKING_WRITTEN not in states:
            problems.append(f"C3: {reference} processed without tracking_written in the ledger")
        if (
            record.state is State.PROCESSED
            and order["ShippingInfo"]["TrackingNumber"] != record.tracking_number
        ):
            problems.append(
                f"C3: {reference} processed with tracking {order['ShippingInfo']['TrackingNumber']!r}"
            )
        if (
            record.state in (State.SHIPPED, State.PARTIALLY_SHIPPED, State.QUARANTINED)
            and not order["_Cancelled"]
        ):
            problems.append(
                f"C3: {reference} processed in Linnworks while the ledger says {record.state.value}"
            )
    return problems


def check_c4(linnworks: LinnworksSandbox, ledger: Ledger, location_id: str, tag: str) -> list[str]:
    """C4: every open order at the fulfilment centre is in a ledger state that explains it."""
    problems: list[str] = []
    orders = linnworks.orders(location_id=location_id, state="open")
    records = ledger.get_many(order["OrderId"] for order in orders)
    for order in orders:
        reference = order["OrderId"]
        record = records.get(reference)
        tagged = tag in order["_Tags"]
        if record is None:
            if _exportable(order) and not tagged:
                problems.append(f"C4: exportable open order {reference} unknown to the ledger")
            continue
        if record.state not in _OPEN_EXPLAINED:
            problems.append(f"C4: open order {reference} is {record.state.value} in the ledger")
        elif tagged and record.state not in _TAGGED_STATES:
            problems.append(f"C4: tagged order {reference} is still {record.state.value} in the ledger")
        elif record.state in _TAGGED_STATES - {State.QUARANTINED, State.ON_HOLD} and not tagged:
            problems.append(f"C4: order {reference} is {record.state.value} but carries no tag")
    return problems


def check_c5(canary: str, captured: Iterable[str]) -> list[str]:
    """C5: the planted secret appears in nothing captured (logs, artifacts, ledger dump...)."""
    return [f"C5: canary found in {text[:80]!r}" for text in captured if canary in text]


def check_all(
    linnworks: LinnworksSandbox, warehouse: Warehouse, ledger: Ledger, location_id: str, tag: str
) -> list[str]:
    """C1-C4 together (C5 needs the captured text: call :func:`check_c5`)."""
    return [
        *check_c1(warehouse),
        *check_c2(warehouse, linnworks),
        *check_c3(linnworks, ledger),
        *check_c4(linnworks, ledger, location_id, tag),
    ]


def _exportable(order: dict[str, Any]) -> bool:
    general = order["GeneralInfo"]
    return general["Status"] == 1 and not general["IsParked"] and not order["_Locked"]
