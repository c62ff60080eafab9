"""LDAP replication problems for ``status`` and ``ldap status``, from every node's facts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError, NodeCheckError
from ..facts.cache import FactCache
from ..inventory import Inventory
from ..problems import Problem, define
from .agreement import SyncPoint, behind
from .engine import Link, ReplicaState
from .engines import engine_for

UNREACHABLE = define("LDAP-NODE-UNREACHABLE", "error", "check that the node and its LDAP server are up")
NO_SERVER_ID = define("LDAP-NO-SERVER-ID", "error", "run 'gluu-cluster apply'")
CONSUMERS_MISSING = define("LDAP-CONSUMERS-MISSING", "error", "run 'gluu-cluster apply'")
DISCONNECTED = define("LDAP-CONSUMER-DISCONNECTED", "error",
                      "check that the provider is up and its certificate comes from the cluster "
                      "CA (gluu-cluster apply re-issues it)")
CONFLICT = define("LDAP-CONFLICT-ENTRY", "error",
                  "'gluu-cluster ldap repair' keeps the primary's entry under the name and "
                  "takes the conflict entry out (written to a file first: add back what you "
                  "need under a free name)")
SYNC_DEADLINE = 120.0

NOT_IN_SYNC = define("LDAP-NOT-IN-SYNC", "error",
                     "wait for replication; if it persists, check the consumers above and run "
                     "'gluu-cluster ldap verify'")

@dataclass(frozen=True)
class NodeLDAPStatus:
    """One node's replica state (engine-neutral), or why it could not be read."""

    node: str
    replica: ReplicaState | None = None
    error: str | None = None

    @property
    def server_id(self) -> int | None:
        return self.replica.server_id if self.replica else None

    @property
    def entries(self) -> int | None:
        return self.replica.entries if self.replica else None

    @property
    def context_csns(self) -> tuple[str, ...]:
        return self.replica.csns if self.replica else ()

    @property
    def consumers(self) -> tuple[Link, ...]:
        return self.replica.links if self.replica else ()

    @property
    def point(self) -> SyncPoint:
        return SyncPoint(self.entries or 0, self.context_csns, self.server_id)

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "server_id": self.server_id, "entries": self.entries,
                "context_csns": list(self.context_csns),
                "consumers": [asdict(c) for c in self.consumers], "error": self.error}


@dataclass(frozen=True)
class LDAPStatus:
    nodes: tuple[NodeLDAPStatus, ...]
    problems: tuple[Problem, ...]

    @property
    def in_sync(self) -> bool:
        return not self.problems


async def node_status(handle: NodeHandle, inventory: Inventory,
                      cache: FactCache | None = None) -> NodeLDAPStatus:
    """The node's replica state: from the run's facts when given, else read now."""
    assert inventory.ldap is not None
    engine = engine_for(inventory.ldap)
    try:
        facts = await (cache.of(engine.facts, handle) if cache is not None
                       else engine.facts.read(handle, inventory))
    except GluuClusterError as exc:
        return NodeLDAPStatus(handle.name, error=str(exc))
    return NodeLDAPStatus(handle.name, engine.replica(facts))


def problems_of(nodes: Sequence[NodeLDAPStatus], expected_consumers: int) -> list[Problem]:
    """Named problems from the nodes' facts; 'in sync' only when every node agrees."""
    problems: list[Problem] = []
    healthy = [n for n in nodes if n.error is None]
    for n in nodes:
        if n.error is not None:
            problems.append(UNREACHABLE.at(n.node, n.error))
            continue
        if expected_consumers and n.server_id is None:
            problems.append(NO_SERVER_ID.at(n.node, "its LDAP server has no replication server "
                                            "ID: replication is not enabled there"))
        if len(n.consumers) < expected_consumers:
            problems.append(CONSUMERS_MISSING.at(
                n.node, f"{len(n.consumers)} of {expected_consumers} replication links to its "
                "peers (consumers, or connected replication servers)"))
        for c in n.consumers:
            if not c.connected:
                problems.append(DISCONNECTED.at(
                    n.node,
                    f"consumer {c.id} has no connection to {c.provider} (phase {c.phase or '-'}): "
                    "the provider is down, or its TLS certificate or the replicator bind is refused",
                    f"check that {c.provider} is up and its certificate comes from the cluster CA "
                    "(gluu-cluster apply re-issues it)"))
        if n.replica is not None:
            for dn in n.replica.conflicts:
                problems.append(CONFLICT.at(n.node, f"conflict entry {dn}: two nodes wrote "
                                            "the same name at once"))
    points = {n.node: n.point for n in healthy}
    for node, why in behind(points).items():
        problems.append(NOT_IN_SYNC.at(node, f"has not received every change: {why}"))
    return problems


async def cluster_status(cluster: ClusterConnection, cache: FactCache | None = None) -> LDAPStatus:
    nodes = tuple(await asyncio.gather(*(node_status(h, cluster.inventory, cache)
                                         for h in cluster.nodes)))
    return LDAPStatus(nodes, tuple(problems_of(nodes, len(cluster.nodes) - 1)))


async def wait_in_sync(cluster: ClusterConnection, cache: FactCache | None = None,
                       deadline_s: float = SYNC_DEADLINE) -> dict[str, SyncPoint]:
    """Poll every node until they agree (entry counts and newest change per server ID);
    the first look from ``cache`` when given (facts this run read and nothing changed)."""
    deadline = time.monotonic() + deadline_s
    while True:
        nodes = await asyncio.gather(*(node_status(h, cluster.inventory, cache)
                                       for h in cluster.nodes))
        cache = None
        failed = [n for n in nodes if n.replica is None]
        if failed:
            raise NodeCheckError(failed[0].node, failed[0].error or "not read")
        state = {n.node: n.point for n in nodes}
        lagging = behind(state)
        if not lagging:
            return state
        if time.monotonic() > deadline:
            raise NodeCheckError(
                ", ".join(lagging),
                f"LDAP not in sync after {deadline_s:g} s: "
                + "; ".join(f"{n}: {why}" for n, why in lagging.items())
                + "; check 'gluu-cluster ldap status'",
            )
        await asyncio.sleep(0.5)
