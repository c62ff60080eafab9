"""Stop and start a node's LDAP server as the inventory says (``ldap.service``): a systemd
unit, or a PID file with a start (and optional stop) command. Whatever the engine: each
engine says how it knows its server answers again."""

from __future__ import annotations

from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..inventory import LDAPService, LDAPSettings

_STOP_BY_PID = r"""
pidfile=$1
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
alive() { [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; }
alive || { rm -f "$pidfile"; exit 0; }
kill "$pid"
i=0
while alive; do
  i=$((i+1)); [ $i -gt 600 ] && { echo "the LDAP server (pid $pid) did not stop in 60 s" >&2; exit 1; }
  sleep 0.1
done
rm -f "$pidfile"
"""


def service_of(settings: LDAPSettings, node: str) -> LDAPService:
    if settings.service is None:
        raise NodeCheckError(
            node, "the inventory does not say how the LDAP server is started (ldap.service): "
            "set 'systemd_unit', or 'pid_file' and 'start_command'"
        )
    return settings.service


async def stop_server(handle: NodeHandle, settings: LDAPSettings) -> None:
    service = service_of(settings, handle.name)
    if service.systemd_unit:
        await handle.host.run(["systemctl", "stop", service.systemd_unit], timeout=120)
    elif service.stop_command:
        await handle.container.run(service.stop_command, timeout=120)
    else:
        assert service.pid_file is not None
        await handle.container.run(["sh", "-c", _STOP_BY_PID, "stop-ldap", service.pid_file],
                                   timeout=90)


async def start_server(handle: NodeHandle, settings: LDAPSettings) -> None:
    service = service_of(settings, handle.name)
    if service.systemd_unit:
        await handle.host.run(["systemctl", "start", service.systemd_unit], timeout=120)
    else:
        assert service.start_command
        await handle.container.run(service.start_command, timeout=300)
