"""status: a node whose Gluu applications do not fail over to every LDAP server."""

from __future__ import annotations

from ..cache.render import cache_password
from ..errors import GluuClusterError
from ..facts.cache import FactCache
from ..problems import Problem, define
from .config import CACHE, wanted_values
from .facts import APPS_FACTS, GLUU_CONFIG_FACTS, failover_list

CONFIG_STALE = define("APPS-LDAP-CONFIG-STALE", "warning",
                      "run 'gluu-cluster apply': it sets Gluu's configuration entry for the "
                      "cluster (once, on the primary; it replicates)")
NO_FAILOVER = define("APPS-LDAP-NO-FAILOVER", "warning",
                     "run 'gluu-cluster apply': it names every LDAP server in the file, "
                     "the node's own first")


async def apps_problems(cache: FactCache) -> list[Problem]:
    inventory = cache.cluster.inventory
    if inventory.ldap is None:
        return []
    problems = []
    for handle in cache.cluster.nodes:
        if handle.name in cache.cluster.down:
            continue
        try:
            facts = await cache.of(APPS_FACTS, handle)
        except GluuClusterError:
            continue  # the node's unreachable problem says it
        wanted = failover_list(inventory, handle.name)
        for path, servers in facts.servers.items():
            if servers != wanted:
                problems.append(NO_FAILOVER.at(
                    handle.name, f"{path} names {', '.join(servers) or 'no LDAP server'}; "
                    f"wanted {', '.join(wanted)}"))
    return problems + await _config_problems(cache)


async def _config_problems(cache: FactCache) -> list[Problem]:
    inventory = cache.cluster.inventory
    primary = inventory.primary_node.name
    if primary in cache.cluster.down:
        return []
    try:
        facts = await cache.of(GLUU_CONFIG_FACTS, cache.cluster.handle(primary))
    except GluuClusterError:
        return []
    if facts.config is None:
        return []
    password = cache_password(inventory)
    salt = facts.salt.reveal() if facts.salt is not None else None
    stale = wanted_values(facts.config, inventory, password if salt else None, salt)
    if password is not None and salt is None:
        stale[CACHE] = ()
    if not stale:
        return []
    return [CONFIG_STALE.at(primary, f"{facts.config.dn}: {', '.join(sorted(stale))} not set "
                            "for this cluster")]
