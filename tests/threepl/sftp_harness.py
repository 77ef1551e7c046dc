"""The SFTP adapter in the shared 3PL contract suite: ``make_sftp_harness`` (see conftest.py there)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from clients.sftp import SftpAdapter, SftpConfig
from sandbox.sftp import SftpSandbox
from sandbox.warehouse import Warehouse
from tests.threepl.harness import AdapterHarness

__all__ = ["make_sftp_harness"]


@contextmanager
def make_sftp_harness(tmp_path: Path, warehouse: Warehouse) -> Iterator[AdapterHarness]:
    """The SFTP adapter against the SFTP sandbox; ``settle`` runs one round of the warehouse clerk."""
    with SftpSandbox(warehouse=warehouse, root=tmp_path / "sftp-root") as sandbox:
        config = SftpConfig(
            host=sandbox.host,
            port=sandbox.port,
            username=sandbox.username,
            password=SecretStr(sandbox.password),
            host_public_key=sandbox.host_public_key,
            call_timeout_seconds=5.0,
        )
        adapter = SftpAdapter(config, clock=warehouse.clock)

        def settle() -> None:
            sandbox.process_once()

        def lose_next_create_reply() -> None:
            sandbox.faults.drop_after_order_rename += 1

        try:
            yield AdapterHarness(
                name="sftp",
                adapter=adapter,
                warehouse=warehouse,
                settle=settle,
                lose_next_create_reply=lose_next_create_reply,
                corrupt_shipment=sandbox.corrupt_shipments_of,
            )
        finally:
            adapter.close()
