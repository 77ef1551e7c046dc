"""SQLite batch writes that bypass SQLAlchemy's per-row parameter processing write what it would write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger._driver_rows import sqlite_datetime
from ledger._schema import UtcDateTime

MOMENTS = [
    datetime(2026, 12, 2, 2, 30, 0, tzinfo=UTC),
    datetime(2026, 12, 2, 2, 30, 5, 123456, tzinfo=UTC),
    datetime(2026, 12, 2, 4, 30, 5, 7, tzinfo=timezone(timedelta(hours=2))),
    datetime(999, 1, 1, 0, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=["whole-second", "micro", "offset", "year-999"])
def test_a_datetime_is_the_text_sqlalchemy_writes(moment: datetime, tmp_path: Path) -> None:
    """SQLite compares and sorts datetimes as text (lease ends, claim order): the fast path must write
    exactly the text SQLAlchemy writes for the same value, microseconds included when they are zero."""
    table = sa.Table("moments", sa.MetaData(), sa.Column("at", UtcDateTime()))
    engine = sa.create_engine(f"sqlite:///{tmp_path}/moments.db")
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(table.insert(), [{"at": moment}])
            written_by_sqlalchemy: str = connection.exec_driver_sql("SELECT at FROM moments").scalar_one()
    finally:
        engine.dispose()
    assert sqlite_datetime(moment) == written_by_sqlalchemy


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sqlite_datetime(datetime(2026, 12, 2, 2, 30))
