"""One SSH connection with an SFTP channel, driven from synchronous code.

asyncssh is asynchronous and the adapter protocol is not, so the session runs its own event loop in a
private daemon thread and hands coroutines to it. The connection opens lazily, is shared by every call,
and is dropped on any transport fault so that the next call reconnects. asyncssh errors are translated
into ``clients.errors`` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from clients.errors import (
    AuthenticationError,
    CallContext,
    OutcomeUnknownError,
    RetryableError,
    StopError,
)

__all__ = ["SftpConfig", "SftpSession"]

_log = logging.getLogger("clients.sftp")
T = TypeVar("T")
SftpOp = Callable[[Any], Awaitable[T]]

# Faults of the link rather than of the request: the connection is dropped and the call may be retried.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    asyncssh.DisconnectError,
    asyncssh.ChannelOpenError,
    asyncssh.SFTPConnectionLost,
    asyncssh.SFTPNoConnection,
    ConnectionError,
    TimeoutError,
    EOFError,
)


class SftpConfig(BaseModel):
    """Where and how to log in. Build it from ``Settings`` in the task layer; the password stays secret.

    Host keys are always checked: ``host_public_key`` (one OpenSSH public key line) or ``known_hosts``
    (a file); with neither, ``~/.ssh/known_hosts``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: SecretStr | None = None
    key_file: Path | None = None
    host_public_key: str | None = None
    known_hosts: Path | None = None
    inbound_dir: str = "inbound"
    outbound_dir: str = "outbound"
    connect_timeout_seconds: float = Field(default=15.0, gt=0)
    call_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _needs_a_credential(self) -> SftpConfig:
        if not (self.password and self.password.get_secret_value()) and self.key_file is None:
            raise ValueError("set SFTP_PASSWORD or SFTP_KEY_FILE")
        return self


class SftpSession:
    """A lazily opened, self-healing SFTP connection usable from any thread.

    Example:
        >>> session = SftpSession(config)  # doctest: +SKIP
        >>> names = session.call(lambda sftp: sftp.listdir("outbound"), method="listdir", path="outbound")
    """

    def __init__(self, config: SftpConfig) -> None:
        self._config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-session", daemon=True)
        self._thread.start()
        self._lock = asyncio.Lock()
        self._conn: Any = None
        self._sftp: Any = None
        self.connections_opened = 0

    def call(self, op: SftpOp[T], *, method: str, path: str, pivot: bool = False) -> T:
        """Run ``op(sftp_client)`` on the shared connection.

        Args:
            op: a coroutine function taking the asyncssh SFTP client.
            method: the SFTP operation, for logs and errors.
            path: the remote path it works on, for logs and errors.
            pivot: True for the one write whose lost reply leaves its effect unknown (the rename that
                publishes an order): a transport fault then raises OutcomeUnknownError.

        Raises:
            StopError: the host, the credentials or the host key are wrong.
            RetryableError: the connection failed before or during a call that is safe to repeat.
            OutcomeUnknownError: the connection failed during a pivot call.
        """
        if self._loop.is_closed():
            raise StopError("the SFTP session is closed")
        future: Future[T] = asyncio.run_coroutine_threadsafe(self._call(op, method, path, pivot), self._loop)
        return future.result()

    def close(self) -> None:
        """Close the connection and stop the session's thread."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _call(self, op: SftpOp[T], method: str, path: str, pivot: bool) -> T:
        context = CallContext(service="sftp", method=method, path=path)
        sftp = await self._client(context)
        try:
            return await asyncio.wait_for(op(sftp), self._config.call_timeout_seconds)
        except _TRANSPORT_ERRORS as exc:
            await self._drop()
            _log.warning("sftp %s %s failed: %s; will reconnect", method, path, type(exc).__name__)
            if pivot:
                raise OutcomeUnknownError(
                    "the SFTP connection failed before the reply: the file may or may not be in place",
                    context=context,
                ) from None
            raise RetryableError(
                f"the SFTP connection failed ({type(exc).__name__})", context=context
            ) from None
        except asyncssh.SFTPPermissionDenied:
            raise StopError(
                f"the SFTP user {self._config.username!r} may not {method} here; ask the warehouse to fix it",
                context=context,
            ) from None
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            raise StopError(
                f"{path} does not exist on the SFTP server: check SFTP_INBOUND_DIR and SFTP_OUTBOUND_DIR",
                context=context,
            ) from None
        except asyncssh.SFTPError as exc:
            # the server answered, so the request did not take effect: safe to repeat
            raise RetryableError(
                f"the SFTP server refused the {method} ({exc.reason})", context=context
            ) from None

    async def _client(self, context: CallContext) -> Any:
        async with self._lock:
            if self._sftp is None:
                self._conn, self._sftp = await self._connect(context)
                self.connections_opened += 1
                _log.info(
                    "sftp connected to %s:%s as %s",
                    self._config.host,
                    self._config.port,
                    self._config.username,
                )
            return self._sftp

    async def _connect(self, context: CallContext) -> tuple[Any, Any]:
        try:
            conn = await asyncio.wait_for(
                asyncssh.connect(**self._connect_options()), self._config.connect_timeout_seconds
            )
        except Exception as exc:  # noqa: BLE001 - every connect failure is translated below
            raise self._connect_error(exc, context) from None
        try:
            return conn, await conn.start_sftp_client()
        except Exception as exc:  # noqa: BLE001 - the subsystem may be missing or the link may drop
            conn.abort()
            raise self._connect_error(exc, context) from None

    def _connect_options(self) -> dict[str, Any]:
        config = self._config
        options: dict[str, Any] = {
            "host": config.host,
            "port": config.port,
            "username": config.username,
            "known_hosts": self._known_hosts(),
            "agent_path": None,
            "config": None,
            "preferred_auth": "publickey,password",
        }
        options["client_keys"] = [str(config.key_file)] if config.key_file else None
        # unwrapped here, where the connection is built, and nowhere else
        secret = config.password.get_secret_value() if config.password else ""
        options["password"] = secret or None
        return options

    def _known_hosts(self) -> Any:
        if self._config.host_public_key:
            return ([asyncssh.import_public_key(self._config.host_public_key)], [], [])
        if self._config.known_hosts:
            return str(self._config.known_hosts)
        return ()

    def _connect_error(self, exc: BaseException, context: CallContext) -> Exception:
        where = f"SFTP_HOST={self._config.host}:{self._config.port}"
        if isinstance(exc, asyncssh.PermissionDenied):
            return AuthenticationError(
                f"the SFTP server at {where} refused the login of SFTP_USERNAME={self._config.username!r}: "
                "check SFTP_PASSWORD or SFTP_KEY_FILE",
                context=context,
            )
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            return StopError(
                f"the host key of {where} is not trusted: check SFTP_HOST_KEY or SFTP_KNOWN_HOSTS",
                context=context,
            )
        if isinstance(exc, ConnectionRefusedError | socket.gaierror):
            return StopError(
                f"cannot reach the SFTP server at {where} ({type(exc).__name__}): "
                "check SFTP_HOST and SFTP_PORT",
                context=context,
            )
        if isinstance(exc, asyncssh.KeyImportError | FileNotFoundError | PermissionError):
            return StopError(f"cannot read SFTP_KEY_FILE ({type(exc).__name__})", context=context)
        if isinstance(exc, _TRANSPORT_ERRORS | OSError):
            return RetryableError(
                f"the SFTP connection to {where} failed ({type(exc).__name__})", context=context
            )
        return StopError(f"cannot open an SFTP session at {where} ({type(exc).__name__})", context=context)

    async def _drop(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()
            await conn.wait_closed()

    async def _shutdown(self) -> None:
        await self._drop()
        # cancel what asyncssh still has running so that no task is destroyed while pending
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
