"""Export: the fulfilment centre's exportable open orders -> ledger -> 3PL -> Linnworks identifier.

The saga per order (docs/guarantees.md): register (reference fixed) -> ``submitting`` committed -> create at
the 3PL (the pivot) -> ``submitted`` with the 3PL id -> tag in Linnworks -> ``exported``. An order found in
``submitting`` (a crash or a lost reply) is looked up at the 3PL before anything is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Unpack
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE

from clients.errors import Lw3plError, OutcomeUnknownError, RecordError, RetryableError, StopError
from clients.linnworks import (
    BooleanFieldFilter,
    ExtendedProperty,
    FieldsFilter,
    FieldSorting,
    LinnworksClient,
    ListFieldFilter,
    OrderDetails,
)
from clients.threepl import FulfilmentOrder, SubmitOutcome
from ledger import Changes, Move, NewOrder, OrderRecord, State
from lw3pl.core.crashpoints import crashpoint
from tasks.context import Account, Runtime, leased, move_all, parts, runtime_for
from tasks.mapping import (
    MappingError,
    has_identifier,
    not_exportable_reason,
    payload_hash,
    to_fulfilment_order,
)
from tasks.outcomes import Outcomes
from tasks.refusals import RefusalStorm, RefusalWatch, Sent
from tasks.reporting import ReportRow, RunReport
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = ["export_batch", "list_exportable_orders", "list_open_candidates"]

logger = logging.getLogger("lw3pl.export")

UNFINISHED = (State.PENDING, State.SUBMITTING, State.SUBMITTED)
REMOTE_ID_PROPERTY = "3PL order id"
IN_FLIGHT = 8
"""Creates in flight per batch: the round trip, not the partner's limit, binds one sender (the pacer
holds the limit)."""


@task(name="list-exportable-orders", **TASK_RETRY_OPTIONS)
def list_exportable_orders(account: Account, location_id: UUID) -> list[str]:
    """Open orders at the fulfilment centre that are paid, not parked or locked and not yet tagged, plus
    every order the ledger has not finished exporting (a crash or a fault left it half-way)."""
    runtime = runtime_for(account)
    listed = list_open_candidates(runtime.linnworks, location_id, runtime.settings.export_identifier_tag)
    unfinished = runtime.ledger.references_in(UNFINISHED)
    return list(dict.fromkeys([str(order_id) for order_id in listed] + unfinished))


def list_open_candidates(linnworks: LinnworksClient, location_id: UUID, tag: str) -> list[UUID]:
    """Open orders at the location that are paid, not parked or locked and do not carry ``tag``, oldest
    first: what an export run considers (``lw3pl check`` reads the same list)."""
    filters = FieldsFilter(
        list_fields=[
            ListFieldFilter(field_code="GENERAL_INFO_IDENTIFIER", type="Not", value=tag),
            ListFieldFilter(field_code="GENERAL_INFO_STATUS", type="Is", value="1"),
        ],
        boolean_fields=[
            BooleanFieldFilter(field_code="GENERAL_INFO_PARKED", value=False),
            BooleanFieldFilter(field_code="GENERAL_INFO_LOCKED", value=False),
        ],
    )
    sorting = [FieldSorting(field_code="GENERAL_INFO_DATE", direction="Ascending", order=1)]
    return linnworks.get_all_open_orders(fulfilment_center=location_id, filters=filters, sorting=sorting)


@dataclass
class _Batch:
    """One batch's working set: Linnworks details and payloads; what happened is recorded in ``work``."""

    work: Outcomes
    location_id: UUID
    details: dict[str, OrderDetails]
    payloads: dict[str, FulfilmentOrder] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    """``payload_hash`` of each payload, computed once per run."""
    not_exportable: dict[str, str] = field(default_factory=dict)
    """Why an order is not to be sent now (``not_exportable_reason``), judged once from its details."""


@task(name="export-batch", cache_policy=NO_CACHE, **TASK_RETRY_OPTIONS)  # sends orders: never a cached result
def export_batch(account: Account, order_ids: Sequence[str], location_id: UUID) -> RunReport:
    """Run the export saga for one batch of orders, a part at a time (tasks.context.PART_SIZE); per-order
    problems are quarantined or deferred."""
    runtime = runtime_for(account)
    return RunReport.combine(_export_part(runtime, part, location_id) for part in parts(order_ids))


def _export_part(runtime: Runtime, order_ids: Sequence[str], location_id: UUID) -> RunReport:
    orders = runtime.linnworks.get_orders_by_id([UUID(reference) for reference in order_ids])
    details = {str(order.order_id): order for order in orders}
    labels = {reference: str(order.num_order_id) for reference, order in details.items()}
    batch = _Batch(Outcomes(runtime, labels=labels), location_id, details)
    unmappable = _register(batch)
    owner = batch.work.owner
    with leased(runtime, UNFINISHED, owner, limit=len(order_ids), references=order_ids) as claimed:
        for record in claimed:
            if record.state is State.PENDING and record.reference in unmappable:
                batch.work.quarantine(record, unmappable[record.reference], expected_from=[State.PENDING])
        _tag(batch, _submit_all(batch, claimed))
    return batch.work.report


def _register(batch: _Batch) -> dict[str, str]:
    """Fix the reference and payload of every exportable order in the ledger before any outside call;
    returns the pending orders that cannot be mapped, with why (quarantined once claimed).

    An order not exportable now is left out unless the ledger knows it (a run left it half-way). The rest
    are registered at once: the ledger inserts the new ones and leaves the known ones as they are, and its
    answer says which were known and in what state, so the common batch (all new) costs no read first.
    """
    ledger = batch.work.runtime.ledger
    tag = batch.work.runtime.settings.export_identifier_tag
    for reference, order in batch.details.items():
        if (reason := not_exportable_reason(order, batch.location_id, tag)) is not None:
            batch.not_exportable[reference] = reason
    known = ledger.get_many(batch.not_exportable) if batch.not_exportable else {}
    unmappable: dict[str, str] = {}
    to_register: list[NewOrder] = []
    for reference, order in batch.details.items():
        if reference in batch.not_exportable and reference not in known:
            continue
        try:
            batch.payloads[reference] = to_fulfilment_order(order, batch.work.runtime.settings)
        except MappingError as error:
            unmappable[reference] = str(error)
        fingerprint = payload_hash(batch.payloads[reference]) if reference in batch.payloads else ""
        batch.fingerprints[reference] = fingerprint
        to_register.append(
            NewOrder(reference=reference, num_order_id=str(order.num_order_id), payload_hash=fingerprint)
        )
    registered = ledger.register(to_register)
    for record in registered.existing:
        if record.state not in (State.PENDING, State.SUBMITTING):
            batch.payloads.pop(record.reference, None)  # past sending: nothing of the run's payload applies
        if record.state is not State.PENDING:
            # A ``submitting`` order may be at the 3PL already: its lookup decides first (found: sent;
            # absent: back to pending, and judged unmappable then), never a quarantine that hides a live
            # 3PL order.
            unmappable.pop(record.reference, None)
    return unmappable


def _submit_all(batch: _Batch, claimed: Sequence[OrderRecord]) -> list[str]:
    """Bring the claimed orders to ``submitted``; returns the references that got there."""
    submitted = [record.reference for record in claimed if record.state is State.SUBMITTED]
    unseen = [record.reference for record in claimed if record.state is State.SUBMITTING]
    found, absent = _look_up(batch, unseen)
    pending = [record.reference for record in claimed if record.state is State.PENDING] + absent
    return submitted + found + _send_all(batch, [ref for ref in pending if _sendable(batch, ref)])


def _sendable(batch: _Batch, reference: str) -> bool:
    if reference not in batch.payloads:
        return False  # no longer exportable (e.g. parked since it was listed): stays pending for a later run
    if (reason := batch.not_exportable.get(reference)) is not None:
        logger.info("order %s not sent now: %s", reference, reason)
        return False
    return True


def _look_up(batch: _Batch, references: Sequence[str]) -> tuple[list[str], list[str]]:
    """Resolve unseen outcomes: found at the 3PL -> ``submitted``; proven absent -> back to ``pending``.

    Returns (found, absent); an order whose lookup failed is deferred and stays ``submitting``.
    """
    moves: list[Move] = []
    for reference in references:
        try:
            remote = batch.work.runtime.threepl.find_order(reference)
        except RetryableError as error:
            batch.work.defer(reference, error, expected_from=[State.SUBMITTING])
            continue
        if remote is None:
            moves.append(_move(reference, State.PENDING, "not at the 3PL: safe to send again"))
        else:
            moves.append(_submitted(reference, remote.remote_id, "found at the 3PL by reference"))
    moved = _moved_by_state(batch, moves)
    return moved.get(State.SUBMITTED, []), moved.get(State.PENDING, [])


def _move(reference: str, to: State, detail: str, **changes: Unpack[Changes]) -> Move:
    return Move(
        reference=reference,
        to=to,
        expected_from=frozenset({State.SUBMITTING}),
        detail=detail,
        changes=Changes(**changes),
    )


def _submitted(reference: str, remote_id: str, detail: str) -> Move:
    return _move(reference, State.SUBMITTED, detail, remote_id=remote_id, last_error=None)


def _moved_by_state(batch: _Batch, moves: Sequence[Move]) -> dict[State, list[str]]:
    """Apply ``moves`` in one transaction; the references that moved, by the state they reached."""
    moved: dict[State, list[str]] = {}
    if not moves:
        return moved
    targets = {move.reference: move.to for move in moves}
    for outcome in batch.work.runtime.ledger.transition_each(moves, owner=batch.work.owner):
        if outcome.moved:
            moved.setdefault(targets[outcome.reference], []).append(outcome.reference)
        else:
            logger.info("order %s left as it is: %s", outcome.reference, outcome.reason)
    return moved


def _send_all(batch: _Batch, references: Sequence[str]) -> list[str]:
    """``submitting`` for the batch in one commit, then the creates IN_FLIGHT at a time, then the results
    in one commit. The first create goes alone: a 3PL that refuses everything is found with one call."""
    ready = _mark_submitting(batch, references)
    if not ready:
        return []
    crashpoint("before_3pl_create")  # every order of the batch is ``submitting``, nothing sent yet
    watch = RefusalWatch()
    first = _send_one(batch, watch, ready[0])
    with ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="lw3pl-create") as pool:
        rest = list(pool.map(lambda reference: _send_one(batch, watch, reference), ready[1:]))
    return _record_results(batch, watch, [first, *rest])


def _mark_submitting(batch: _Batch, references: Sequence[str]) -> list[str]:
    moves = [
        Move(
            reference=reference,
            to=State.SUBMITTING,
            expected_from=frozenset({State.PENDING}),
            changes=Changes(count_attempt=True, payload_hash=batch.fingerprints[reference]),
        )
        for reference in references
    ]
    ready = set(_moved_by_state(batch, moves).get(State.SUBMITTING, []))
    return [reference for reference in references if reference in ready]


def _send_one(batch: _Batch, watch: RefusalWatch, reference: str) -> Sent:
    """One create (in a sender thread); every outcome is returned, none raised, so the batch records all."""
    if watch.stopped.is_set():
        return Sent(reference)
    try:
        sent = Sent(reference, result=batch.work.runtime.threepl.submit_order(batch.payloads[reference]))
    except Lw3plError as error:
        sent = Sent(reference, error=error)
    else:
        crashpoint("after_3pl_create")
    watch.observe(sent)
    return sent


def _record_results(batch: _Batch, watch: RefusalWatch, outcomes: Sequence[Sent]) -> list[str]:
    """Commit what the creates came back with; a storm puts its orders back to ``pending`` and stops."""
    moves: list[Move] = []
    for sent in outcomes:
        if watch.is_storm(sent):
            moves.append(_move(sent.reference, State.PENDING, "not sent or refused by a set-up problem"))
        elif (move := _result_move(batch, sent)) is not None:
            moves.append(move)
    submitted = _moved_by_state(batch, moves).get(State.SUBMITTED, [])
    if watch.storm is not None:
        _stop(watch, outcomes)
    return submitted


def _result_move(batch: _Batch, sent: Sent) -> Move | None:
    """The move one create's outcome makes; None when the order stays (deferred) or is quarantined."""
    reference, result = sent.reference, sent.result
    if sent.error is not None:
        _not_created(batch, reference, sent.error)
        return None
    assert result is not None  # a sent create has a result or an error
    if result.outcome in (SubmitOutcome.ACCEPTED, SubmitOutcome.DUPLICATE):
        remote_id = result.remote_id or _lookup_remote_id(batch, reference)
        return _submitted(reference, remote_id, f"3PL {result.outcome.value}")
    if result.outcome is SubmitOutcome.REJECTED:
        reason = f"the 3PL rejected the order: {result.reason() or 'no reason given'}"
        batch.work.quarantine(reference, reason, expected_from=[State.SUBMITTING])
        return None
    retry = RetryableError(f"the 3PL asked to retry later ({result.reason()})")
    batch.work.defer(reference, retry, expected_from=[State.SUBMITTING])
    return None


def _not_created(batch: _Batch, reference: str, error: Lw3plError) -> None:
    """A create that raised: a refused record is quarantined; an unknown or transient outcome stays
    ``submitting`` (the next run looks it up first)."""
    if isinstance(error, RecordError):
        reason = f"the 3PL refused the order: {error.message}"
        batch.work.quarantine(reference, reason, expected_from=[State.SUBMITTING])
    else:
        batch.work.defer(reference, error, expected_from=[State.SUBMITTING])


def _stop(watch: RefusalWatch, outcomes: Sequence[Sent]) -> None:
    """Fail the task with one message: the partner's own stop error, or the storm named."""
    assert watch.storm is not None
    for sent in outcomes:
        if isinstance(sent.error, StopError):
            raise sent.error
    raise RefusalStorm(watch.storm, sum(1 for sent in outcomes if watch.is_storm(sent) and sent.sent))


def _lookup_remote_id(batch: _Batch, reference: str) -> str:
    remote = batch.work.runtime.threepl.find_order(reference)
    return remote.remote_id if remote else ""


def _tag(batch: _Batch, references: Sequence[str]) -> None:
    """Tag submitted orders in Linnworks (one call per batch) and mark them ``exported``."""
    open_refs = [ref for ref in references if ref in batch.details and not batch.details[ref].processed]
    if not open_refs:
        return
    crashpoint("before_tag")  # RELIABILITY scenario 1b: the 3PL id is recorded, the tag not yet written
    runtime = batch.work.runtime
    if runtime.settings.write_remote_id_property:
        _write_remote_ids(batch, open_refs)
    tag = runtime.settings.export_identifier_tag
    try:
        result = runtime.linnworks.assign_order_identifier([UUID(ref) for ref in open_refs], tag)
    except (RetryableError, OutcomeUnknownError, RecordError) as error:
        # RecordError: Linnworks refuses the whole call when one order was processed (e.g. cancelled) since
        # the details were read; the next run reads them again and leaves that order out.
        for reference in open_refs:
            batch.work.defer(
                reference, error, expected_from=[State.SUBMITTED]
            )  # stays ``submitted``: tagging is retried by the next run
        return
    confirmed = {str(order_id) for order_id in result.changed} | _already_tagged(batch, result.not_changed)
    crashpoint("after_tag")
    tagged = [reference for reference in open_refs if reference in confirmed]
    exported = move_all(
        runtime,
        tagged,
        State.EXPORTED,
        expected_from=[State.SUBMITTED],
        owner=batch.work.owner,
        detail=f"tagged {tag}",
    )
    batch.work.report.exported += [
        ReportRow(
            reference=r.reference, label=batch.work.labels.get(r.reference, ""), detail=r.remote_id or ""
        )
        for r in exported
    ]
    for reference in open_refs:
        if reference not in confirmed:
            untagged = RecordError(f"Linnworks did not tag the order with {tag}")
            batch.work.defer(reference, untagged, expected_from=[State.SUBMITTED])


def _already_tagged(batch: _Batch, not_changed: Iterable[UUID]) -> set[str]:
    """NotChanged orders that do carry the tag (e.g. tagged by an earlier run that died before recording)."""
    tag = batch.work.runtime.settings.export_identifier_tag
    orders = batch.work.runtime.linnworks.get_orders_by_id(list(not_changed))
    return {str(order.order_id) for order in orders if has_identifier(order, tag)}


def _write_remote_ids(batch: _Batch, references: Sequence[str]) -> None:
    """Store the 3PL id as an extended property (read first: SetExtendedProperties replaces them all)."""
    linnworks = batch.work.runtime.linnworks
    records = batch.work.runtime.ledger.get_many(references)
    for reference in references:
        record = records.get(reference)
        if record is None or not record.remote_id:
            continue
        order_id = UUID(reference)
        existing = [p for p in linnworks.get_extended_properties(order_id) if p.name != REMOTE_ID_PROPERTY]
        mine = ExtendedProperty(name=REMOTE_ID_PROPERTY, value=record.remote_id, type="Info")
        linnworks.set_extended_properties(order_id, [*existing, mine])
