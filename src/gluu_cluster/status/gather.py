"""One ClusterStatus snapshot from every node's facts: LDAP, file sync and certificates.

Facts are read from all nodes in parallel, one round trip per node and area; the rows
are then built by pure functions. A node that cannot be reached is one problem in the
report, and the others are still read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from ..apps.checks import apps_problems
from ..apps.facts import APPS_FACTS, GLUU_CONFIG_FACTS
from ..balancer.checks import BalancerStatus, balancer_status
from ..balancer.facts import BALANCER_FACTS, WEB_CERT_FACTS
from ..cache.checks import cache_status
from ..cache.facts import CACHE_CLIENT_FACTS, CACHE_HOST_FACTS
from ..connection import ClusterConnection
from ..facts.cache import FactArea, FactCache
from ..filesync import checks as sync_checks
from ..filesync.checks import NodeSyncStatus, cluster_sync_status
from ..filesync.facts import FILESYNC_FACTS
from ..ldap import checks as ldap_checks
from ..ldap.agreement import SyncPoint, lag_seconds
from ..ldap.checks import LDAPStatus, NodeLDAPStatus, cluster_status
from ..ldap.engines import engine_for
from ..pki import checks as cert_checks
from ..pki.ca import cluster_ca_pem
from ..pki.checks import SetStatus, cluster_cert_status
from ..pki.facts import PKI_FACTS
from ..problems import Problem
from .snapshot import (
    NODE_UNREACHABLE,
    CertExpiry,
    ClusterStatus,
    FileSyncState,
    LDAPRole,
    NodeRow,
    Replication,
    ServiceRow,
    SetState,
)

# Problems of a node's links to its peers: when a peer is down they say so, and the node
# itself still serves (a load balancer should keep sending it traffic).
LINK_CODES = frozenset(c.code for c in (ldap_checks.DISCONNECTED, ldap_checks.NOT_IN_SYNC,
                                        sync_checks.PEER, sync_checks.NOT_IN_SYNC, sync_checks.DIRTY))

# Area-specific "unreachable" codes a NODE-UNREACHABLE already says for the same node.
_AREA_UNREACHABLE = frozenset(c.code for c in (ldap_checks.UNREACHABLE, sync_checks.UNREACHABLE,
                                               cert_checks.UNREACHABLE))
DOWN_CODES = _AREA_UNREACHABLE | {NODE_UNREACHABLE.code}


def ldap_fields(ldap: NodeLDAPStatus, peers: int, lag: float | None,
                behind: bool) -> dict[str, object]:
    if ldap.replica is None:
        return {"replication": Replication.UNREACHABLE}
    consumers = len(ldap.consumers)
    role = (LDAPRole.MULTI_PROVIDER if peers and consumers >= peers
            else LDAPRole.STANDALONE if consumers == 0 else LDAPRole.PARTIAL)
    connected = all(c.connected for c in ldap.consumers)
    return {
        "server_id": ldap.server_id, "entries": ldap.entries, "ldap_role": role,
        "consumers": consumers, "peers": peers,
        "replication": (Replication.BEHIND if behind else Replication.IN_SYNC if connected
                        else Replication.DISCONNECTED),
        "lag_seconds": round(lag, 3) if lag is not None else None,
    }


def sync_fields(sync: NodeSyncStatus) -> dict[str, object]:
    facts = sync.facts
    if facts is None:
        return {"file_sync": FileSyncState.UNREACHABLE}
    state = (FileSyncState.DAEMON_DOWN if facts.daemon_pid is None
             else FileSyncState.NOT_INITIALISED if not facts.initialised
             else FileSyncState.IN_SYNC if sync.in_sync and not sync.dirty
             else FileSyncState.DIRTY if sync.dirty else FileSyncState.DIFFERS)
    return {"file_sync": state, "dirty": len(sync.dirty), "last_sync": facts.last_ok}


def cert_states(node: str, sets: Sequence[SetStatus]) -> tuple[SetState, ...]:
    out = []
    for s in sets:
        days = [f.days_left for n in s.nodes if n.node == node for f in n.files
                if f.days_left is not None]
        out.append(SetState(s.set, sum(1 for p in s.problems
                                       if p.node == node and p.severity == "error"),
                            min(days) if days else None,
                            any(p.node == node and p.severity == "warning" for p in s.problems)))
    return tuple(out)


def build_status(cluster: str, nodes: Sequence[tuple[str, str]], primary: str,
                 down: dict[str, str], ldap: LDAPStatus | None,
                 sync: tuple[list[NodeSyncStatus], list[Problem]] | None,
                 certs: Sequence[SetStatus], taken_at: float, seconds: float,
                 apps: Sequence[Problem] = (), balancer: BalancerStatus | None = None,
                 cache: tuple[ServiceRow, Sequence[Problem]] | None = None) -> ClusterStatus:
    """Pure: the snapshot from every area's facts and problems (``down``: node or
    service host -> why)."""
    fields: dict[str, dict[str, object]] = {name: {} for name, _ in nodes}
    problems = [NODE_UNREACHABLE.at(name, why) for name, why in down.items()]
    problems += apps
    services = []
    if cache is not None:
        services.append(cache[0])
        problems += cache[1]
    if balancer is not None:
        services.append(balancer.row)
        problems += balancer.problems
        if balancer.drained is not None:
            for name, _ in nodes:
                fields[name]["in_rotation"] = name not in balancer.drained
    if ldap is not None:
        points = {n.node: SyncPoint(n.entries or 0, n.context_csns, n.server_id)
                  for n in ldap.nodes if n.replica is not None}
        lags = lag_seconds(points, taken_at)
        behind = {p.node for p in ldap.problems if p.code == ldap_checks.NOT_IN_SYNC.code}
        for n in ldap.nodes:
            fields[n.node].update(ldap_fields(n, len(nodes) - 1, lags.get(n.node),
                                              n.node in behind))
        problems += ldap.problems
    if sync is not None:
        for s in sync[0]:
            fields[s.node].update(sync_fields(s))
        problems += sync[1]
    expiries = []
    for cert_set in certs:
        problems += cert_set.problems
        for node_rows in cert_set.nodes:
            expiries += [CertExpiry(node_rows.node, cert_set.set, f.file, f.days_left)
                         for f in node_rows.files if f.days_left is not None]
    problems = [p for p in problems if not (p.node in down and p.code in _AREA_UNREACHABLE)]
    rows = []
    for name, address in nodes:
        reachable = name not in down
        own = fields[name] if reachable else {}
        rows.append(NodeRow(
            name, address, name == primary, reachable=reachable,
            certificates=cert_states(name, certs) if certs and reachable else None,
            problems=sum(1 for p in problems if p.node == name),
            **own,  # type: ignore[arg-type]
        ))
    return ClusterStatus(cluster, taken_at, seconds, tuple(rows), tuple(problems),
                         tuple(expiries), LINK_CODES, DOWN_CODES, tuple(services))


async def gather_status(cluster: ClusterConnection, facts: FactCache | None = None) -> ClusterStatus:
    """Read every node (one round trip per area) and build the snapshot; ``facts``: the
    facts a run has already read (what nothing changed since is not read again)."""
    start, taken_at = time.monotonic(), time.time()
    inventory = cluster.inventory
    down = await cluster.probe()
    cache = facts or FactCache(cluster)
    front_areas: list[FactArea[Any]] = [BALANCER_FACTS, WEB_CERT_FACTS]
    cache_areas: list[FactArea[Any]] = [CACHE_HOST_FACTS, CACHE_CLIENT_FACTS]
    apps_areas: list[FactArea[Any]] = [APPS_FACTS, GLUU_CONFIG_FACTS]
    # Every area in one round trip per node (what the cache holds already is not read).
    await cache.prefetch([
        *([engine_for(inventory.ldap).facts] if inventory.ldap is not None else []),
        *([FILESYNC_FACTS] if inventory.file_sync.groups else []), PKI_FACTS,
        *(apps_areas if inventory.ldap is not None else []),
        *(front_areas if inventory.load_balancer is not None else []),
        *(cache_areas if inventory.cache.type != "none" else [])])
    ldap, sync, certs, apps, balancer, shared = await asyncio.gather(
        cluster_status(cluster, cache) if inventory.ldap is not None else _none(),
        cluster_sync_status(cluster, cache) if inventory.file_sync.groups else _none(),
        cluster_cert_status(cluster, cache, cluster_ca_pem(inventory)),
        apps_problems(cache), balancer_status(cache), cache_status(cache))
    return build_status(inventory.cluster, [(n.name, n.address) for n in inventory.nodes],
                        inventory.primary_node.name, {n: e.detail for n, e in down.items()},
                        ldap, sync, certs, taken_at, time.monotonic() - start, apps, balancer,
                        shared)


async def _none() -> None:
    return None
