"""Wrapper that runs commands inside the Gluu chroot container of a node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from .base import CommandResult, Transport


class ChrootTransport(Transport):
    """Everything runs as ``chroot ROOT argv`` on the inner transport.

    File operations go through the same path, so owners are resolved with the
    container's own user database, as Gluu's services see them.
    """

    def __init__(self, inner: Transport, root: str) -> None:
        self.inner = inner
        self.root = root
        self.node = inner.node

    async def _exec(
        self, argv: Sequence[str], stdin: bytes | None, timeout: float | None
    ) -> CommandResult:
        result = await self.inner._exec(["chroot", self.root, *argv], stdin, timeout)
        return CommandResult(tuple(argv), result.exit_code, result.stdout, result.stderr)

    async def connect(self) -> None:
        await self.inner.connect()

    @asynccontextmanager
    async def forward_port(
        self, remote_host: str, remote_port: int
    ) -> AsyncIterator[tuple[str, int]]:
        async with self.inner.forward_port(remote_host, remote_port) as local:
            yield local

    async def close(self) -> None:
        """The inner transport belongs to whoever made it; it closes it."""


def in_container(transport: Transport, root: str) -> Transport:
    """The transport for commands inside the container; identity when root is '/'."""
    return transport if root in ("", "/") else ChrootTransport(transport, root)
