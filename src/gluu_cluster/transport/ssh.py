"""SSH transport (asyncssh) with host keys verified against the inventory's known_hosts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from ..errors import (
    AuthRefusedError,
    CommandTimeoutError,
    HostKeyChangedError,
    HostKeyUnknownError,
    TransportError,
    UnreachableError,
)
from .base import CommandResult, Transport


@dataclass(frozen=True)
class SSHTarget:
    node: str
    address: str
    port: int
    user: str
    identity_file: Path | None
    known_hosts: Path
    connect_timeout: float
    command_timeout: float
    accept_new_host_keys: bool = False


class _HostKeyChecker(asyncssh.SSHClient):
    """Called by asyncssh only for keys *not* trusted by known_hosts: decides why."""

    def __init__(self, target: SSHTarget) -> None:
        self.target = target
        self.verdict: str | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        known = _read_known_hosts(self.target.known_hosts)
        lookup_port = port if port != 22 else None
        trusted, _ca, _revoked, *_ = asyncssh.match_known_hosts(known, host, addr, lookup_port)
        if trusted:
            self.verdict = "changed"
            return False
        if not self.target.accept_new_host_keys:
            self.verdict = "unknown"
            return False
        _append_known_host(self.target.known_hosts, host, port, key)
        self.verdict = "accepted"
        return True


def _read_known_hosts(path: Path) -> asyncssh.SSHKnownHosts:
    try:
        return asyncssh.import_known_hosts(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return asyncssh.import_known_hosts("")


def _append_known_host(path: Path, host: str, port: int, key: asyncssh.SSHKey) -> None:
    pattern = host if port == 22 else f"[{host}]:{port}"
    line = f"{pattern} {key.export_public_key('openssh').decode().strip()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
    os.chmod(path, 0o644)


def exit_code(status: int | None, exit_signal: tuple[str, bool, str, str] | None) -> int:
    """The shell's convention: 128 + the signal's number when a signal ended the command
    (the number of the signal SSH names, not always 9); 255 when neither is known."""
    if exit_signal:
        try:
            return 128 + int(signal.Signals[f"SIG{exit_signal[0]}"])
        except KeyError:
            return 255
    return status if status is not None else 255


class SSHTransport(Transport):
    """One lazily opened asyncssh connection per node, shared by all its commands."""

    def __init__(self, target: SSHTarget) -> None:
        self.target = target
        self.node = target.node
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        await self._connection()

    async def _connection(self) -> asyncssh.SSHClientConnection:
        async with self._lock:
            if self._conn is None:
                self._conn = await self._connect()
            return self._conn

    async def _connect(self) -> asyncssh.SSHClientConnection:
        t = self.target
        if t.identity_file is not None and not t.identity_file.is_file():
            raise AuthRefusedError(self.node, f"identity file {t.identity_file} does not exist")
        checker = _HostKeyChecker(t)
        keys = [str(t.identity_file)] if t.identity_file else ()
        where = f"{t.address}:{t.port}"
        try:
            conn, _client = await asyncio.wait_for(
                asyncssh.create_connection(
                    lambda: checker,
                    t.address,
                    t.port,
                    username=t.user,
                    client_keys=keys,
                    known_hosts=str(t.known_hosts),
                    agent_path=None,
                    config=None,
                    password=None,
                    kbdint_auth=False,
                    gss_auth=False,
                    connect_timeout=t.connect_timeout,
                    login_timeout=t.connect_timeout,
                    keepalive_interval=15,
                    keepalive_count_max=3,
                ),
                t.connect_timeout + 1,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            if checker.verdict == "changed":
                raise HostKeyChangedError(self.node, f"host key of {where} changed") from exc
            raise HostKeyUnknownError(
                self.node, f"host key of {where} is not in {t.known_hosts}"
            ) from exc
        except asyncssh.PermissionDenied as exc:
            raise AuthRefusedError(
                self.node, f"{where} refused SSH login as '{t.user}'"
            ) from exc
        except (TimeoutError, asyncssh.ConnectionLost) as exc:
            raise CommandTimeoutError(
                self.node,
                f"no SSH answer from {where} within {t.connect_timeout:g} s",
                "the node or its sshd is stalled or a firewall drops packets; check it",
            ) from exc
        except asyncssh.KeyImportError as exc:
            raise AuthRefusedError(
                self.node, f"identity file {t.identity_file} cannot be loaded: {exc}"
            ) from exc
        except (OSError, asyncssh.Error) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            raise UnreachableError(self.node, f"cannot connect to {where}: {reason}") from exc
        return conn

    async def _exec(
        self, argv: Sequence[str], stdin: bytes | None, timeout: float | None
    ) -> CommandResult:
        conn = await self._connection()
        limit = timeout or self.target.command_timeout
        command = shlex.join(argv)
        started = time.monotonic()
        try:
            process = await asyncio.wait_for(conn.create_process(command, encoding=None), limit)
        except TimeoutError:
            # Not even a channel within the limit: the connection itself is stalled.
            await self._drop()
            raise CommandTimeoutError(
                self.node, f"'{argv[0]}' did not finish within {limit:g} s"
            ) from None
        except (asyncssh.Error, OSError) as exc:
            await self._drop()
            raise UnreachableError(self.node, f"SSH connection lost: {exc}") from exc
        try:
            result = await asyncio.wait_for(process.communicate(stdin),
                                            max(0.0, limit - (time.monotonic() - started)))
        except TimeoutError:
            # Only this command goes (signalled, its channel closed): the connection and
            # the node's other commands (a status read runs several at once) carry on.
            with contextlib.suppress(asyncssh.Error, OSError):
                process.send_signal("KILL")
            process.close()
            raise CommandTimeoutError(
                self.node, f"'{argv[0]}' did not finish within {limit:g} s"
            ) from None
        except (asyncssh.Error, OSError) as exc:
            process.close()
            await self._drop()
            raise UnreachableError(self.node, f"SSH connection lost: {exc}") from exc
        out, err = result
        code = exit_code(process.exit_status, process.exit_signal)
        return CommandResult(tuple(argv), code,
                             out if isinstance(out, bytes) else b"",
                             err if isinstance(err, bytes) else b"")

    @asynccontextmanager
    async def forward_port(
        self, remote_host: str, remote_port: int
    ) -> AsyncIterator[tuple[str, int]]:
        conn = await self._connection()
        try:
            listener = await conn.forward_local_port("127.0.0.1", 0, remote_host, remote_port)
        except (asyncssh.Error, OSError) as exc:
            raise TransportError(
                self.node, f"cannot forward to {remote_host}:{remote_port}: {exc}"
            ) from exc
        try:
            yield "127.0.0.1", listener.get_port()
        finally:
            listener.close()

    async def _drop(self) -> None:
        # A timed-out or broken connection is not reused: the next command reconnects.
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 5)
            except TimeoutError:
                conn.abort()
