"""Migrations: apply on an empty database, are idempotent, match the models, and need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import ledger
from ledger._schema import ONE_DATABASE_ONLY, Base

TABLES = {
    "alembic_version",
    "ledger_orders",
    "ledger_transitions",
    "ledger_events",
    "ledger_cursors",
    "ledger_stock",
    "ledger_stock_holds",
    "ledger_catalogue",
}


def test_migrate_on_an_empty_database_from_anywhere(
    empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From another directory, with no alembic.ini, migrate creates every table (and the SQLite dir)."""
    monkeypatch.chdir(tmp_path)
    ledger.migrate(empty_db_url)
    engine = ledger.make_engine(empty_db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_migrate_twice_is_a_no_op_and_schema_matches_models(empty_db_url: str) -> None:
    """Running the upgrade again changes nothing, and the migrated schema equals the SQLAlchemy models."""
    ledger.migrate(empty_db_url)
    ledger.migrate(empty_db_url)
    engine = ledger.make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            dialect = connection.dialect.name

            def created_here(_item: object, name: str | None, kind: str, *_args: object) -> bool:
                return kind != "index" or ONE_DATABASE_ONLY.get(name or "", dialect) == dialect

            options = {"compare_type": True, "include_object": created_here}
            context = MigrationContext.configure(connection, opts=options)
            differences = compare_metadata(context, Base.metadata)
        assert version == ["0002"]
        assert differences == []
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    """The SQLite ledger uses the WAL journal and a busy timeout so readers and writers do not collide."""
    url = f"sqlite:///{tmp_path}/a/b/ledger.db"
    ledger.migrate(url)
    engine = ledger.make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_urls_are_normalised_and_in_memory_sqlite_refused() -> None:
    """A bare postgresql:// URL uses psycopg 3; in-memory SQLite is refused with a reason."""
    from ledger._engine import normalise_url

    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ValueError, match="SQLite file"):
            normalise_url(url)


def test_ledger_can_migrate_on_construction_and_hides_the_password(empty_db_url: str) -> None:
    """Ledger(..., migrate=True) is ready to use; its repr never shows a password."""
    with ledger.Ledger(empty_db_url, migrate=True) as book:
        assert book.counts_by_state()[ledger.State.PENDING] == 0
    secret_url = "postgresql://user:s3cret-canary@127.0.0.1:1/db"
    book = ledger.Ledger(secret_url)
    assert "s3cret-canary" not in repr(book)
    book.close()


@pytest.mark.postgres
def test_concurrent_migrations_on_postgres_both_succeed(postgres_url: str) -> None:
    """Two processes starting at once may both call migrate: the advisory lock makes the second a no-op."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(ledger.migrate, [postgres_url] * 3))
    engine = ledger.make_engine(postgres_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()
