"""apply: each node's Gluu applications name every LDAP server, their own first."""

from __future__ import annotations

from dataclasses import dataclass

from ..cache.render import cache_password
from ..connection import NodeHandle
from ..ldap.engines import engine_for
from ..ldap.entry import Entry
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .config import CACHE, REFRESH, servers, wanted_values
from .encode import SALT_FILE
from .facts import APPS_FACTS, GLUU_CONFIG_FACTS, failover_list

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


@dataclass(frozen=True)
class ConfigPayload(Payload):
    dn: str
    values: tuple[tuple[str, tuple[str, ...]], ...]  # attribute -> all its new values


class GluuLDAPConfigStep(Step):
    """Once, on the primary (the entry replicates): Gluu's own LDAP settings for a cluster."""

    name = "apps-ldap-config"
    title = "Gluu configuration in LDAP: every LDAP server, the shared cache, one cache refresh"
    reads = touches = (GLUU_CONFIG_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts = await run.facts.of(GLUU_CONFIG_FACTS, handle)
        if not facts.read:
            return NoOp(handle.name, self.name, "set once, on the primary (replicated)")
        if facts.config is None:
            if facts.error:
                return Blocked(handle.name, self.name, f"the Gluu configuration entry could not "
                               f"be read: {facts.error}", "check that the LDAP server answers")
            return NoOp(handle.name, self.name, "no Gluu configuration entry (gluuConfiguration "
                        "or gluuAppliance) in the directory: nothing to set")
        inventory = run.inventory
        password = cache_password(inventory)
        salt = facts.salt.reveal() if facts.salt is not None else None
        if password is not None and salt is None:
            return Blocked(handle.name, self.name, f"the cache password cannot be stored for "
                           f"Gluu: no encodeSalt in {SALT_FILE}",
                           "restore Gluu's salt file on the primary (setup writes it)")
        changes = wanted_values(facts.config, inventory, password, salt)
        if not changes:
            return NoOp(handle.name, self.name, f"{facts.config.dn} is set for the cluster")
        details = tuple(f"{facts.config.dn}: {attr}" + (
            f" = {changes[attr][0]}" if attr == REFRESH else
            " -> the shared Redis over TLS (password in Gluu's encoding)" if attr == CACHE else
            f" -> servers {', '.join(servers(inventory))}") for attr in changes)
        return Change(handle.name, self.name, "Gluu configuration in LDAP for the cluster",
                      details, payload=ConfigPayload(facts.config.dn, tuple(changes.items())))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ConfigPayload)
        settings = run.inventory.ldap
        assert settings is not None
        entry = Entry(change.payload.dn, {attr.lower(): [v.encode() for v in values]
                                          for attr, values in change.payload.values})
        await engine_for(settings).rewrite(handle, run.inventory, entry)
