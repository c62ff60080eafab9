"""status: a node whose Gluu applications do not fail over to every LDAP server."""

from __future__ import annotations

from ..errors import GluuClusterError
from ..facts.cache import FactCache
from ..problems import Problem, define
from .facts import APPS_FACTS, failover_list

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
    return problems
