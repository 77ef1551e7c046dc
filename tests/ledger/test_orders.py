"""Registering orders, reading them back, quarantine with a reason, and hostile text stored byte for byte."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ledger import (
    EmptyReasonError,
    IllegalTransitionError,
    Ledger,
    NewOrder,
    OrderSummary,
    State,
    StateConflictError,
)

from .conftest import FakeClock, drive_to, new_order

HOSTILE = [
    'O\'Brien "quoted" `tick`',
    "'; DROP TABLE ledger_orders; --",
    "Robert'); DELETE FROM ledger_events WHERE ('1'='1",
    "emoji 📦🚚✅ and ZWJ 👩‍👩‍👧",
    "עברית RTL \u202emixed\u202c العربية",
    "back\\slash, percent %s %(x)s, braces {0}, newline\nand tab\t",
    "x" * 300,
]


def test_register_is_idempotent(book: Ledger) -> None:
    """Registering known references again creates nothing and reports those rows with their state."""
    first = book.register([new_order("a", 1), new_order("b", 2)])
    assert [o.reference for o in first.new] == ["a", "b"] and first.existing == ()
    assert all(o.state is State.PENDING and o.attempts == 0 for o in first.new)
    book.transition("a", State.SUBMITTING, expected_from=[State.PENDING], owner=None)
    again = book.register(
        [new_order("b", 2, "changed"), new_order("a", 1), new_order("c", 3), new_order("c", 9)]
    )
    assert [o.reference for o in again.new] == ["c"] and again.new[0].num_order_id == "3"
    assert [(o.reference, o.state) for o in again.existing] == [("b", State.PENDING), ("a", State.SUBMITTING)]
    assert again.existing[0].payload_hash == "hash-1"
    assert book.counts_by_state()[State.PENDING] == 2


def test_concurrent_register_creates_each_row_once(book: Ledger) -> None:
    """Threads registering overlapping batches: every reference is new for exactly one of them."""
    orders = [new_order(f"r{i:03d}", i) for i in range(80)]
    start = threading.Barrier(4)

    def register(offset: int) -> set[str]:
        start.wait()
        result = book.register(orders[offset * 20 :] + orders[: offset * 20])
        return {o.reference for o in result.new}

    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(register, range(4)))
    assert sum(len(c) for c in created) == 80
    assert set().union(*created) == {o.reference for o in orders}
    assert all(len(book.history(o.reference)) == 1 for o in orders[:5])


def test_num_order_id_accepts_the_linnworks_int() -> None:
    """NewOrder takes the Linnworks NumOrderId as an int and keeps it as display text."""
    assert NewOrder(reference="r", num_order_id=100234, payload_hash="h").num_order_id == "100234"  # type: ignore[arg-type]


def test_reads(book: Ledger, clock: FakeClock) -> None:
    """get, get_many, in_states (oldest first, stuck filter), references_in (in_states' order, references
    only) and counts_by_state (of every state or of some) agree with the writes."""
    book.register([new_order("old"), new_order("new")])
    book.transition("old", State.SUBMITTING, expected_from=[State.PENDING], owner=None)
    clock.advance(600)
    book.transition("new", State.SUBMITTING, expected_from=[State.PENDING], owner=None)
    assert book.get("missing") is None
    assert set(book.get_many(["old", "new", "missing"])) == {"old", "new"}
    assert [o.reference for o in book.in_states([State.SUBMITTING])] == ["old", "new"]
    assert [o.reference for o in book.in_states([State.SUBMITTING], limit=1)] == ["old"]
    stuck = book.in_states([State.SUBMITTING], updated_before=clock() - timedelta(seconds=300))
    assert [o.reference for o in stuck] == ["old"]
    assert book.references_in([State.SUBMITTING]) == ["old", "new"]
    assert book.references_in([State.PENDING]) == []
    counts = book.counts_by_state()
    assert counts[State.SUBMITTING] == 2 and sum(counts.values()) == 2 and set(counts) == set(State)
    book.transition("new", State.SUBMITTED, expected_from=[State.SUBMITTING], owner=None)
    only = book.counts_by_state([State.SUBMITTED, State.PENDING])
    assert (only[State.SUBMITTED], only[State.PENDING], only[State.SUBMITTING]) == (1, 0, 0)
    assert set(only) == set(State)
    assert book.references_in([State.SUBMITTED, State.PENDING]) == ["new"]


def test_summaries_read_what_report_rows_show_of_this_account_s_orders(
    book: Ledger, migrated_url: str, clock: FakeClock
) -> None:
    """summaries: number, 3PL id, carrier and every tracking number of each known order (unknown ones
    absent), the same as the whole record says; another account's order of the same reference is not read."""
    book.register([new_order("sent", 41), new_order("fresh", 42)])
    book.transition(
        "sent", State.SUBMITTING, expected_from=[State.PENDING], owner=None,
        remote_id="R-1", carrier="DPD", tracking_numbers=["T-1", "T-2"],
    )  # fmt: skip
    with Ledger(migrated_url, account="another-seller", threepl="shipbob", clock=clock) as other:
        other.register([new_order("fresh", 99)])
    summaries = book.summaries(["sent", "fresh", "missing"])
    assert summaries == {
        "sent": OrderSummary("41", "R-1", "DPD", ("T-1", "T-2")),
        "fresh": OrderSummary("42", None, None, ()),
    }
    for reference, record in book.get_many(["sent", "fresh"]).items():
        whole = (record.num_order_id, record.remote_id, record.carrier, record.tracking_numbers)
        assert summaries[reference] == whole


def test_references_in_lists_this_account_s_orders_only(
    book: Ledger, migrated_url: str, clock: FakeClock
) -> None:
    """references_in reads the account's own orders: another account's order in the same state, even of
    the same reference, is not listed."""
    book.register([new_order("mine")])
    with Ledger(migrated_url, account="another-seller", threepl="shipbob", clock=clock) as other:
        other.register([new_order("mine"), new_order("theirs")])
    assert book.references_in([State.PENDING]) == ["mine"]


def test_update_changes_fields_without_moving(book: Ledger) -> None:
    """update records an error and an attempt but leaves the state and the audit trail as they were."""
    drive_to(book, "r", State.SUBMITTING)
    record = book.update(
        "r", expected_from=[State.SUBMITTING], owner=None, last_error="timeout after 30 s",
        count_attempt=True,
    )  # fmt: skip
    assert (record.state, record.last_error, record.attempts) == (State.SUBMITTING, "timeout after 30 s", 1)
    assert book.update("r", expected_from=[State.SUBMITTING], owner=None, last_error=None).last_error is None
    assert len(book.history("r")) == 2
    with pytest.raises(StateConflictError):
        book.update("r", expected_from=[State.PENDING], owner=None, remote_id="x")
    with pytest.raises(TypeError, match="bogus"):
        book.update("r", expected_from=[State.SUBMITTING], owner=None, bogus=1)  # type: ignore[call-arg]


def test_quarantine_and_release_round_trip(book: Ledger) -> None:
    """A quarantined order keeps its reason and origin; release returns it there and clears both."""
    drive_to(book, "r", State.SHIPPED)
    book.claim([State.SHIPPED], "w", limit=1, lease_seconds=60)
    parked = book.quarantine(
        "r", "tracking read back 'T2' but wrote 'T1'", expected_from=[State.SHIPPED], owner="w",
        last_error="mismatch",
    )  # fmt: skip
    assert (parked.state, parked.quarantined_from) == (State.QUARANTINED, State.SHIPPED)
    assert parked.quarantine_reason == "tracking read back 'T2' but wrote 'T1'"
    assert [o.reference for o in book.quarantined()] == ["r"]
    released = book.release_quarantine("r", detail="Sam fixed the tracking by hand")
    assert (released.state, released.quarantine_reason, released.quarantined_from) == (
        State.SHIPPED,
        None,
        None,
    )
    assert released.lease_owner is None and released.last_error == "mismatch"
    assert "Sam fixed" in book.history("r")[-1].detail
    assert book.quarantined() == []


def test_release_to_a_chosen_state_and_refusals(book: Ledger) -> None:
    """Release may name the state; an empty reason, a terminal order, or releasing a free order is refused."""
    drive_to(book, "r", State.PENDING)
    with pytest.raises(EmptyReasonError):
        book.quarantine("r", " \n\t", expected_from=[State.PENDING], owner=None)
    book.quarantine(
        "r", "unknown SKU 'ABC-1': add it to the 3PL catalogue", expected_from=[State.PENDING], owner=None
    )
    with pytest.raises(IllegalTransitionError):
        book.quarantine("r", "again", expected_from=[State.QUARANTINED], owner=None)
    assert book.release_quarantine("r", State.CANCELLED).state is State.CANCELLED
    with pytest.raises(IllegalTransitionError):
        book.quarantine("r", "too late", expected_from=[State.CANCELLED], owner=None)
    with pytest.raises(StateConflictError):
        book.release_quarantine("r")


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile-{i}" for i in range(len(HOSTILE))])
def test_hostile_text_is_stored_byte_for_byte(book: Ledger, text: str) -> None:
    """Quotes, SQL, emoji and right-to-left marks, in keys and in text, come back exactly as written."""
    book.register([NewOrder(reference=text, num_order_id=text, payload_hash=text)])
    book.quarantine(
        text, text, expected_from=[State.PENDING], owner=None, last_error=text, carrier=text,
        remote_id=text, tracking_numbers=[text],
    )  # fmt: skip
    book.record_event(text, text, text, datetime(2026, 1, 1, tzinfo=UTC), {text: [text]})
    book.set_cursor(text, text)
    book.record_catalogue_hash(text, text)
    book.record_stock_written(text, 1, datetime(2026, 1, 1, tzinfo=UTC))
    record = book.get(text)
    assert record is not None
    fields = [record.reference, record.num_order_id, record.payload_hash, record.quarantine_reason]
    fields += [record.last_error, record.carrier, record.remote_id, record.tracking_number]
    assert fields == [text] * 8
    assert book.history(text)[-1].detail == text
    assert book.events_seen([text]) == {text}
    assert book.get_cursor(text) == text
    assert book.catalogue_hashes([text]) == {text: text}
    assert list(book.stock_state([text])) == [text]


def test_long_text_is_kept_whole_and_long_keys_are_refused(book: Ledger) -> None:
    """10,000 mixed characters survive in reasons, errors, payloads and cursors; an absurd key is refused."""
    rng = random.Random(14)
    text = "".join(rng.choice("aZ9 '\"%;--📦עב\u202e\n") for _ in range(10_000))
    book.register([new_order("r")])
    record = book.quarantine("r", text, expected_from=[State.PENDING], owner=None, last_error=text)
    book.record_event("e", "r", "shipment", datetime(2026, 1, 1, tzinfo=UTC), {"detail": text})
    book.set_cursor("c", text)
    assert (record.quarantine_reason, record.last_error, book.get_cursor("c")) == (text, text, text)
    assert book.history("r")[-1].detail == text
    with pytest.raises(ValidationError):
        NewOrder(reference="x" * 301, num_order_id="1", payload_hash="h")


def test_times_come_back_timezone_aware_utc(migrated_url: str, account: str) -> None:
    """A clock in another timezone is stored as UTC and every datetime read back is aware UTC."""
    plus_two = timezone(timedelta(hours=2))
    with Ledger(
        migrated_url, account=account, clock=lambda: datetime(2026, 11, 27, 11, 0, tzinfo=plus_two)
    ) as book:
        [order] = book.register([new_order("r")]).new
        book.record_stock_written("S", 1, datetime(2026, 11, 27, 12, 0, tzinfo=plus_two))
        assert order.created_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        assert order.created_at.utcoffset() == timedelta(0)
        assert book.stock_state()["S"].as_of == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    with (
        Ledger(migrated_url, account=account, clock=lambda: datetime(2026, 11, 27, 11, 0)) as naive,
        pytest.raises(ValueError),
    ):
        naive.register([new_order("n")])


def test_accounts_and_threepls_do_not_see_each_other(
    migrated_url: str, account: str, clock: FakeClock
) -> None:
    """Rows of one account/3PL are invisible to another in the same database; references may repeat."""
    with (
        Ledger(migrated_url, account=account, clock=clock) as a,
        Ledger(migrated_url, account=f"{account}-b", clock=clock) as b,
        Ledger(migrated_url, account=account, threepl="sftp", clock=clock) as a_sftp,
    ):
        for book in (a, b, a_sftp):
            assert len(book.register([new_order("same")]).new) == 1
        a.transition("same", State.SUBMITTING, expected_from=[State.PENDING], owner=None)
        assert [book.get("same").state for book in (a, b, a_sftp)] == [  # type: ignore[union-attr]
            State.SUBMITTING,
            State.PENDING,
            State.PENDING,
        ]
        assert b.claim([State.SUBMITTING], "w", limit=5, lease_seconds=5) == []


def test_every_order_move_states_the_states_it_expects_and_the_lease_it_holds(book: Ledger) -> None:
    """``transition``, ``update`` and ``quarantine`` cannot be called without ``expected_from`` and ``owner``;
    a person's release (``release_quarantine``) is the one move without them."""
    drive_to(book, "r", State.PENDING)
    with pytest.raises(TypeError, match="expected_from"):
        book.transition("r", State.SUBMITTING, owner=None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="owner"):
        book.update("r", expected_from=[State.PENDING], last_error="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="expected_from"):
        book.quarantine("r", "a reason", owner=None)  # type: ignore[call-arg]
    assert [h.to_state for h in book.history("r")] == [State.PENDING]


def test_a_registered_record_is_the_row_read_back(book: Ledger) -> None:
    """The records ``register`` builds from what it inserted equal the rows read back from the database."""
    created = book.register([new_order("a", 1), new_order("b", 2)]).new
    assert list(created) == [book.get("a"), book.get("b")]


def test_order_values_fields_are_the_order_columns_in_table_order() -> None:
    """``OrderValues.of`` builds from a row's values by position: the fields follow the table's columns."""
    from dataclasses import fields

    from ledger._order_rows import ORDER_COLUMNS, OrderValues

    columns = [column.name for column in ORDER_COLUMNS]
    assert [field.name for field in fields(OrderValues)][: len(columns)] == columns


@pytest.mark.parametrize("as_bytes", [False, True], ids=["sqlite-text", "psycopg-bytes"])
def test_a_json_cell_reads_back_as_the_value_written(as_bytes: bool) -> None:
    """The engine's JSON reader (orjson, the json module for what orjson refuses) gives back what its writer
    wrote: nested values, hostile text, an empty list, and a float NaN (which only the json module reads)."""
    import math

    from ledger._engine import _json_loads, json_text

    values = [[], {"lines": [{"sku": s, "quantity": 2} for s in HOSTILE]}, [1.5, None, True, "é"]]

    def read(text: str) -> object:
        return _json_loads(text.encode() if as_bytes else text)

    assert [read(json_text(value)) for value in values] == values
    nan = read(json_text({"weight": float("nan")}))
    assert isinstance(nan, dict) and math.isnan(nan["weight"])
