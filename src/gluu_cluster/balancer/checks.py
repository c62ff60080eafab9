"""status of the load balancer: nginx runs the configuration the inventory asks for."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import GluuClusterError
from ..facts.cache import FactCache
from ..problems import Problem, define
from ..status.snapshot import ServiceRow, ServiceState
from .facts import BALANCER_FACTS, WEB_CERT_FACTS
from .render import nginx_conf

NGINX_DOWN = define("BALANCER-DOWN", "error",
                    "run 'gluu-cluster apply' to start nginx on the balancer (its error log "
                    "is /var/log/gluu-cluster-nginx/error.log)")
STALE = define("BALANCER-CONFIG-STALE", "warning",
               "run 'gluu-cluster apply': the balancer's node list or settings are not the "
               "inventory's")
BROKEN = define("BALANCER-CONFIG-INVALID", "error",
                "fix or remove the hand edit, then run 'gluu-cluster apply'")
DRAINED = define("BALANCER-NODE-DRAINED", "warning",
                 "run 'gluu-cluster undrain NODE' to put the node back in rotation")


@dataclass(frozen=True)
class BalancerStatus:
    row: ServiceRow
    drained: frozenset[str] | None  # None: not read
    problems: tuple[Problem, ...]


async def balancer_status(cache: FactCache) -> BalancerStatus | None:
    cluster, inventory = cache.cluster, cache.cluster.inventory
    lb = inventory.load_balancer
    if lb is None:
        return None
    name, address = lb.host.name, lb.host.address
    if name in cluster.down:
        return BalancerStatus(ServiceRow(name, "load balancer", address,
                                         ServiceState.UNREACHABLE, ""), None, ())
    try:
        facts = await cache.of(BALANCER_FACTS, cluster.handle(name))
    except GluuClusterError as exc:
        return BalancerStatus(ServiceRow(name, "load balancer", address,
                                         ServiceState.UNREACHABLE, str(exc)), None, ())
    problems = [DRAINED.at(node, f"drained: the balancer {name} sends it no requests")
                for node in sorted(facts.drained)]
    rotation = [n.name for n in inventory.nodes if n.name not in facts.drained]
    detail = f"{len(rotation)} of {len(inventory.nodes)} nodes in rotation"
    if facts.pid is None:
        problems.append(NGINX_DOWN.at(name, "nginx does not run" if facts.nginx
                                      else "nginx is not installed"))
        state = ServiceState.DOWN
    elif facts.conf_ok is False:
        problems.append(BROKEN.at(name, f"nginx -t: {facts.conf_error}"))
        state = ServiceState.DEGRADED
    else:
        state = ServiceState.UP
        try:
            cert = await cache.of(WEB_CERT_FACTS, cluster.handle(inventory.primary_node.name))
        except GluuClusterError:
            cert = None
        if cert is not None and facts.conf != nginx_conf(inventory, facts.drained, cert.name):
            problems.append(STALE.at(name, "its nginx configuration is not the one the "
                                     "inventory gives"))
            state = ServiceState.DEGRADED
    return BalancerStatus(ServiceRow(name, "load balancer", address, state, detail),
                          facts.drained, tuple(problems))
