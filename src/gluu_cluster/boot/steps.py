"""``boot-services``: the LDAP server and gluu-csync2d start when the node boots, so a
restarted node rejoins the cluster with no ``apply`` (the seed leaves that to luck)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..connection import NodeHandle
from ..facts.cache import FactArea
from ..inventory import Inventory
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .daemons import Daemon
from .facts import BOOT_FACTS, START_LEVELS, BootFacts, InitSystem, Service, ldap_service, wanted

# $1 the script's name: S links in the start runlevels, K links in the others (what
# update-rc.d/chkconfig make), in /etc/rc.d/rcN.d where the distribution keeps them there.
ENABLE_SYSV = r"""
name=$1
for l in 0 1 2 3 4 5 6; do
  dir=/etc/rc$l.d
  [ -d "/etc/rc.d/rc$l.d" ] && dir=/etc/rc.d/rc$l.d
  mkdir -p "$dir"
  case " START_LEVELS " in
    *" $l "*) rm -f "$dir"/K[0-9][0-9]"$name"; ln -sfn "../init.d/$name" "$dir/S99$name" ;;
    *) [ -e "$dir/S99$name" ] || ln -sfn "../init.d/$name" "$dir/K01$name" ;;
  esac
done
""".replace("START_LEVELS", " ".join(START_LEVELS))


@dataclass(frozen=True)
class BootPayload(Payload):
    enable: tuple[Service, ...]


class BootServicesStep(Step):
    """On every node; subclasses enable the daemons of the hosts in front (``scope``,
    ``area``: those hosts' boot facts, ``services``: what they need)."""

    name = "boot-services"
    title = "services started at boot"
    tools = ("ln",)
    reads = touches = (BOOT_FACTS,)
    area: ClassVar[FactArea[BootFacts]] = BOOT_FACTS

    def services(self, inventory: Inventory, init: InitSystem) -> tuple[Service, ...]:
        return wanted(inventory, init)

    def refused(self, inventory: Inventory, facts: BootFacts) -> tuple[str, str] | None:
        """(why, fix) when the node cannot be set: its LDAP server has no init script."""
        ldap = ldap_service(inventory)
        if ldap is not None and not facts.has_script(ldap):
            return (f"{ldap.label}'s init script /etc/init.d/{ldap.name} is not there",
                    "set ldap.service to how the node really starts its LDAP server")
        return None

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts = await run.facts.of(self.area, handle)
        services = self.services(run.inventory, facts.init)
        refused = self.refused(run.inventory, facts)
        if refused is not None:
            return Blocked(handle.name, self.name, *refused)
        # The definitions are written earlier in the run (csync2-config, balancer-config,
        # cache-server).
        enable = tuple(s for s in services if not facts.enabled(s))
        how = "systemd" if facts.init is InitSystem.SYSTEMD else "the container's rc scripts"
        if not enable:
            return NoOp(handle.name, self.name,
                        f"{', '.join(s.label for s in services) or 'nothing'} started at boot "
                        f"({how})")
        return Change(handle.name, self.name, f"start at boot ({how}): "
                      + ", ".join(s.label for s in enable),
                      tuple(f"enable {s.kind} {s.name}" for s in enable),
                      payload=BootPayload(enable))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, BootPayload)
        for service in change.payload.enable:
            if service.kind == "unit":
                await handle.host.run(["systemctl", "enable", service.name], timeout=60)
            else:
                await handle.container.run(["sh", "-c", ENABLE_SYSV, "enable-sysv", service.name],
                                           timeout=30)


class DaemonBootStep(BootServicesStep):
    """A host in front: its one daemon (``daemon``) started at boot; nothing to refuse."""

    daemon: ClassVar[Daemon]

    def services(self, inventory: Inventory, init: InitSystem) -> tuple[Service, ...]:
        return (self.daemon.service(init),)

    def refused(self, inventory: Inventory, facts: BootFacts) -> tuple[str, str] | None:
        return None
