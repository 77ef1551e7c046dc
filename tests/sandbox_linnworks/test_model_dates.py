"""Sandbox date formatting matches Linnworks' wire format, including the unset year-1 date."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.linnworks.model import format_date


def test_unset_date_is_zero_padded() -> None:
    """Year 1 (Linnworks' "unset" date) is written 0001-01-01, not 1-01-01, so clients can parse it back."""
    assert format_date(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"


def test_dates_have_milliseconds_and_z() -> None:
    """Dates are UTC with three fractional digits and a Z."""
    assert format_date(datetime(2024, 5, 1, 10, 15, 0, 157000, tzinfo=UTC)) == "2024-05-01T10:15:00.157Z"
