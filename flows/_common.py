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


TASK_RUNS_PER_1000 = 20
"""Prefect task runs a run may spend per 1,000 orders: each costs server round trips and client CPU."""
MAX_BATCH = 500


def batch_size_for(total: int, configured: int, *, fixed_tasks: int) -> int:
    """Orders per batch task: ``configured``, grown when needed so ``total`` orders take at most
    TASK_RUNS_PER_1000 task runs per 1,000 (``fixed_tasks``: the run's other tasks), up to MAX_BATCH."""
    budget = max(1, TASK_RUNS_PER_1000 * total // 1000 - fixed_tasks)
    return max(configured, min(MAX_BATCH, -(-total // budget)))


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
