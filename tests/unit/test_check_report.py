"""The configuration check's pieces that need no partner: the report, its table, the ledger status."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tasks.check import CheckReport, CheckRow, CheckStatus
from tasks.ledger_status import read_ledger_status


def _report(*statuses: CheckStatus) -> CheckReport:
    return CheckReport(
        rows=[CheckRow(item=f"item {n}", status=s, detail="d") for n, s in enumerate(statuses)]
    )


def test_ready_only_without_a_fail() -> None:
    """A warn does not stop an export; one FAIL does."""
    assert _report(CheckStatus.OK, CheckStatus.WARN).ready
    assert not _report(CheckStatus.OK, CheckStatus.FAIL).ready
    assert _report(CheckStatus.OK, CheckStatus.FAIL).counts() == {"ok": 1, "warn": 0, "FAIL": 1}


def test_table_wraps_long_details_without_cutting_them() -> None:
    """Every word of a long detail (e.g. thirty unmapped services) is in the table."""
    services = ", ".join(f"'Service number {n}' (1 orders)" for n in range(30))
    report = CheckReport(rows=[CheckRow(item="services", status=CheckStatus.FAIL, detail=services)])
    table = report.table()
    assert table.splitlines()[0].split() == ["item", "status", "detail", "what", "to", "do"]
    assert Counter(services.split()) <= Counter(table.split())
    assert "| services | FAIL |" in report.markdown()


def test_a_missing_sqlite_ledger_is_not_created(tmp_path: Path) -> None:
    """Checking a SQLite ledger that does not exist yet creates neither the file nor its folder."""
    folder = tmp_path / "not-yet"
    row = read_ledger_status(f"sqlite:///{folder / 'ledger.db'}").row()
    assert row.status is CheckStatus.WARN and "no database file yet" in row.detail
    assert not folder.exists()


def test_a_migrated_sqlite_ledger_is_ok(tmp_path: Path) -> None:
    """After the migration the ledger row is ok and names the revision."""
    import ledger

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger.migrate(url)
    row = read_ledger_status(url).row()
    assert row.status is CheckStatus.OK and "newest revision" in row.detail
