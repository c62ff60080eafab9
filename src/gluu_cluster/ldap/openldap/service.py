"""Stop and start a node's slapd (ldap/service.py) and know when it answers again (ldapi)."""

from __future__ import annotations

import asyncio
import time

from ...connection import NodeHandle
from ...errors import LDAPCommandError, NodeCheckError
from ...inventory import LDAPSettings
from ..service import start_server, stop_server
from .directory import NodeDirectory


async def stop_slapd(handle: NodeHandle, settings: LDAPSettings) -> None:
    await stop_server(handle, settings)


async def start_slapd(handle: NodeHandle, settings: LDAPSettings, timeout: float = 60) -> None:
    await start_server(handle, settings)
    await wait_ready(handle, settings, timeout)


async def _answer(handle: NodeHandle, settings: LDAPSettings) -> str | None:
    """None when slapd answers on ldapi, else why not."""
    try:
        await NodeDirectory(handle.container, settings.ldapi_socket).search(
            "", "base", attrs=["1.1"], timeout=10)
    except LDAPCommandError as exc:
        return exc.detail
    return None


async def wait_ready(handle: NodeHandle, settings: LDAPSettings, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        why = await _answer(handle, settings)
        if why is None:
            return
        last = why
        await asyncio.sleep(0.2)
    raise NodeCheckError(handle.name, f"slapd did not answer within {timeout:g} s after start: {last}")


async def ensure_running(handle: NodeHandle, settings: LDAPSettings) -> None:
    """Start slapd unless it already answers."""
    if await _answer(handle, settings) is not None:
        await start_slapd(handle, settings)
