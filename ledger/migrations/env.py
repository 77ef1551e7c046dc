"""Alembic environment of the ledger: runs on the connection ``ledger.migrate`` passes in.

For ad-hoc use of the Alembic command line, set ``sqlalchemy.url`` in a Config whose ``script_location``
points here; a connection of our own engine (with the SQLite settings) is then opened for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from ledger._engine import make_engine
from ledger._schema import Base


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, sa.Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url set")
    engine = make_engine(url)
    try:
        with engine.connect() as own:
            _run(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("the ledger migrations run online only (ledger.migrate(url))")
_run_online()
