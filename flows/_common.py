"""What every flow does at its end: publish the report and log a one-line summary."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, TypeVar, cast

from prefect import get_run_logger
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import Field

from clients.errors import StopError
from lw3pl.core.blocks import Lw3plCredentials
from tasks.context import Account, resolve_account, runtime_for
from tasks.reporting import Progress, RunReport, publish_report

__all__ = [
    "BatchSize",
    "account_for",
    "batch_size_for",
    "chunks",
    "collect",
    "finish",
    "submitted_at_most",
    "thread_runner",
]

BatchSize = Annotated[
    int,
    Field(ge=1, le=500, description="orders per task, 1 to 500 (empty: EXPORT_BATCH_SIZE)"),
]
"""A flow's ``batch_size``: the schema carries the bounds, so the UI's form refuses a bad value up front."""

T = TypeVar("T")


def thread_runner(max_workers: int) -> TaskRunner[PrefectFuture[Any]]:
    """A thread-pool task runner to overlap the I/O of batch tasks (typed as the flow decorator wants)."""
    return cast(TaskRunner[PrefectFuture[Any]], ThreadPoolTaskRunner(max_workers=max_workers))


def account_for(credentials: Lw3plCredentials | None, credentials_block: str | None) -> Account:
    """The account of the picked block (UI), else of the named block (CLI), else of the environment."""
    if credentials is None:
        return resolve_account(credentials_block)
    name = credentials._block_document_name
    if not name:
        raise StopError("the credentials block has no name: save it (Lw3plCredentials(...).save(name)) first")
    if credentials_block and credentials_block != name:
        # The UI's Custom run form starts with the deployment's block name filled in; picking another block
        # is the more deliberate choice, so it wins, and the log says which name was set aside.
        get_run_logger().warning(
            "using the picked block %r; credentials_block %r is ignored", name, credentials_block
        )
    return resolve_account(name)


def chunks(items: list[T], size: int) -> list[list[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    return [items[start : start + size] for start in range(0, len(items), size)]


BATCHES_PER_RUN = 10
"""Batch tasks a large run is cut into: enough for the flows' two batches in flight to overlap to the end,
few enough that task runs cost little. Each costs the Prefect server about 33 ms of CPU (its state events
stored and applied; bench/server_cost.py). At 200 orders a batch, a 5,000-order run's 25 task runs were
most of the server's 2.2 s, 5-10 % of all the CPU the run took (bench/cycle.py's machine CPU line); at
500, 1.2 s."""
MAX_BATCH = 500


def batch_size_for(total: int, configured: int) -> int:
    """Orders per batch task: ``configured``, grown so ``total`` orders take about BATCHES_PER_RUN tasks,
    up to MAX_BATCH (so a run of 5,000 orders or more has 2 batch tasks per 1,000)."""
    return max(configured, min(MAX_BATCH, -(-total // BATCHES_PER_RUN)))


def submitted_at_most(
    width: int, submit: Callable[[T], PrefectFuture[RunReport]], items: Iterable[T]
) -> Iterator[PrefectFuture[RunReport]]:
    """``submit(item)`` for each item, in order, with at most ``width`` of them unfinished: the futures
    come out in submission order, and the next item is submitted once the consumer has waited on the
    oldest (``collect`` does)."""
    unfinished: deque[PrefectFuture[RunReport]] = deque()
    for item in items:
        if len(unfinished) >= width:
            yield unfinished.popleft()
        unfinished.append(submit(item))
    yield from unfinished


def collect(futures: Iterable[PrefectFuture[RunReport]], progress: Progress, sizes: list[int]) -> RunReport:
    """Combine batch reports as they finish, advancing the progress artifact."""
    reports: list[RunReport] = []
    for future, size in zip(futures, sizes, strict=True):
        reports.append(future.result())
        progress.advance(size)
    return RunReport.combine(reports)


def finish(account: Account, report: RunReport, flow_slug: str) -> dict[str, int]:
    """Publish ``account``'s artifacts and a summary log line; return the counts (the flow's small result)."""
    publish_report(report, flow_slug, account.name, runtime_for(account))
    counts = report.counts()
    summary = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items() if count)
    outcome = summary or "; ".join(report.notes) or "nothing to do"
    get_run_logger().info("%s (%s): %s", flow_slug, account.name, outcome)
    return counts
