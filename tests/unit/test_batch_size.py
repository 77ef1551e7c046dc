"""flows._common.batch_size_for: the configured size, grown so a large run is about BATCHES_PER_RUN tasks."""

from __future__ import annotations

import pytest

from flows._common import BATCHES_PER_RUN, MAX_BATCH, batch_size_for


@pytest.mark.parametrize(
    ("total", "expected"),
    [(0, 200), (150, 200), (2_000, 200), (2_001, 201), (5_000, 500), (50_000, MAX_BATCH)],
)
def test_a_large_run_is_cut_into_about_ten_batches_of_at_most_the_maximum(total: int, expected: int) -> None:
    assert BATCHES_PER_RUN == 10
    assert batch_size_for(total, 200) == expected


def test_a_configured_size_above_the_run_s_share_is_kept() -> None:
    assert batch_size_for(5_000, 500) == 500
    assert batch_size_for(100, 50) == 50
