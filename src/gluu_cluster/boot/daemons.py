"""A daemon of the hosts in front (nginx on the balancer, Redis on the cache) as a service
of the host's init system, so it comes back when the host boots: a systemd unit (restart
on failure) where systemd runs the host, else an LSB script in /etc/init.d that the
container's start runs. ``apply`` starts, reloads and restarts it through that service.
(gluu-csync2d, a supervisor of several processes, has its own: filesync/service.py.)"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from dataclasses import dataclass

from ..connection import NodeHandle, Scope
from ..facts.cache import ScriptArea
from ..facts.script import Sections
from .facts import FACT_SCRIPT as BOOT_SCRIPT
from .facts import INIT_D, BootFacts, InitSystem, Service, boot_args
from .facts import parse_facts as parse_boot

START_DEADLINE = 20  # seconds for the daemon to write its PID file

# For a fact script: `definitions SCRIPT UNIT` prints the sha256 of each form of a
# daemon's service definition there is (which one counts depends on the host's init).
DEFINITIONS_SCRIPT = r"""
_definition() { [ -e "$1" ] || return 3; sha256sum < "$1" | cut -d' ' -f1; }
definitions() { section def.sysv _definition "$1"; section def.systemd _definition "$2"; }
"""


def definition_digests(sections: Sections) -> dict[str, str]:
    """init system's value ("sysv", "systemd") -> the sha256 of that definition."""
    return {init: s.out.strip() for init, s in sections.named("def") if s.ok}


@dataclass(frozen=True)
class Daemon:
    name: str  # the service's name: /etc/init.d/NAME, NAME.service
    label: str  # what it is, for messages
    start: tuple[str, ...]  # argv that starts it detached (it writes pid_file)
    pid_file: str
    reload: tuple[str, ...] | None = None  # argv of a graceful reload; None: restart
    run_dir: str | None = None  # made (and given to owner) before each start: /run is a tmpfs
    owner: str | None = None

    def service(self, init: InitSystem) -> Service:
        if init is InitSystem.SYSTEMD:
            return Service("unit", f"{self.name}.service", self.label)
        return Service("sysv", self.name, self.label)

    def path(self, init: InitSystem) -> str:
        if init is InitSystem.SYSTEMD:
            return f"/etc/systemd/system/{self.name}.service"
        return posixpath.join(INIT_D, self.name)

    def text(self, init: InitSystem) -> str:
        return self._unit() if init is InitSystem.SYSTEMD else self._script()

    def definition_paths(self) -> list[str]:
        """The arguments of DEFINITIONS_SCRIPT's `definitions`."""
        return [self.path(InitSystem.SYSV), self.path(InitSystem.SYSTEMD)]

    def stale_definition(self, init: InitSystem, digests: dict[str, str]) -> str | None:
        """The definition to write for this init, None when the host has it already."""
        text = self.text(init)
        return None if digests.get(init.value) == hashlib.sha256(text.encode()).hexdigest() else text

    def boot_facts(self, name: str, scope: Scope) -> ScriptArea[BootFacts]:
        """The area that reads its host's init system and whether this daemon starts at boot."""
        return ScriptArea(
            name, BOOT_SCRIPT,
            lambda handle, _i, _d: boot_args(handle, [self.service(i) for i in InitSystem]),
            parse_boot, on_host=True, scope=scope)

    def control(self, init: InitSystem, action: str) -> list[str]:
        """argv of start | stop | restart | reload through the host's init system."""
        if init is InitSystem.SYSTEMD:
            return ["systemctl", action, f"{self.name}.service"]
        return [self.path(init), action]

    def _prepare(self) -> list[str]:
        if self.run_dir is None:
            return []
        lines = [f"mkdir -p {shlex.quote(self.run_dir)}"]
        if self.owner:
            lines.append(f"chown {shlex.quote(self.owner)} {shlex.quote(self.run_dir)}")
        return lines

    def _unit(self) -> str:
        pre = "".join(f"ExecStartPre=/bin/sh -c {shlex.quote(line)}\n" for line in self._prepare())
        reload = f"ExecReload={shlex.join(self.reload)}\n" if self.reload else ""
        return f"""# Managed by gluu-cluster: 'gluu-cluster apply' rewrites this file.
[Unit]
Description=gluu-cluster {self.label}
After=network-online.target
Wants=network-online.target

[Service]
Type=forking
PIDFile={self.pid_file}
{pre}ExecStart={shlex.join(self.start)}
{reload}Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
"""

    def _script(self) -> str:
        reload = (shlex.join(self.reload) if self.reload else '"$0" restart')
        prepare = "\n    ".join(self._prepare()) or ":"
        return f"""#!/bin/sh
# Managed by gluu-cluster: 'gluu-cluster apply' rewrites this file.
### BEGIN INIT INFO
# Provides:          {self.name}
# Required-Start:    $remote_fs $network
# Required-Stop:     $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: gluu-cluster {self.label}
### END INIT INFO
PIDFILE={shlex.quote(self.pid_file)}
# A killed daemon nobody reaped yet still answers kill -0: its state says Z.
running() {{
  pid=$(cat "$PIDFILE" 2> /dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 1
  case $(sed 's/.*) //' "/proc/$pid/stat" 2> /dev/null) in Z*|"") return 1 ;; esac
}}
case "$1" in
  start)
    running && exit 0
    {prepare}
    {shlex.join(self.start)} < /dev/null || exit 1
    i=0
    until running; do
      i=$((i + 1))
      if [ "$i" -gt {START_DEADLINE * 10} ]; then
        echo "{self.name} did not start within {START_DEADLINE} s" >&2; exit 1
      fi
      sleep 0.1
    done ;;
  stop)
    running || exit 0
    kill "$pid"
    i=0
    while running && [ "$i" -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
    running && kill -KILL "$pid"
    exit 0 ;;
  restart) "$0" stop && "$0" start ;;
  reload)
    if running; then {reload}; else "$0" start; fi ;;
  status)
    if running; then echo "{self.name} is running (pid $pid)"; else
      echo "{self.name} is stopped"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|restart|reload|status" >&2; exit 2 ;;
esac
"""


async def install_definition(handle: NodeHandle, daemon: Daemon, init: InitSystem,
                             text: str) -> None:
    """Write the daemon's unit (the host's) or script (the container's)."""
    if init is InitSystem.SYSTEMD:
        await handle.host.write_file(daemon.path(init), text, mode=0o644)
        await handle.host.run(["systemctl", "daemon-reload"], timeout=60)
    else:
        await handle.container.write_file(daemon.path(init), text, mode=0o755)
