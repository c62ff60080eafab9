"""Stop and start a node's slapd: a systemd unit, or a PID file and a start command."""

from __future__ import annotations

import asyncio
import time

from ...connection import NodeHandle
from ...errors import LDAPCommandError, NodeCheckError
from ...inventory import LDAPSettings
from .directory import NodeDirectory

_STOP_BY_PID = r"""
pidfile=$1
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
alive() { [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; }
alive || { rm -f "$pidfile"; exit 0; }
kill "$pid"
i=0
while alive; do
  i=$((i+1)); [ $i -gt 600 ] && { echo "slapd (pid $pid) did not stop in 60 s" >&2; exit 1; }
  sleep 0.1
done
rm -f "$pidfile"
"""


def _service(settings: LDAPSettings, node: str) -> None:
    if settings.service is None:
        raise NodeCheckError(
            node, "the inventory does not say how slapd is started (ldap.service): set "
            "'systemd_unit', or 'pid_file' and 'start_command'"
        )


async def stop_slapd(handle: NodeHandle, settings: LDAPSettings) -> None:
    _service(settings, handle.name)
    service = settings.service
    assert service is not None
    if service.systemd_unit:
        await handle.host.run(["systemctl", "stop", service.systemd_unit], timeout=120)
    elif service.stop_command:
        await handle.container.run(service.stop_command, timeout=120)
    else:
        assert service.pid_file is not None
        await handle.container.run(["sh", "-c", _STOP_BY_PID, "stop-slapd", service.pid_file],
                                   timeout=90)


async def start_slapd(handle: NodeHandle, settings: LDAPSettings, timeout: float = 60) -> None:
    _service(settings, handle.name)
    service = settings.service
    assert service is not None
    if service.systemd_unit:
        await handle.host.run(["systemctl", "start", service.systemd_unit], timeout=120)
    else:
        assert service.start_command
        await handle.container.run(service.start_command, timeout=120)
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
