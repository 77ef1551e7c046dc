"""When the ledger database goes away: one ``LedgerUnavailableError`` naming the database and the fix, the
transaction in flight rolled back (the order keeps its last committed state), and the next call reconnects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import ledger
from ledger import Ledger, LedgerUnavailableError, State

from .conftest import POSTGRES_ADMIN_URL, new_order


@pytest.fixture
def admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def terminate_own_backend_before_update(book: Ledger, admin: sa.Engine) -> None:
    """Kill this ledger's server connection the first time it is about to send an UPDATE (mid-transaction).

    ``pg_terminate_backend`` on this test's own backend only: other tests on the same server are untouched.
    """
    fired = False

    def terminate(connection: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal fired
        if fired or not statement.lstrip().upper().startswith("UPDATE"):
            return
        fired = True
        pid: int = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    sa.event.listen(book.orders._store.engine, "before_cursor_execute", terminate)


@pytest.mark.postgres
def test_connection_killed_mid_transaction(shared_postgres_url: str, account: str, admin: sa.Engine) -> None:
    """The write fails with one clear error, nothing of it is kept, and the next call works again."""
    with Ledger(shared_postgres_url, account=account) as book:
        book.register([new_order("order-1")])
        book.claim([State.PENDING], "w", limit=1, lease_seconds=600)
        terminate_own_backend_before_update(book, admin)
        with pytest.raises(LedgerUnavailableError) as caught:
            book.transition("order-1", State.SUBMITTING, expected_from=[State.PENDING], owner="w")
        message = str(caught.value)
        assert "postgresql+psycopg://postgres@127.0.0.1:5432/" in message and "LEDGER_URL" in message
        assert "\n" not in message
        record = book.get("order-1")  # reconnects: the dead pooled connection was invalidated
        assert record is not None and record.state is State.PENDING and record.attempts == 0


@pytest.mark.postgres
def test_all_connections_terminated_between_calls(
    shared_postgres_url: str, account: str, admin: sa.Engine
) -> None:
    """A server restart closes every pooled connection; the next call reconnects (pre-ping) without error."""
    database = sa.make_url(shared_postgres_url).database
    with Ledger(shared_postgres_url, account=account) as book:
        book.register([new_order("order-1")])
        with admin.connect() as conn:
            terminated: int = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar_one()
        assert terminated >= 1
        record = book.get("order-1")
        assert record is not None and record.state is State.PENDING


@pytest.mark.postgres
def test_server_not_reachable() -> None:
    """Nothing listens on the port: migrating or reading names the database and what to check."""
    url = "postgresql://postgres@127.0.0.1:1/lw3pl_nowhere"
    expected = r"127\.0\.0\.1:1/lw3pl_nowhere.*LEDGER_URL"
    with pytest.raises(LedgerUnavailableError, match=expected):
        ledger.migrate(url)
    with Ledger(url) as book, pytest.raises(LedgerUnavailableError, match=expected):
        book.get("order-1")


def test_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    """A SQLite path that is a directory cannot be opened: the same error, naming the file."""
    (tmp_path / "ledger.db").mkdir()
    expected = r"ledger\.db.*unable to open database file"
    with (
        Ledger(f"sqlite:///{tmp_path}/ledger.db") as book,
        pytest.raises(LedgerUnavailableError, match=expected),
    ):
        book.counts_by_state()


def test_a_missing_table_is_not_called_unavailable(tmp_path: Path) -> None:
    """An unmigrated SQLite file is a schema problem, raised as it is (the fix is ``ledger.migrate``)."""
    with (
        Ledger(f"sqlite:///{tmp_path}/ledger.db") as book,
        pytest.raises(sa.exc.OperationalError, match="no such"),
    ):
        book.counts_by_state()
