"""A node's init system and the boot state of the services the cluster needs, in one
round trip (run on the host: a systemd unit is the host's, a SysV script the container's).
"""

from __future__ import annotations

import enum
import posixpath
from dataclasses import dataclass
from typing import Literal

from ..connection import NodeHandle
from ..facts.cache import ScriptArea
from ..facts.script import Sections
from ..filesync.csync2 import SUPERVISOR_NAME
from ..inventory import Inventory

INIT_D = "/etc/init.d"
START_LEVELS = ("2", "3", "4", "5")  # Debian's default is 2, RHEL's 3: enabled in all four


class InitSystem(enum.Enum):
    SYSTEMD = "systemd"
    SYSV = "sysv"


@dataclass(frozen=True)
class Service:
    """A service the cluster needs started at boot."""

    kind: Literal["unit", "sysv"]
    name: str  # the unit's name, or the script's name in /etc/init.d
    label: str  # what it is, for messages


# $1 the container's root ("" without one), then SysV script names, "--", unit names.
# systemd counts only where it runs the node itself: a chroot container's services are
# started by the container's start, from its rc directories.
FACT_SCRIPT = r"""
root=$1; shift
init=sysv
if [ -z "$root" ] && [ -d /run/systemd/system ]; then init=systemd; fi
section init echo "$init"
# Prints the runlevels whose rc directory starts the script; 3 when there is no script.
levels() {
  [ -x "$root/etc/init.d/$1" ] || return 3
  for l in 2 3 4 5; do
    for f in "$root/etc/rc$l.d"/S[0-9][0-9]"$1" "$root/etc/rc.d/rc$l.d"/S[0-9][0-9]"$1"; do
      if [ -e "$f" ]; then echo "$l"; break; fi
    done
  done
  return 0
}
while [ $# -gt 0 ] && [ "$1" != -- ]; do section "sysv.$1" levels "$1"; shift; done
[ $# -gt 0 ] && shift
if command -v systemctl > /dev/null 2>&1; then
  for unit in "$@"; do section "unit.$unit" systemctl is-enabled "$unit"; done
fi
"""


@dataclass(frozen=True)
class BootFacts:
    init: InitSystem
    sysv: dict[str, tuple[str, ...] | None]  # script -> runlevels starting it; None: no script
    units: dict[str, str]  # unit -> 'systemctl is-enabled' answer; absent: no systemctl

    def enabled(self, service: Service) -> bool:
        if service.kind == "unit":
            return self.units.get(service.name) in ("enabled", "enabled-runtime", "static",
                                                    "alias")
        return set(self.sysv.get(service.name) or ()) >= set(START_LEVELS)

    def has_script(self, service: Service) -> bool:
        return service.kind == "unit" or self.sysv.get(service.name) is not None


def ldap_service(inventory: Inventory) -> Service | None:
    """The LDAP server's service as the inventory starts it; None when it is started by a
    command that is no init script (then the node's boot is the operator's to set)."""
    if inventory.ldap is None or inventory.ldap.service is None:
        return None
    service = inventory.ldap.service
    label = "the LDAP server"
    if service.systemd_unit:
        return Service("unit", service.systemd_unit, label)
    argv = service.start_command or []
    if argv and posixpath.dirname(argv[0]) == INIT_D:
        return Service("sysv", posixpath.basename(argv[0]), label)
    if len(argv) == 3 and posixpath.basename(argv[0]) == "service" and argv[2] == "start":
        return Service("sysv", argv[1], label)
    return None


def sync_service(init: InitSystem) -> Service:
    label = "gluu-csync2d (file sync)"
    if init is InitSystem.SYSTEMD:
        return Service("unit", f"{SUPERVISOR_NAME}.service", label)
    return Service("sysv", SUPERVISOR_NAME, label)


def wanted(inventory: Inventory, init: InitSystem) -> tuple[Service, ...]:
    found = [ldap_service(inventory)]
    if inventory.file_sync.groups:
        found.append(sync_service(init))
    return tuple(s for s in found if s is not None)


def boot_args(handle: NodeHandle, candidates: list[Service]) -> list[str]:
    """The fact script's arguments: the container root, then the scripts and units asked
    about (both forms of a service: which one counts depends on the init found)."""
    scripts = dict.fromkeys(s.name for s in candidates if s.kind == "sysv")
    units = dict.fromkeys(s.name for s in candidates if s.kind == "unit")
    root = "" if handle.container is handle.host else handle.container_root
    return [root, *scripts, "--", *units]


def _args(handle: NodeHandle, inventory: Inventory, _down: frozenset[str]) -> list[str]:
    return boot_args(handle, [*wanted(inventory, InitSystem.SYSV),
                              *wanted(inventory, InitSystem.SYSTEMD)])


def parse_facts(_node: str, _inventory: Inventory, sections: Sections) -> BootFacts:
    init = sections["init"].out.strip()
    return BootFacts(
        init=InitSystem.SYSTEMD if init == "systemd" else InitSystem.SYSV,
        sysv={name: tuple(s.out.split()) if s.ok else None
              for name, s in sections.named("sysv")},
        units={name: (s.out.strip() or "not-found") for name, s in sections.named("unit")},
    )


BOOT_FACTS = ScriptArea("boot", FACT_SCRIPT, _args, parse_facts, on_host=True)
