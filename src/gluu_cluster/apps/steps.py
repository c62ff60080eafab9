"""apply: each node's Gluu applications name every LDAP server, their own first."""

from __future__ import annotations

from dataclasses import dataclass

from ..connection import NodeHandle
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .facts import APPS_FACTS, failover_list

# Rewrites the servers line of one properties file in place (mode and owner kept: the
# file is edited through a copy beside it, then copied over). $1 file, $2 the new list.
SET_SERVERS = r"""
set -e
file=$1 servers=$2
tmp=$(mktemp "$file.gluu-cluster.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
awk -v servers="$servers" '
  /^[[:space:]]*servers[[:space:]]*[:=]/ { if (!done) print "servers: " servers; done = 1; next }
  { print }
  END { if (!done) print "servers: " servers }' "$file" > "$tmp"
cat -- "$tmp" > "$file"
"""


@dataclass(frozen=True)
class ServersPayload(Payload):
    files: tuple[str, ...]
    servers: str


class LDAPFailoverStep(Step):
    name = "apps-ldap-failover"
    title = "Gluu applications fail over to every LDAP server"
    tools = ("awk", "mktemp", "grep")
    reads = touches = (APPS_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts = await run.facts.of(APPS_FACTS, handle)
        wanted = failover_list(run.inventory, handle.name)
        if not facts.servers:
            return Blocked(handle.name, self.name,
                           "none of the Gluu LDAP settings files is there ("
                           + ", ".join(run.inventory.gluu.ldap_properties) + ")",
                           "install Gluu on the node first, or set gluu.ldap_properties "
                           "to the files its version has")
        stale = tuple(path for path, servers in facts.servers.items() if servers != wanted)
        if not stale:
            return NoOp(handle.name, self.name, f"the applications use {', '.join(wanted)}")
        return Change(handle.name, self.name,
                      f"LDAP servers of the Gluu applications: {', '.join(wanted)}",
                      tuple(f"{path}: {', '.join(facts.servers[path]) or 'no servers line'}"
                            f" -> {', '.join(wanted)}" for path in stale),
                      payload=ServersPayload(stale, ", ".join(wanted)))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ServersPayload)
        for path in change.payload.files:
            await handle.container.run(["sh", "-c", SET_SERVERS, "gluu-set-servers", path,
                                        change.payload.servers], timeout=30)
