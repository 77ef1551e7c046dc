"""The ledger: the durable record of every order sent to a 3PL, and of events, cursors, stock and catalogue.

Correctness lives here, not in Prefect's cache. Each order has one row per (account, 3PL, reference), where
the reference is the Linnworks OrderId, fixed before the first attempt. Every state change is committed
before the next outside call, and kept in an audit trail (``Ledger.history``, one line per transition).

The ledger is split by what it records, over one engine and one migration history: ``ledger.orders`` (the
saga, ``_orders.py``), ``ledger.leases`` (claims, ``_leases.py``), ``ledger.events`` (events and cursors),
``ledger.stock`` (levels, holds) and ``ledger.catalogue``. ``Ledger`` is the one object tasks hold; its
methods delegate to those parts.

Group commit: nothing in the saga needs one transaction per order, only that each step is committed before
the outside call that relies on it. So a batch moves in one transaction: ``register(batch)``,
``transition_each(moves, owner=...)`` (each order with its own changes; per-order outcome ``MOVED`` /
``STATE_CONFLICT`` / ``LEASE_LOST`` / ``UNKNOWN_ORDER``, never all or nothing), ``apply_events(page,
owner=...)`` (a page of 3PL events and the moves they cause). ``Ledger.stats()`` counts statements and
commits. SQLite runs in WAL with ``synchronous=NORMAL``; ``ledger/_engine.py`` states what that trades.

The main path, one arrow per step; a batch of orders takes each arrow together::

    pending --> submitting --> submitted --> exported --> partially_shipped --> shipped
     (row,       (3PL create     (3PL id       (Linnworks    (some parcels;        (all parcels;
     reference)   attempted)      recorded)     tag written)  loops per parcel)     tracking recorded)

    shipped --> tracking_written --> processed (terminal)
                 (written to Linnworks    (processed in Linnworks; only ever from tracking_written)
                  and read back equal)

Every allowed transition (this list is checked against ``ALLOWED`` by the tests; anything else raises
``IllegalTransitionError`` naming the order, the from-state and the to-state)::

    pending           -> submitting, cancelled, quarantined
    submitting        -> pending, submitted, cancel_requested, quarantined
    submitted         -> exported, partially_shipped, shipped, cancel_requested, cancelled, on_hold,
                         quarantined
    exported          -> partially_shipped, shipped, cancel_requested, cancelled, on_hold, quarantined
    partially_shipped -> partially_shipped, shipped, cancel_requested, on_hold, quarantined
    shipped           -> tracking_written, quarantined
    tracking_written  -> processed, quarantined
    processed         -> (terminal)
    cancel_requested  -> partially_shipped, shipped, cancelled, on_hold, quarantined
    cancelled         -> (terminal)
    on_hold           -> submitted, exported, partially_shipped, shipped, cancel_requested, cancelled,
                         quarantined
    quarantined       -> any other state (a person decides; ``release_quarantine`` defaults to the origin)

What each state means for the next run:

- ``pending``: row and reference exist, payload hash stored, nothing sent.
- ``submitting``: a create at the 3PL started and its outcome was not recorded. Look the reference up at the
  3PL before any retry: found -> ``submitted``; proven absent -> ``pending``.
- ``submitted``: the 3PL accepted (``remote_id``); the Linnworks tag is still to be written.
- ``exported``: tagged in Linnworks.
- ``partially_shipped`` / ``shipped``: shipments seen (``Changes.shipment`` appends one, idempotently);
  ``shipped`` means complete, tracking still to be written to Linnworks.
- ``tracking_written``: shipping info written and read back equal; ready to process.
- ``processed``: processed in Linnworks (terminal).
- ``cancel_requested``: cancelled in Linnworks after export; the 3PL cancel is pending or requested.
- ``cancelled``: terminal.
- ``on_hold``: the 3PL cancelled it; waiting for a person. (A 3PL *hold* keeps the state: tasks.holds.)
- ``quarantined``: waiting for a person, with ``quarantine_reason`` and ``quarantined_from``.

Workers lease rows with ``Ledger.claim`` and pass ``owner=`` to ``transition`` so a lost lease raises
``LeaseLostError`` instead of writing; ``expected_from=`` makes each move a compare-and-set on the state
(``StateConflictError`` when another run moved it first: skip that order). ``ledger.orders.transition`` and
``Move`` require both, so a move without them cannot be written; ``Ledger.transition``, ``update`` and
``quarantine`` require both too, where ``owner=None`` states that no lease is held (a 3PL event, applied
whichever run holds the order, guarded by ``expected_from`` alone). The one move a person makes without a
lease is ``release_quarantine``. A dead owner's leases need not run out: ``release_claims_of(owners)``
frees them, and ``release_dead_local_owners()`` frees those of ``host:pid:...`` owners on this host whose
process is gone.

When the database cannot be reached or drops the connection, every call raises ``LedgerUnavailableError``
(one message naming the database and what to check); the transaction in flight is rolled back, so each order
is in the state last committed, and the next call reconnects. Records returned are frozen pydantic models
built from rows (``from_attributes``), detached from any session; every datetime is timezone-aware UTC.

How the flows use it (each bullet is one ledger transaction unless it names an outside call):

- export: ``register`` the open orders -> ``claim([PENDING, SUBMITTING])``. A ``submitting`` row: look the
  reference up at the 3PL; found -> ``transition(SUBMITTED, remote_id=...)``; absent ->
  ``transition(PENDING)``.
  A ``pending`` row: ``transition(SUBMITTING, count_attempt=True)`` -> 3PL create (outside) -> accepted or
  duplicate: ``transition(SUBMITTED, remote_id=...)``; rejected: ``quarantine(reason)``; unknown outcome:
  ``update(last_error=...)`` and leave it in ``submitting`` -> Linnworks tag (outside) ->
  ``transition(EXPORTED)`` -> ``release(references, owner)``.
- shipments: poll events -> drop ``events_seen`` -> per event ``transition(PARTIALLY_SHIPPED | SHIPPED,
  shipment=ShipmentSeen(...))`` (appending a shipment id twice is a no-op) -> ``record_events`` after the
  effects are committed -> ``set_cursor``. Write tracking and read it back (outside) ->
  ``transition(TRACKING_WRITTEN)`` -> process (outside; on a retry re-read ``Processed`` first) ->
  ``transition(PROCESSED)``.
- stock: level = 3PL on-hand + ``shipped_unprocessed_units()[sku]``; compare with ``stock_state``; a change
  above the threshold -> ``hold_stock_change`` (unless ``held_stock_changes(HoldStatus.APPROVED)`` has that
  SKU: a person approved it); else SetStockLevel (outside) -> ``record_stock_written_many`` (refuses a
  snapshot older than the one recorded; closes approved holds as applied). One stock sync per account at a
  time: the ledger orders the records, not the SetStockLevel calls of two overlapping runs.
- the same, batched (one transaction per batch and step): export moves the claimed batch to ``submitting``
  with one ``transition_each``, sends the creates concurrently, records all results with one
  ``transition_each`` (each its own ``remote_id``; an unknown outcome stays ``submitting``), tags, then one
  ``transition_each`` to ``exported``. Shipments: ``apply_events(page, owner=None)`` records a page of
  events and applies the complete shipments' moves in one transaction (no lease: ``expected_from`` guards;
  a move that meets another state writes the event's ``keep`` changes, the parcel), then ``set_cursor``.
- catalogue: hash each item -> send those whose hash differs from ``catalogue_hashes`` ->
  ``record_catalogue_hashes`` for the ones the 3PL accepted.

Example:
    >>> import ledger
    >>> ledger.migrate("sqlite:///.lw3pl/ledger.db")
    >>> book = ledger.Ledger("sqlite:///.lw3pl/ledger.db", account="acme", threepl="shipbob")
    >>> book.register([ledger.NewOrder(reference="9f1c...", num_order_id="1001", payload_hash="ab12")])
    >>> claimed = book.claim([ledger.State.PENDING], owner="run-42", limit=100, lease_seconds=300)
    >>> book.transition_each(
    ...     [ledger.Move(reference=o.reference, to=ledger.State.SUBMITTING,
    ...                  expected_from={ledger.State.PENDING}, changes={"count_attempt": True})
    ...      for o in claimed],
    ...     owner="run-42",
    ... )
"""

from ledger._engine import make_engine, migrate
from ledger._errors import (
    EmptyReasonError,
    IllegalTransitionError,
    LeaseLostError,
    LedgerError,
    LedgerUnavailableError,
    StateConflictError,
    UnknownOrderError,
)
from ledger._leases import NO_LEASE, dead_local_owners, local_pid_of
from ledger._records import (
    EventEffect,
    EventOutcome,
    HeldStockChange,
    HoldStatus,
    LedgerStats,
    Move,
    MoveOutcome,
    MoveStatus,
    NewEvent,
    NewOrder,
    OrderRecord,
    OrderSummary,
    RegisterResult,
    ShipmentSeen,
    ShippedLine,
    StockState,
    TransitionRecord,
)
from ledger._repository import SHIPPED_UNPROCESSED_STATES, Changes, Ledger, utc_now
from ledger._states import ALLOWED, OPEN_STATES, TERMINAL_STATES, State, is_allowed

__all__ = [
    "ALLOWED",
    "NO_LEASE",
    "OPEN_STATES",
    "SHIPPED_UNPROCESSED_STATES",
    "TERMINAL_STATES",
    "Changes",
    "EmptyReasonError",
    "EventEffect",
    "EventOutcome",
    "HeldStockChange",
    "HoldStatus",
    "IllegalTransitionError",
    "LeaseLostError",
    "Ledger",
    "LedgerError",
    "LedgerStats",
    "LedgerUnavailableError",
    "Move",
    "MoveOutcome",
    "MoveStatus",
    "NewEvent",
    "NewOrder",
    "OrderRecord",
    "OrderSummary",
    "RegisterResult",
    "ShipmentSeen",
    "ShippedLine",
    "State",
    "StateConflictError",
    "StockState",
    "TransitionRecord",
    "UnknownOrderError",
    "dead_local_owners",
    "is_allowed",
    "local_pid_of",
    "make_engine",
    "migrate",
    "utc_now",
]
