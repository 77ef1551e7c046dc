"""Is the ledger reachable, and is its schema at the newest revision? Read without migrating anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

import ledger
from tasks.check_rows import CheckRow, CheckStatus

__all__ = ["LedgerStatus", "read_ledger_status"]

_MIGRATIONS = Path(ledger.__file__).parent / "migrations"
_ITEM = "ledger (reachable, migrated)"
_MIGRATE_FIX = "nothing: the first flow run (e.g. setup-fulfilment-centre) migrates it"


@dataclass(frozen=True)
class LedgerStatus:
    """What was found at the ledger's URL: an error, or the schema revision there and the newest one."""

    where: str
    error: str = ""
    current: str | None = None
    head: str | None = None
    exists: bool = True

    def row(self) -> CheckRow:
        """The report line: unreachable is a FAIL; no or an older schema a warn (the first run migrates)."""
        if self.error:
            fix = "check LEDGER_URL and that the database server is running and accepts the user"
            return CheckRow(
                item=_ITEM, status=CheckStatus.FAIL, detail=f"{self.where}: {self.error}", fix=fix
            )
        if not self.exists or self.current is None:
            state = "reachable, no schema yet" if self.exists else "no database file yet"
            detail = f"{self.where}: {state}"
            return CheckRow(item=_ITEM, status=CheckStatus.WARN, detail=detail, fix=_MIGRATE_FIX)
        if self.current != self.head:
            detail = f"{self.where}: schema at {self.current}, newest is {self.head}"
            return CheckRow(item=_ITEM, status=CheckStatus.WARN, detail=detail, fix=_MIGRATE_FIX)
        detail = f"{self.where}: reachable, schema at the newest revision ({self.head})"
        return CheckRow(item=_ITEM, status=CheckStatus.OK, detail=detail)


def read_ledger_status(url: str) -> LedgerStatus:
    """Connect to the ledger at ``url``, read its Alembic revision (a missing SQLite file stays missing)."""
    head = ScriptDirectory(str(_MIGRATIONS)).get_current_head()
    try:
        parsed = sa.make_url(url)
    except (ValueError, SQLAlchemyError) as error:
        return LedgerStatus(where=_redacted(url), error=str(error))
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").expanduser().exists():
        return LedgerStatus(where=where, head=head, exists=False)  # make_engine would create its folder
    try:
        engine = ledger.make_engine(url)
    except (ValueError, SQLAlchemyError) as error:
        return LedgerStatus(where=where, error=str(error))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        return LedgerStatus(where=where, error=f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        engine.dispose()
    return LedgerStatus(where=where, current=current, head=head)


def _redacted(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url
