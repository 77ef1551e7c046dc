"""flows._common.submitted_at_most: batches submitted in order, never more than ``width`` unfinished."""

from __future__ import annotations

from typing import Any, cast

import pytest
from prefect.futures import PrefectFuture

from flows._common import submitted_at_most
from tasks.reporting import RunReport


class _Future:
    """A stand-in future: finished once the consumer has waited on it."""

    def __init__(self, item: int, unfinished: list[int]) -> None:
        self.item = item
        self._unfinished = unfinished
        unfinished.append(item)

    def result(self) -> int:
        self._unfinished.remove(self.item)
        return self.item


@pytest.mark.parametrize("width", [1, 2, 5])
def test_at_most_width_batches_are_unfinished_and_results_come_in_order(width: int) -> None:
    unfinished: list[int] = []
    most: list[int] = []

    def submit(item: int) -> PrefectFuture[RunReport]:
        future = _Future(item, unfinished)
        most.append(len(unfinished))
        return cast(PrefectFuture[RunReport], future)

    results = [cast(Any, future).result() for future in submitted_at_most(width, submit, range(7))]
    assert results == list(range(7))
    assert max(most) == width
    assert unfinished == []


def test_nothing_more_is_submitted_once_the_consumer_stops() -> None:
    """A failed batch stops the flow's collect: the batches after the window are never sent."""
    submitted: list[int] = []

    def submit(item: int) -> PrefectFuture[RunReport]:
        submitted.append(item)
        return cast(PrefectFuture[RunReport], _Future(item, []))

    futures = submitted_at_most(2, submit, range(10))
    next(futures)  # the oldest comes out when the window is full, before the third is sent
    assert submitted == [0, 1]
    futures.close()
    assert submitted == [0, 1]
