"""gluu-csync2d as a service of the node's init system, so it comes back after a reboot
or a crash: a systemd unit (restart on failure) where systemd runs the node, else a SysV
script inside the Gluu container, started with the container's other services. ``apply``
starts and stops the daemon through it too: one way in, whichever init the node has."""

from __future__ import annotations

import asyncio
import posixpath
import shlex
import time

from ..boot.facts import INIT_D, InitSystem
from ..errors import NodeCheckError
from ..inventory import FileSync
from ..transport import Transport
from .csync2 import SUPERVISOR_NAME

START_DEADLINE = 20.0  # seconds for gluu-csync2d to write its pid file
UNIT_PATH = f"/etc/systemd/system/{SUPERVISOR_NAME}.service"
SCRIPT_PATH = posixpath.join(INIT_D, SUPERVISOR_NAME)


def state_dir(settings: FileSync) -> str:
    return posixpath.join(settings.database_dir, "gluu")


# Prints the pid of the running gluu-csync2d whose state dir is $1; returns 3 if none.
# One text, used alone, in the SysV script and inside the file sync fact script.
DAEMON_CHECK = r"""
daemon() {
  pid=$(cat "$1/gluu-csync2d.pid" 2>/dev/null) || return 3
  [ -n "$pid" ] && [ -r "/proc/$pid/status" ] || return 3
  grep -q '^State:.*Z' "/proc/$pid/status" && return 3
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q gluu-csync2d || return 3
  echo "$pid"
}
"""


async def supervisor_pid(container: Transport, settings: FileSync) -> int | None:
    result = await container.run(["sh", "-c", DAEMON_CHECK + 'daemon "$1"', "gluu-csync2d-status",
                                  state_dir(settings)], check=False)
    return int(result.out.strip()) if result.ok and result.out.strip().isdigit() else None


def definition_path(init: InitSystem) -> str:
    return UNIT_PATH if init is InitSystem.SYSTEMD else SCRIPT_PATH


def _supervisor(settings: FileSync) -> str:
    return posixpath.join(settings.config_dir, SUPERVISOR_NAME)


def unit_text(settings: FileSync) -> str:
    return f"""# Managed by gluu-cluster: 'gluu-cluster apply' rewrites this file.
[Unit]
Description=gluu-cluster file sync (csync2 server, change trigger, full runs)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=/bin/bash {_supervisor(settings)}
Restart=on-failure
RestartSec=2
KillMode=control-group

[Install]
WantedBy=multi-user.target
"""


# Stops the daemon whose state dir is $STATE (or $1): its whole process group.
STOP_BODY = r"""
STATE=${STATE:-$1}
pid=$(daemon "$STATE") || exit 0
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
i=0
while daemon "$STATE" > /dev/null && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
if daemon "$STATE" > /dev/null; then kill -KILL -- "-$pid" 2>/dev/null; fi
exit 0
"""

# SysV: start detaches the supervisor (own session, stdio closed) and waits for its pid.
_SCRIPT = r"""
daemon_pid() { daemon "$STATE" ; }
case "$1" in
  start)
    if pid=$(daemon_pid); then echo "gluu-csync2d is running (pid $pid)"; exit 0; fi
    mkdir -p "$STATE"
    setsid -f bash "$SUPERVISOR" < /dev/null > /dev/null 2>&1
    i=0
    until daemon_pid > /dev/null; do
      i=$((i + 1))
      if [ "$i" -gt DEADLINE_TENTHS ]; then
        echo "gluu-csync2d did not start within DEADLINE s; see $STATE/server.log" >&2
        exit 1
      fi
      sleep 0.1
    done
    ;;
  stop)
    STOP_BODY
    ;;
  restart) "$0" stop && "$0" start ;;
  status)
    if pid=$(daemon_pid); then echo "gluu-csync2d is running (pid $pid)"; else
      echo "gluu-csync2d is stopped"; exit 3; fi
    ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
"""


def script_text(settings: FileSync) -> str:
    header = f"""#!/bin/sh
# Managed by gluu-cluster: 'gluu-cluster apply' rewrites this file.
### BEGIN INIT INFO
# Provides:          {SUPERVISOR_NAME}
# Required-Start:    $remote_fs $network
# Required-Stop:     $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: gluu-cluster file sync (csync2 server, change trigger, full runs)
### END INIT INFO
SUPERVISOR={shlex.quote(_supervisor(settings))}
STATE={shlex.quote(state_dir(settings))}
"""
    body = (_SCRIPT.replace("STOP_BODY", STOP_BODY.strip().replace("\n", "\n    "))
            .replace("DEADLINE_TENTHS", str(int(START_DEADLINE * 10)))
            .replace("DEADLINE", f"{START_DEADLINE:g}"))
    return header + DAEMON_CHECK + body


def definition_text(settings: FileSync, init: InitSystem) -> str:
    return unit_text(settings) if init is InitSystem.SYSTEMD else script_text(settings)


def control(init: InitSystem, action: str) -> list[str]:
    """The argv that starts or stops the daemon through the node's init system."""
    if init is InitSystem.SYSTEMD:
        return ["systemctl", action, f"{SUPERVISOR_NAME}.service"]
    return [SCRIPT_PATH, action]


async def start_supervisor(container: Transport, settings: FileSync, init: InitSystem) -> None:
    if init is InitSystem.SYSTEMD:
        await container.run(["systemctl", "daemon-reload"], timeout=60)
    result = await container.run(control(init, "start"), timeout=START_DEADLINE + 30, check=False)
    deadline = time.monotonic() + START_DEADLINE
    while await supervisor_pid(container, settings) is None:
        if time.monotonic() > deadline or not result.ok:
            raise NodeCheckError(
                container.node, f"{SUPERVISOR_NAME} did not start "
                f"({result.first_error_line() if not result.ok else f'in {START_DEADLINE:g} s'}); "
                f"see {state_dir(settings)}/server.log on the node")
        await asyncio.sleep(0.1)


async def stop_supervisor(container: Transport, settings: FileSync, init: InitSystem) -> None:
    """systemd's stop where it runs the daemon; then the SysV script's own stop body
    (run directly: it also ends a daemon an older version started by hand, before any
    script existed)."""
    if init is InitSystem.SYSTEMD:
        await container.run(control(init, "stop"), timeout=60, check=False)
    await container.run(["sh", "-c", DAEMON_CHECK + STOP_BODY, "gluu-csync2d-stop",
                         state_dir(settings)], timeout=30)
