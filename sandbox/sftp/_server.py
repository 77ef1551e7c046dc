"""An SSH server on loopback whose only subsystem is SFTP, chrooted to the sandbox root, with faults."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, cast

import asyncssh

__all__ = ["Faults", "SshServerThread"]

_log = logging.getLogger("sandbox.sftp")


@dataclass
class Faults:
    """What the server and the clerk do wrong on purpose; counters count down as faults fire.

    Attributes:
        delay_seconds: every SFTP request waits this long before it is answered.
        drop_next_requests: the next N SFTP requests close the connection without any reply.
        drop_after_order_rename: the next N renames that publish an ``ord_`` file happen, then the
            connection closes before the reply (the create landed; the client cannot know).
        malformed_event_rows: the next N event files the clerk writes each get one malformed row.
        malformed_stock_files: the next N stock files the clerk writes each get one malformed row.
        drop_rate: the chance that any request drops the connection (soak tests), drawn from ``seed``.
        drop_after_order_rename_rate: the chance that an order rename happens and then the connection drops.
        seed: seeds the draws of the two rates, so a run's fault schedule can be reproduced.
    """

    delay_seconds: float = 0.0
    drop_next_requests: int = 0
    drop_after_order_rename: int = 0
    malformed_event_rows: int = 0
    malformed_stock_files: int = 0
    drop_rate: float = 0.0
    drop_after_order_rename_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        """Restart the random fault schedule from ``seed``."""
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def fires(self, counter: str, rate: str) -> bool:
        """Whether a fault fires now: its counter first, else a seeded draw against its rate."""
        if self.take(counter):
            return True
        chance = float(getattr(self, rate))
        if chance <= 0:
            return False
        with self._lock:
            return self._rng.random() < chance

    def take(self, name: str) -> bool:
        """Use one count of the fault ``name``; False when none is left."""
        with self._lock:
            left = int(getattr(self, name))
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True


class _DropConnection(Exception):
    """Raised inside a request: the connection is already aborted, nothing is sent."""


class _SandboxSftp(asyncssh.SFTPServer):
    """The filesystem under the root, with the rename semantics of OpenSSH and injected faults."""

    def __init__(self, chan: Any, root: str, faults: Faults) -> None:
        super().__init__(chan, chroot=root.encode())
        self._faults = faults

    async def _before(self) -> None:
        if self._faults.delay_seconds > 0:
            await asyncio.sleep(self._faults.delay_seconds)
        if self._faults.fires("drop_next_requests", "drop_rate"):
            self._abort()

    def _abort(self) -> None:
        _log.info("sandbox sftp: dropping the connection (fault)")
        self.channel.get_connection().abort()
        raise _DropConnection

    async def open(self, path: bytes, pflags: int, attrs: Any) -> Any:
        await self._before()
        return super().open(path, pflags, attrs)

    def close(self, file_obj: Any) -> None:
        # no faults here: asyncssh also calls close to release the files of a dropped session
        super().close(file_obj)

    async def read(self, file_obj: Any, offset: int, size: int) -> bytes:
        await self._before()
        # the base class works synchronously on local files
        return cast(bytes, super().read(file_obj, offset, size))

    async def write(self, file_obj: Any, offset: int, data: bytes) -> int:
        await self._before()
        return cast(int, super().write(file_obj, offset, data))

    async def stat(self, path: bytes) -> Any:
        await self._before()
        return super().stat(path)

    async def lstat(self, path: bytes) -> Any:
        await self._before()
        return super().lstat(path)

    async def remove(self, path: bytes) -> None:
        await self._before()
        super().remove(path)

    async def mkdir(self, path: bytes, attrs: Any) -> None:
        await self._before()
        super().mkdir(path, attrs)

    async def scandir(self, path: bytes) -> AsyncIterator[Any]:
        await self._before()
        async for entry in super().scandir(path):
            yield entry

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        """Refuse to overwrite, atomically (link, then unlink), as OpenSSH's sftp-server does."""
        await self._before()
        old = self.map_path(oldpath).decode()
        new = self.map_path(newpath).decode()
        try:
            os.link(old, new)
        except FileExistsError:
            raise asyncssh.SFTPFailure("File already exists") from None
        os.unlink(old)
        if os.path.basename(new).startswith("ord_") and self._faults.fires(
            "drop_after_order_rename", "drop_after_order_rename_rate"
        ):
            self._abort()

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._before()
        super().posix_rename(oldpath, newpath)


class _SshServer(asyncssh.SSHServer):
    def __init__(self, username: str, password: str, authorized_keys: list[Any], live: set[Any]) -> None:
        self._username = username
        self._password = password
        self._authorized = authorized_keys
        self._live = live
        self._conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self._conn = conn
        self._live.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._live.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        user_ok = secrets.compare_digest(username.encode(), self._username.encode())
        return user_ok and secrets.compare_digest(password.encode(), self._password.encode())

    def public_key_auth_supported(self) -> bool:
        return bool(self._authorized)

    def validate_public_key(self, username: str, key: Any) -> bool:
        user_ok = secrets.compare_digest(username.encode(), self._username.encode())
        wanted = key.export_public_key()
        return user_ok and any(k.export_public_key() == wanted for k in self._authorized)


class SshServerThread:
    """The asyncssh server running in its own thread and event loop."""

    def __init__(
        self,
        *,
        root: str,
        host: str,
        port: int,
        host_key: Any,
        username: str,
        password: str,
        authorized_keys: list[Any],
        faults: Faults,
    ) -> None:
        self._root = root
        self._host = host
        self._requested_port = port
        self._host_key = host_key
        self._live: set[Any] = set()
        self._server_factory: Callable[[], _SshServer] = lambda: _SshServer(
            username, password, authorized_keys, self._live
        )
        self._faults = faults
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox-sftp", daemon=True)
        self._listener: Any = None
        self.port = 0

    def start(self) -> None:
        """Listen on the host and port (0: a free one) and serve until ``stop``."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._listener = future.result(timeout=30)
        self.port = int(self._listener.get_port())

    async def _listen(self) -> Any:
        return await asyncssh.listen(
            host=self._host,
            port=self._requested_port,
            server_host_keys=[self._host_key],
            server_factory=self._server_factory,
            sftp_factory=lambda chan: _SandboxSftp(chan, self._root, self._faults),
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_pty=False,
        )

    def drop_connections(self) -> int:
        """Abort every open connection at once (a network blip); returns how many there were."""

        async def drop() -> int:
            live = list(self._live)
            for conn in live:
                conn.abort()
            return len(live)

        return asyncio.run_coroutine_threadsafe(drop(), self._loop).result(timeout=30)

    def stop(self) -> None:
        """Close the listener and every connection, then end the thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _close(self) -> None:
        live = list(self._live)
        for conn in live:
            conn.abort()
        for conn in live:
            await conn.wait_closed()
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
        await _cancel_leftovers()


async def _cancel_leftovers() -> None:
    """Cancel tasks still pending on this loop (handlers of aborted sessions) so none is destroyed live."""
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
