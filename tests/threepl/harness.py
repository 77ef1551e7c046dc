"""What the 3PL contract suite needs from each adapter under test (see conftest.py for how to plug in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from clients.threepl import ThreePLAdapter
from sandbox.warehouse import ManualClock as WarehouseClock
from sandbox.warehouse import Warehouse

__all__ = ["T0", "AdapterHarness", "ManualClock"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ManualClock(WarehouseClock):
    """The warehouse's manual clock, starting at ``T0`` so contract runs are reproducible."""

    def __init__(self, now: datetime = T0) -> None:
        super().__init__(now)


@dataclass
class AdapterHarness:
    """One adapter wired to a sandbox that is backed by ``warehouse``.

    Attributes:
        name: the adapter's parameter id ("shipbob", "sftp").
        adapter: the adapter under test, configured for tests (no pacing, no retry waits).
        warehouse: the simulation behind the sandbox; its clock is a ``ManualClock``.
        settle: let the 3PL side catch up: deliver what the adapter sent into the warehouse and publish
            the warehouse's current state where the adapter reads it (ShipBob: nothing to do; SFTP: the
            warehouse process imports inbound files and writes outbound ones). Tests call it after every
            adapter write and after every direct warehouse change, before the next adapter read.
        lose_next_create_reply: the next ``submit_order`` reaches the warehouse, but its reply is lost,
            so the adapter raises ``OutcomeUnknownError``.
        corrupt_shipment: from now on, what the adapter reads about this shipped order (by our
            reference) is malformed (e.g. no tracking number), so the record must be quarantined.
    """

    name: str
    adapter: ThreePLAdapter
    warehouse: Warehouse
    settle: Callable[[], None]
    lose_next_create_reply: Callable[[], None]
    corrupt_shipment: Callable[[str], None]

    @property
    def clock(self) -> ManualClock:
        clock = self.warehouse.clock
        assert isinstance(clock, ManualClock), "the contract warehouse runs on a ManualClock"
        return clock
