"""LDAP replication problems for ``status`` and ``ldap status``, from every node's facts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError
from ..inventory import LDAPSettings
from ..problems import Problem, define
from .agreement import SyncPoint, behind
from .openldap.facts import Consumer, LDAPFacts, read_facts

UNREACHABLE = define("LDAP-NODE-UNREACHABLE", "error", "check that the node and its slapd are up")
NO_SERVER_ID = define("LDAP-NO-SERVER-ID", "error", "run 'gluu-cluster apply'")
CONSUMERS_MISSING = define("LDAP-CONSUMERS-MISSING", "error", "run 'gluu-cluster apply'")
DISCONNECTED = define("LDAP-CONSUMER-DISCONNECTED", "error",
                      "check that the provider is up and its certificate comes from the cluster "
                      "CA (gluu-cluster apply re-issues it)")
NOT_IN_SYNC = define("LDAP-NOT-IN-SYNC", "error",
                     "wait for replication; if it persists, check the consumers above and run "
                     "'gluu-cluster ldap verify'")

@dataclass(frozen=True)
class NodeLDAPStatus:
    """One node's LDAP facts, or why they could not be read."""

    node: str
    facts: LDAPFacts | None = None
    error: str | None = None

    @property
    def server_id(self) -> int | None:
        return self.facts.server_id if self.facts else None

    @property
    def entries(self) -> int | None:
        return self.facts.entries if self.facts else None

    @property
    def context_csns(self) -> tuple[str, ...]:
        return self.facts.context_csns if self.facts else ()

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        return self.facts.consumers if self.facts else ()

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


async def node_status(handle: NodeHandle, settings: LDAPSettings) -> NodeLDAPStatus:
    try:
        facts = await read_facts(handle.container, settings.ldapi_socket, settings.suffix,
                                 settings.replicator)
    except GluuClusterError as exc:
        return NodeLDAPStatus(handle.name, error=str(exc))
    return NodeLDAPStatus(handle.name, facts)


def problems_of(nodes: Sequence[NodeLDAPStatus], expected_consumers: int) -> list[Problem]:
    """Named problems from the nodes' facts; 'in sync' only when every node agrees."""
    problems: list[Problem] = []
    healthy = [n for n in nodes if n.error is None]
    for n in nodes:
        if n.error is not None:
            problems.append(UNREACHABLE.at(n.node, n.error))
            continue
        if expected_consumers and n.server_id is None:
            problems.append(NO_SERVER_ID.at(n.node, "slapd has no server ID"))
        if len(n.consumers) < expected_consumers:
            problems.append(CONSUMERS_MISSING.at(
                n.node, f"{len(n.consumers)} of {expected_consumers} replication consumers configured"))
        for c in n.consumers:
            if not c.connected:
                problems.append(DISCONNECTED.at(
                    n.node,
                    f"consumer {c.rid} has no connection to {c.provider} (phase {c.phase or '-'}): "
                    "the provider is down, or its TLS certificate or the replicator bind is refused",
                    f"check that {c.provider} is up and its certificate comes from the cluster CA "
                    "(gluu-cluster apply re-issues it)"))
    points = {n.node: SyncPoint(n.entries or 0, n.context_csns, n.server_id) for n in healthy}
    for node, why in behind(points).items():
        problems.append(NOT_IN_SYNC.at(node, f"has not received every change: {why}"))
    return problems


async def cluster_status(cluster: ClusterConnection, settings: LDAPSettings) -> LDAPStatus:
    nodes = tuple(await asyncio.gather(*(node_status(h, settings) for h in cluster.nodes)))
    return LDAPStatus(nodes, tuple(problems_of(nodes, len(cluster.nodes) - 1)))
