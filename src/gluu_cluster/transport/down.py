"""A node found unreachable once: every later command fails at once with the same error,
so a status run does not wait for the connect timeout again on each of its commands."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import TransportError
from .base import CommandResult, Transport


class DownTransport(Transport):
    def __init__(self, node: str, error: TransportError) -> None:
        self.node = node
        self.error = error

    async def connect(self) -> None:
        raise self.error

    async def _exec(
        self, argv: Sequence[str], stdin: bytes | None, timeout: float | None
    ) -> CommandResult:
        raise self.error
