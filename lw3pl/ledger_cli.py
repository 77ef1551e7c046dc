"""``lw3pl ledger ...``: what an operations person needs to act on the ledger without SQL.

``quarantined`` lists orders waiting for a person with the reason; ``release ORDER_ID`` sends one back to the
state it came from (the next scheduled run carries on); ``holds`` lists stock changes held for review, and
``approve-stock ID`` / ``reject-stock ID`` settle one (an approved change is written by the next sync-stock).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ledger import Ledger, LedgerError, State
from lw3pl.core.settings import Settings

__all__ = ["add_ledger_commands", "run_ledger_command"]


def add_ledger_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``lw3pl ledger`` and its subcommands."""
    ledger = commands.add_parser(
        "ledger", help="inspect and settle quarantined orders and held stock changes"
    )
    actions = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("quarantined", help="orders waiting for a person, with the reason")
    release = actions.add_parser("release", help="send a quarantined order back to where it was")
    release.add_argument("reference", metavar="ORDER_ID", help="the Linnworks OrderId")
    release.add_argument("--to", choices=[s.value for s in State], default=None, help="another state instead")
    actions.add_parser("holds", help="stock changes held for review")
    for verb in ("approve-stock", "reject-stock"):
        settle = actions.add_parser(verb, help=f"{verb.split('-')[0]} a held stock change")
        settle.add_argument("hold_id", type=int, metavar="ID")
        settle.add_argument("--note", default="", help="why (kept with the hold)")


def run_ledger_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Carry out one ``lw3pl ledger`` action against the ledger the settings name; returns the exit code."""
    settings = Settings()
    book = Ledger(
        settings.resolved_ledger_url,
        account=settings.lw3pl_account,
        threepl=settings.threepl_adapter,
        migrate=True,
    )
    try:
        return _act(book, args, out or sys.stdout)
    except LedgerError as error:
        print(f"lw3pl ledger: {error}", file=sys.stderr)
        return 1
    finally:
        book.close()


def _act(book: Ledger, args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "quarantined":
        orders = book.quarantined()
        for order in orders:
            came_from = order.quarantined_from.value if order.quarantined_from else "?"
            print(
                f"{order.reference}  #{order.num_order_id}  from {came_from}: {order.quarantine_reason}",
                file=out,
            )
        print(f"{len(orders)} quarantined order(s)", file=out)
    elif args.action == "release":
        record = book.release_quarantine(
            args.reference, State(args.to) if args.to else None, detail="lw3pl ledger"
        )
        print(f"{record.reference} released to {record.state.value}", file=out)
    elif args.action == "holds":
        holds = book.held_stock_changes()
        for hold in holds:
            print(f"{hold.id}  {hold.sku}: {hold.current} -> {hold.proposed} ({hold.reason})", file=out)
        print(f"{len(holds)} held stock change(s)", file=out)
    else:
        hold = book.resolve_held(args.hold_id, approve=args.action == "approve-stock", note=args.note)
        print(f"stock change {hold.id} for {hold.sku}: {hold.status.value}", file=out)
    return 0
