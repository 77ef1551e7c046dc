"""Prefect task retries driven by the error tree: only ``RetryableError`` (incl. rate limits) is retried.

Everything else is final for this run: a ``StopError`` needs a person, an ``OutcomeUnknownError`` needs a
lookup (the next run does it), and per-record problems are quarantined inside the tasks, not raised.
"""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

from clients.errors import RetryableError

__all__ = ["TASK_RETRY_OPTIONS", "retry_transient"]


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry when the task failed with a transient error."""
    try:
        state.result()
    except RetryableError:
        return True
    except BaseException:  # noqa: BLE001 - any other failure is final for this run
        return False
    return False


TASK_RETRY_OPTIONS: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_transient,
}
