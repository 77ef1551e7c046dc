"""``SftpSandbox``: a real SFTP server on loopback that plays a warehouse over CSV files."""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh

from sandbox.sftp._clerk import Clerk, ClerkReport
from sandbox.sftp._server import Faults, SshServerThread
from sandbox.warehouse import Warehouse

__all__ = ["SftpSandbox"]

_log = logging.getLogger("sandbox.sftp")


class SftpSandbox:
    """An SSH/SFTP server on 127.0.0.1 chrooted to ``root``, and a clerk that works its folders.

    The clerk runs when a test calls :meth:`process_once` (deterministic), or every
    ``poll_interval_seconds`` in a background thread when that is set. Faults are set on ``.faults``.

    Example:
        >>> with SftpSandbox(seed=1) as box:  # doctest: +SKIP
        ...     adapter = SftpAdapter(SftpConfig(host=box.host, port=box.port, username=box.username,
        ...                                      password=SecretStr(box.password),
        ...                                      host_public_key=box.host_public_key))
        ...     adapter.submit_order(order)
        ...     box.process_once()
    """

    def __init__(
        self,
        warehouse: Warehouse | None = None,
        root: Path | str | None = None,
        seed: int = 0,
        username: str = "warehouse",
        password: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        poll_interval_seconds: float | None = None,
        authorized_client_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Args:
        warehouse: the simulation to drive (default: a new one with ``seed`` and ``clock`` and
            20 seeded SKUs, as the ShipBob sandbox has).
        root: the folder the server is chrooted to (default: a temporary one, removed on stop).
        seed: seed of the default warehouse.
        username: the one login the server accepts.
        password: its password (default: random; read it from ``.password``).
        clock: the clerk's time (default: the warehouse's clock).
        poll_interval_seconds: run the clerk in the background at this interval.
        authorized_client_key: an OpenSSH public key line also accepted for ``username``.
        host: the address to listen on.
        port: the port (0: a free one).
        """
        if warehouse is None:
            warehouse = Warehouse(seed=seed, clock=clock)
            warehouse.seed_catalogue(20)
        self.warehouse = warehouse
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(16)
        self.host = host
        self.faults = Faults()
        self._requested_port = port
        self._temp = tempfile.TemporaryDirectory(prefix="lw3pl-sftp-")
        self.root = Path(root) if root is not None else Path(self._temp.name) / "root"
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._host_key_path = Path(self._temp.name) / "ssh_host_ed25519_key"
        self._host_key.write_private_key(str(self._host_key_path))
        self.host_public_key = self._host_key.export_public_key().decode().strip()
        keys = [asyncssh.import_public_key(authorized_client_key)] if authorized_client_key else []
        self.clerk = Clerk(self.warehouse, self.root, self.faults, clock or self.warehouse.clock)
        self._server = SshServerThread(
            root=str(self.root),
            host=host,
            port=port,
            host_key=self._host_key,
            username=username,
            password=self.password,
            authorized_keys=keys,
            faults=self.faults,
        )
        self._poll_interval = poll_interval_seconds
        self._stop_polling = threading.Event()
        self._poller: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (known after ``start``)."""
        return self._server.port

    @property
    def known_hosts_line(self) -> str:
        """An OpenSSH known_hosts line for this server."""
        return f"[{self.host}]:{self.port} {self.host_public_key}"

    def start(self) -> SftpSandbox:
        """Create the folders, start listening, and start the clerk's thread if an interval was set."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.clerk.prepare()
        self._server.start()
        if self._poll_interval:
            self._poller = threading.Thread(target=self._poll, name="sandbox-sftp-clerk", daemon=True)
            self._poller.start()
        _log.info("sandbox sftp listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop the clerk and the server; remove the temporary folder."""
        self._stop_polling.set()
        if self._poller is not None:
            self._poller.join(timeout=30)
        self._server.stop()
        self._temp.cleanup()

    def __enter__(self) -> SftpSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def process_once(self, now: datetime | None = None) -> ClerkReport:
        """One clerk round: take inbound files, advance the warehouse to ``now``, write outbound files."""
        return self.clerk.process_once(now)

    def write_stock_snapshot(self, now: datetime | None = None) -> str:
        """Write an ``inv_`` file now; returns its name."""
        return self.clerk.write_stock_snapshot(now)

    def corrupt_shipments_of(self, reference: str) -> None:
        """Blank the tracking number of every shipment row of ``reference``, written or still to come."""
        self.clerk.corrupt_shipments_of(reference)

    def drop_connections(self) -> int:
        """Abort every open SSH connection (a network blip); returns how many there were."""
        return self._server.drop_connections()

    def files(self, folder: str) -> list[str]:
        """Names of the files in a folder under the root (e.g. ``"outbound/processed"``), sorted."""
        path = self.root / folder
        return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    def connection_settings(self) -> dict[str, Any]:
        """The settings an adapter needs, named like lw3pl's SFTP_* environment variables (lower case)."""
        return {
            "sftp_host": self.host,
            "sftp_port": self.port,
            "sftp_username": self.username,
            "sftp_password": self.password,
            "sftp_host_key": self.host_public_key,
        }

    def _poll(self) -> None:
        assert self._poll_interval is not None
        while not self._stop_polling.wait(self._poll_interval):
            try:
                self.process_once()
            except Exception:  # noqa: BLE001 - the clerk must survive a bad round, as a real one would
                _log.exception("sandbox sftp: clerk round failed")
