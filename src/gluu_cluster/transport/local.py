"""Transport for the machine the tool runs on."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence

from ..errors import CommandTimeoutError, UnreachableError
from .base import CommandResult, Transport


async def run_process(
    node: str, argv: Sequence[str], stdin: bytes | None, timeout: float | None
) -> CommandResult:
    """Run argv locally in its own process group; on timeout kill the whole group."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise UnreachableError(node, f"'{argv[0]}' is not installed", "install it and run again") from exc
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await proc.wait()
        raise CommandTimeoutError(node, f"'{argv[0]}' did not finish within {timeout:g} s") from None
    assert proc.returncode is not None
    return CommandResult(tuple(argv), proc.returncode, stdout, stderr)


class LocalTransport(Transport):
    def __init__(self, node: str = "local", command_timeout: float | None = 120.0) -> None:
        self.node = node
        self.command_timeout = command_timeout

    async def _exec(
        self, argv: Sequence[str], stdin: bytes | None, timeout: float | None
    ) -> CommandResult:
        return await run_process(self.node, argv, stdin, timeout or self.command_timeout)
