"""The interface between the core (ledger, tasks) and a 3PL.

The core owns idempotency: it fixes the reference (the Linnworks OrderId) before the first attempt and
calls :meth:`ThreePLAdapter.find_order` before any retry whose outcome was not seen. Adapters translate
their native duplicate signal into ``SubmitOutcome.DUPLICATE`` and their errors into ``clients.errors``:
``OutcomeUnknownError`` when a create's reply was lost, ``RetryableError``/``RateLimitedError`` for
transient faults, ``StopError`` for bad credentials. A rejected order is a result, not an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from clients.threepl.models import (
    Address,
    CancelResult,
    Capabilities,
    CatalogueItem,
    ChangeResult,
    Event,
    EventPage,
    FulfilmentOrder,
    InventorySnapshot,
    ItemResult,
    RemoteOrder,
    SubmitResult,
    WrittenTracking,
)

__all__ = ["ThreePLAdapter"]


@runtime_checkable
class ThreePLAdapter(Protocol):
    """What every warehouse adapter provides. Methods are synchronous and safe to call from threads."""

    name: str

    def capabilities(self) -> Capabilities:
        """What this 3PL supports; the core degrades where a capability is missing."""
        ...

    def submit_order(self, order: FulfilmentOrder) -> SubmitResult:
        """Create the order under ``order.reference``: accepted | duplicate | rejected | retryable."""
        ...

    def find_order(self, reference: str) -> RemoteOrder | None:
        """The 3PL order for our reference, or None: the lookup before retrying an unseen outcome."""
        ...

    def cancel_order(self, reference: str, reason: str) -> CancelResult:
        """Ask the 3PL to cancel: cancelled | requested | too late | unsupported | not found."""
        ...

    def change_order(self, order: FulfilmentOrder) -> ChangeResult:
        """Bring the 3PL's open order ``order.reference`` to ``order`` (address, lines, service), where
        ``capabilities()`` allows: applied | unchanged | too late (picked) | unsupported | not found.
        Sending the same order twice changes nothing the second time."""
        ...

    def corrected_address(self, order: FulfilmentOrder) -> Address | None:
        """The delivery address the 3PL holds for the open order ``order.reference`` when it differs from
        ``order.ship_to`` (the 3PL corrected it), else None; None too where the 3PL cannot tell."""
        ...

    def poll_events(self, checkpoint: str | None) -> EventPage:
        """Events since ``checkpoint`` (None: from the beginning), each with a stable dedup key."""
        ...

    def ack(self, events: Sequence[Event]) -> None:
        """Tell the 3PL these events were recorded (SFTP: move their files to processed/)."""
        ...

    def confirm_tracking(self, orders: Sequence[WrittenTracking]) -> None:
        """Tell the 3PL these orders' tracking is written and read back in Linnworks (ShipBob: mark the
        parcels tracking-uploaded, which takes them off its work queue). Failing here loses nothing:
        an unconfirmed parcel is polled again and its event is a duplicate."""
        ...

    def fetch_inventory(self) -> InventorySnapshot:
        """Usable on-hand per SKU, with the time the 3PL computed it."""
        ...

    def upsert_items(self, items: Sequence[CatalogueItem]) -> list[ItemResult]:
        """Create or update catalogue items by SKU."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
