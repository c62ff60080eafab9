"""status of the shared cache: Redis runs, and every node reaches it over TLS."""

from __future__ import annotations

from ..errors import GluuClusterError
from ..facts.cache import FactCache
from ..problems import Problem, define
from ..status.snapshot import ServiceRow, ServiceState
from .facts import CACHE_CLIENT_FACTS, CACHE_HOST_FACTS
from .render import LOG_DIR, cache_host

DOWN = define("CACHE-DOWN", "error",
              f"run 'gluu-cluster apply' to start Redis again (its log: {LOG_DIR}/redis.log)")
NODE_CANNOT_REACH = define("CACHE-UNREACHABLE-FROM-NODE", "error",
                           "run 'gluu-cluster apply' (it gives the node the cache's CA and "
                           "password); check that the node reaches the cache's TLS port")
WRONG_PASSWORD = define("CACHE-WRONG-PASSWORD", "error",
                        "run 'gluu-cluster apply': the node's cache password is not the "
                        "inventory's (or Redis was not restarted after a change)")


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value / 1048576:.1f} MiB"


async def cache_status(cache: FactCache) -> tuple[ServiceRow, list[Problem]] | None:
    cluster, inventory = cache.cluster, cache.cluster.inventory
    if inventory.cache.type == "none":
        return None
    host = cache_host(inventory)
    where = f"{host.address}:{inventory.cache.port}"
    problems: list[Problem] = []
    if host.name in cluster.down:
        return ServiceRow(host.name, "cache", host.address, ServiceState.UNREACHABLE, ""), []
    try:
        server = await cache.of(CACHE_HOST_FACTS, cluster.handle(host.name))
    except GluuClusterError as exc:
        return ServiceRow(host.name, "cache", host.address, ServiceState.UNREACHABLE,
                          str(exc)), []
    if server.pid is None:
        problems.append(DOWN.at(host.name, f"Redis does not run on {host.name}"
                                if server.redis else "Redis is not installed"))
    answered = 0
    memory: tuple[int | None, int | None] = (None, None)
    asked = [h for h in cluster.nodes if h.name not in cluster.down]
    for handle in asked:
        try:
            facts = await cache.of(CACHE_CLIENT_FACTS, handle)
        except GluuClusterError:
            continue  # the node's own unreachable problem says it
        if facts.ping == "PONG":
            answered += 1
            memory = (facts.used_memory, facts.max_memory)
        elif server.pid is not None:  # a down Redis is said once, above
            check = WRONG_PASSWORD if "WRONGPASS" in facts.ping or "NOAUTH" in facts.ping \
                else NODE_CANNOT_REACH
            problems.append(check.at(handle.name, f"Redis on {host.name} ({where}) over TLS: "
                                     f"{facts.ping}"))
    state = (ServiceState.DOWN if server.pid is None or (asked and not answered)
             else ServiceState.UP if answered == len(asked) else ServiceState.DEGRADED)
    detail = (f"{where} TLS; {answered} of {len(asked)} nodes reach it; memory "
              f"{_mib(memory[0])} of {_mib(memory[1])}")
    return ServiceRow(host.name, "cache", host.address, state, detail), problems
