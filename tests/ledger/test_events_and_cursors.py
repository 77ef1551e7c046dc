"""Event dedup (the same event many times has one effect) and named cursors."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from ledger import Ledger, NewEvent

from .conftest import FakeClock

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def event(event_id: str, reference: str = "order-1") -> NewEvent:
    return NewEvent(event_id=event_id, reference=reference, kind="shipment", occurred_at=AT, payload={"n": 1})


def test_same_event_three_times_is_new_once(book: Ledger) -> None:
    """Recording one event id three times returns True once, then False."""
    results = [book.record_event("evt-1", "order-1", "shipment", AT, {"tracking": "T1"}) for _ in range(3)]
    assert results == [True, False, False]
    assert book.events_seen(["evt-1", "evt-2"]) == {"evt-1"}


def test_batch_reports_per_event_in_input_order(book: Ledger) -> None:
    """A batch answers per event in the order given, counting a repeat inside the batch as seen."""
    book.record_events([event("b")])
    assert book.record_events([event("c"), event("b"), event("a"), event("c")]) == [True, False, True, False]


def test_concurrent_recorders_agree_on_one_winner(book: Ledger) -> None:
    """Threads recording the same batch at once: each event id is new for exactly one of them."""
    batch = [event(f"evt-{i:03d}") for i in range(60)]
    start = threading.Barrier(4)

    def record(shuffle: int) -> list[bool]:
        start.wait()
        rotated = batch[shuffle * 15 :] + batch[: shuffle * 15]
        flags = book.record_events(rotated)
        return [flags[rotated.index(e)] for e in batch]

    with ThreadPoolExecutor(4) as pool:
        per_thread = list(pool.map(record, range(4)))
    assert [sum(column) for column in zip(*per_thread, strict=True)] == [1] * len(batch)


def test_concurrent_recorders_on_separate_engines(migrated_url: str, account: str, clock: FakeClock) -> None:
    """Two Ledger instances (two connection pools) recording the same events: one True per event overall."""
    with (
        Ledger(migrated_url, account=account, clock=clock) as one,
        Ledger(migrated_url, account=account, clock=clock) as two,
    ):
        batch = [event(f"e{i}") for i in range(40)]
        start = threading.Barrier(2)

        def record(book: Ledger) -> list[bool]:
            start.wait()
            return book.record_events(batch)

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(record, [one, two])
    assert all(a != b for a, b in zip(first, second, strict=True))


def test_events_are_scoped_by_account_and_threepl(migrated_url: str, account: str, clock: FakeClock) -> None:
    """The same event id at another account or 3PL is a different event."""
    ledgers = [
        Ledger(migrated_url, account=account, threepl="shipbob", clock=clock),
        Ledger(migrated_url, account=f"{account}-other", threepl="shipbob", clock=clock),
        Ledger(migrated_url, account=account, threepl="sftp", clock=clock),
    ]
    try:
        assert [book.record_event("same", "r", "k", AT, {}) for book in ledgers] == [True, True, True]
    finally:
        for book in ledgers:
            book.close()


def test_latest_event_at_is_the_last_event_of_that_kind_per_order(book: Ledger) -> None:
    """A second shipment of an order moves its time on; other kinds and unknown orders do not count."""
    later = AT + timedelta(hours=3)
    book.record_events([
        event("ship-1", "order-1"),
        NewEvent(event_id="ship-2", reference="order-1", kind="shipment", occurred_at=later, payload={}),
        NewEvent(event_id="gone", reference="order-2", kind="cancelled", occurred_at=later, payload={}),
        event("ship-3", "order-3"),
    ])  # fmt: skip
    found = book.latest_event_at(["order-1", "order-2", "order-3", "order-4"], kind="shipment")
    assert found == {"order-1": later, "order-3": AT}


def test_cursor_round_trip_and_overwrite(book: Ledger) -> None:
    """A cursor is None until set; setting it again replaces the value."""
    assert book.get_cursor("shipbob-events") is None
    book.set_cursor("shipbob-events", "page=1")
    book.set_cursor("shipbob-events", "page=2")
    book.set_cursor("other", "x")
    assert book.get_cursor("shipbob-events") == "page=2"


def test_a_batch_of_events_is_stored_with_every_value_as_given(migrated_url: str, book: Ledger) -> None:
    """Each recorded event's row holds its reference, kind, time (UTC) and payload as given, on both
    databases (PostgreSQL inserts a batch from one JSON document, ledger._recordsets): quotes, backslashes,
    braces and the word NULL, which the document must escape, arrive unchanged."""
    import sqlalchemy as sa

    from ledger._schema import EventRow

    later = AT + timedelta(hours=5, microseconds=7)
    given = [
        NewEvent(event_id="p-1", reference="order-1", kind="shipment", occurred_at=AT, payload={"n": [1, 2]}),
        NewEvent(event_id="p-2", reference="order-2", kind="cancelled", occurred_at=later, payload={}),
        NewEvent(
            event_id="p-3", reference="NULL", kind="shipment", occurred_at=AT, payload={"t": 'é"x\\y {}'}
        ),
    ]
    assert book.record_events(given) == [True, True, True]
    engine = sa.create_engine(migrated_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(EventRow.event_id, EventRow.reference, EventRow.kind, EventRow.occurred_at)
                .add_columns(EventRow.payload)
                .where(EventRow.event_id.in_([e.event_id for e in given]))  # the database may be shared
                .order_by(EventRow.event_id)
            ).all()
    finally:
        engine.dispose()
    stored = [
        (i, r, k, at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC), p) for i, r, k, at, p in rows
    ]
    assert stored == [(e.event_id, e.reference, e.kind, e.occurred_at, e.payload) for e in given]
