"""Counting calls against a rate limit: the benchmarks and the tests measure the same way."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["most_in_window"]


def most_in_window(stamps: Iterable[float], window: float) -> int:
    """The most stamps (seconds) inside any rolling ``window`` seconds: what a per-minute limit bounds."""
    ordered, most, start = sorted(stamps), 0, 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most
