"""The progress artifact: updated at most once per PROGRESS_INTERVAL, always at 100 %; listeners see all."""

from __future__ import annotations

from uuid import uuid4

from pytest_mock import MockerFixture

from tasks import reporting
from tasks.reporting import PROGRESS_INTERVAL, Progress, add_progress_listener


def test_progress_artifact_updates_at_most_once_per_interval_and_always_when_done(
    mocker: MockerFixture,
) -> None:
    clock = mocker.patch.object(reporting.time, "monotonic", return_value=100.0)
    mocker.patch.object(reporting, "_in_flow_run", return_value=True)
    mocker.patch.object(reporting, "create_progress_artifact", return_value=uuid4())
    update = mocker.patch.object(reporting, "update_progress_artifact")
    seen: list[float] = []
    remove = add_progress_listener(lambda _description, fraction: seen.append(fraction))
    try:
        progress = Progress(10, "orders exported")
        progress.advance(2)  # at once after the start: within the interval, not sent
        clock.return_value = 100.0 + PROGRESS_INTERVAL
        progress.advance(2)  # an interval later: sent
        clock.return_value += PROGRESS_INTERVAL / 2
        progress.advance(2)  # within the interval again: not sent
        progress.advance(4)  # done: sent however soon
    finally:
        remove()
    assert [call.kwargs["progress"] for call in update.call_args_list] == [40.0, 100.0]
    assert seen == [0.2, 0.4, 0.6, 1.0]  # the in-process listeners (the CLI's bar) see every step
