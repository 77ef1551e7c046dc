"""The ledger: the durable record of every order sent to a 3PL, and of events, cursors, stock and catalogue.

Correctness lives here, not in Prefect's cache. Each order has one row per (account, 3PL, reference), where
the reference is the Linnworks OrderId, fixed before the first attempt. Every state change is one
transaction, committed before the next outside call, and kept in an audit trail (``Ledger.history``).

States and allowed transitions (``ALLOWED`` is the table; anything else raises ``IllegalTransitionError``)::

    (register)
        |
        v
     pending ----------------------------------------------------------------> cancelled (terminal)
        |  ^ lookup found nothing at the 3PL                                       ^   ^
        v  |                                                                       |   |
     submitting ----> cancel_requested --------------------------------------------+   |
        |  (3PL create attempted; outcome unknown until looked up)       ^             |
        v                                                                |             |
     submitted ---> exported -----------+------------------------------->+-------------+
        |              |                |                                |             |
        +--------------+--> partially_shipped <--+ (more parcels)       |             |
        |              |       |    ^  |_________+                      |             |
        |              |       v    |                                    |             |
        +--------------+---> shipped  <----------------------------------+ (too late)  |
                               |                                                       |
                               v  tracking written and read back                      |
                        tracking_written                                               |
                               |                                                       |
                               v                                                       |
                          processed (terminal)                                         |
                                                                                       |
    on_hold   <- submitted | exported | partially_shipped | cancel_requested           |
    on_hold   -> submitted | exported | partially_shipped | shipped | cancel_requested | cancelled
    quarantined <- every open state (``Ledger.quarantine``, with a reason a person can act on)
    quarantined -> the state it came from, or any other (``Ledger.release_quarantine``)

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
- ``on_hold``: the 3PL cancelled or held it; waiting for a person.
- ``quarantined``: waiting for a person, with ``quarantine_reason`` and ``quarantined_from``.

Workers lease rows with ``Ledger.claim`` and pass ``owner=`` to ``transition`` so a lost lease raises
``LeaseLostError`` instead of writing; ``expected_from=`` makes each move a compare-and-set on the state.

Example:
    >>> import ledger
    >>> ledger.migrate("sqlite:///.lw3pl/ledger.db")
    >>> book = ledger.Ledger("sqlite:///.lw3pl/ledger.db", account="acme", threepl="shipbob")
    >>> book.register([ledger.NewOrder(reference="9f1c...", num_order_id="1001", payload_hash="ab12")])
    >>> [order] = book.claim([ledger.State.PENDING], owner="run-42", limit=10, lease_seconds=300)
    >>> book.transition(order.reference, ledger.State.SUBMITTING, expected_from=[ledger.State.PENDING],
    ...                 owner="run-42", count_attempt=True)
"""

from ledger._engine import make_engine, migrate
from ledger._errors import (
    EmptyReasonError,
    IllegalTransitionError,
    LeaseLostError,
    LedgerError,
    StateConflictError,
    UnknownOrderError,
)
from ledger._records import (
    HeldStockChange,
    HoldStatus,
    NewEvent,
    NewOrder,
    OrderRecord,
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
    "OPEN_STATES",
    "SHIPPED_UNPROCESSED_STATES",
    "TERMINAL_STATES",
    "Changes",
    "EmptyReasonError",
    "HeldStockChange",
    "HoldStatus",
    "IllegalTransitionError",
    "LeaseLostError",
    "Ledger",
    "LedgerError",
    "NewEvent",
    "NewOrder",
    "OrderRecord",
    "RegisterResult",
    "ShipmentSeen",
    "ShippedLine",
    "State",
    "StateConflictError",
    "StockState",
    "TransitionRecord",
    "UnknownOrderError",
    "is_allowed",
    "make_engine",
    "migrate",
    "utc_now",
]
