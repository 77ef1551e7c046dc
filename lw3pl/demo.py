"""``lw3pl demo`` v0: the Linnworks side of the cycle against the local sandbox, no accounts needed.

Starts the Linnworks sandbox, sets up the fulfilment centre (the setup flow's steps), seeds open orders at
it, and lists them as a table. The flows engineer grows this into the whole fulfilment cycle.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from pydantic import SecretStr

from clients.linnworks import (
    Identifier,
    LinnworksClient,
    OrderDetails,
    OrderStatus,
    StockLocation,
)
from lw3pl.settings import Settings

if TYPE_CHECKING:
    from sandbox.linnworks import LinnworksSandbox

__all__ = ["ensure_export_identifier", "ensure_fulfilment_centre", "format_orders", "run_demo"]

DEMO_ORDERS = 8


def ensure_fulfilment_centre(linnworks: LinnworksClient, name: str) -> StockLocation:
    """The location called ``name`` as a fulfilment centre that deducts stock when processed.

    Created if missing; otherwise updated (whole record, as read) when its flags are not yet right.
    """
    existing = _location_named(linnworks, name)
    if existing is None:
        linnworks.add_location(
            StockLocation(
                location_name=name,
                is_fulfillment_center=True,
                fulfilment_center_deduct_stock_when_processed=True,
            )
        )
    elif not (existing.is_fulfillment_center and existing.fulfilment_center_deduct_stock_when_processed):
        wanted = {"is_fulfillment_center": True, "fulfilment_center_deduct_stock_when_processed": True}
        linnworks.update_location(existing.model_copy(update=wanted))
    centre = _location_named(linnworks, name)
    if centre is None:
        raise LookupError(f"Linnworks did not keep the location {name!r}")
    return centre


def _location_named(linnworks: LinnworksClient, name: str) -> StockLocation | None:
    wanted = name.strip().lower()
    return next((loc for loc in linnworks.get_stock_locations() if loc.location_name.lower() == wanted), None)


def ensure_export_identifier(linnworks: LinnworksClient, tag: str) -> Identifier:
    """The identifier with ``tag`` (created with a readable name when missing)."""
    for identifier in linnworks.get_identifiers():
        if identifier.tag.upper() == tag.upper():
            return identifier
    return linnworks.save_identifier(Identifier(tag=tag, name=tag.replace("_", " ").title()))


def format_orders(orders: Sequence[OrderDetails]) -> str:
    """A small text table of orders: ids, state, lines and totals (no customer data)."""
    header = ("Order", "Reference", "Status", "Parked", "Lines", "SKUs", "Total")
    rows = [header] + [_row(order) for order in orders]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _row(order: OrderDetails) -> tuple[str, ...]:
    info = order.general_info
    skus = ", ".join(sorted({item.sku or "?" for item in order.items}))
    total = order.totals_info.total_charge
    return (
        str(order.num_order_id),
        info.reference_num or "",
        _status_name(info.status),
        "yes" if info.is_parked else "no",
        str(sum(item.quantity for item in order.items)),
        skus if len(skus) <= 40 else skus[:39] + "…",
        f"{total} {order.totals_info.currency or ''}".strip() if total is not None else "",
    )


def _status_name(status: int) -> str:
    try:
        return OrderStatus(status).name
    except ValueError:
        return str(status)


def _seed_orders(sandbox: LinnworksSandbox, location_id: str, count: int) -> None:
    # Mostly paid orders ready to export, plus one unpaid and one parked (the export flow skips those).
    sandbox.create_orders(max(count - 2, 1), location_id)
    sandbox.create_orders(1, location_id, paid=False)
    sandbox.create_orders(1, location_id, parked=True)


def run_demo(out: TextIO = sys.stdout, *, seed: int = 0, order_count: int = DEMO_ORDERS) -> int:
    """Run the demo against a fresh sandbox; returns the process exit code."""
    from sandbox.linnworks import LinnworksSandbox  # only the demo needs the sandbox

    settings = Settings()
    with LinnworksSandbox(seed=seed) as sandbox:
        print(f"Linnworks sandbox on {sandbox.auth_url} (auth) and {sandbox.data_url} (data)", file=out)
        client = LinnworksClient(
            sandbox.application_id,
            SecretStr(sandbox.application_secret),
            SecretStr(sandbox.installation_token),
            auth_url=sandbox.auth_url,
        )
        with client as linnworks:
            centre = ensure_fulfilment_centre(linnworks, settings.fulfilment_centre_name)
            print(f"Fulfilment centre: {centre.location_name} ({centre.stock_location_id})", file=out)
            identifier = ensure_export_identifier(linnworks, settings.export_identifier_tag)
            print(f"Export identifier: {identifier.tag} (id {identifier.identifier_id})", file=out)
            _seed_orders(sandbox, str(centre.stock_location_id), order_count)
            order_ids = linnworks.get_all_open_orders(fulfilment_center=centre.stock_location_id)
            orders = linnworks.get_orders_by_id_batched(order_ids)
            print(f"\n{len(orders)} open orders at {centre.location_name}:\n", file=out)
            print(format_orders(orders), file=out)
    return 0
