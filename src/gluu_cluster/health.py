"""One ClusterStatus snapshot from every node's facts: LDAP, file sync and certificates.

The same snapshot feeds ``status`` (table or JSON), the ``serve`` endpoints and the
final verification of ``apply``.  Facts are gathered from all nodes in parallel; a node
that cannot be reached is one problem in the report, and the others are still read.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .cluster import ClusterConnection
from .filesync import status as sync_checks
from .filesync.status import NodeSyncStatus, cluster_sync_status
from .ldap import health as ldap_checks
from .ldap.agreement import SyncPoint, lag_seconds
from .ldap.health import LDAPStatus, NodeLDAPStatus, cluster_status
from .pki import status as cert_checks
from .pki.status import SetStatus, cluster_cert_status
from .problems import Problem, define, has_errors
from .steps.certs import cluster_ca_pem

NODE_UNREACHABLE = define("NODE-UNREACHABLE", "error",
                          "check that the node is up and reachable over SSH from this machine")

# Problems of a node's links to its peers: when a peer is down they say so, and the node
# itself still serves (a load balancer should keep sending it traffic).
LINK_CODES = {c.code for c in (ldap_checks.DISCONNECTED, ldap_checks.NOT_IN_SYNC, sync_checks.PEER,
                                sync_checks.NOT_IN_SYNC, sync_checks.DIRTY)}

# Area-specific "unreachable" codes a NODE-UNREACHABLE already says for the same node.
_AREA_UNREACHABLE = {c.code for c in (ldap_checks.UNREACHABLE, sync_checks.UNREACHABLE,
                                       cert_checks.UNREACHABLE)}


@dataclass
class NodeRow:
    """One line of the status table."""

    node: str
    address: str
    primary: bool
    reachable: bool = True
    server_id: int | None = None
    ldap_role: str | None = None
    replication: str | None = None
    lag_seconds: float | None = None
    entries: int | None = None
    file_sync: str | None = None
    dirty: int | None = None
    last_sync: int | None = None
    certificates: str | None = None
    problems: int = 0


@dataclass
class CertExpiry:
    node: str
    set: str
    file: str
    days_left: int


@dataclass
class ClusterStatus:
    cluster: str
    taken_at: float
    seconds: float
    nodes: list[NodeRow]
    problems: list[Problem]
    expiries: list[CertExpiry] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """Converged: no error anywhere (warnings such as an expiring certificate allowed)."""
        return not has_errors(self.problems)

    def node(self, name: str) -> NodeRow | None:
        return next((n for n in self.nodes if n.node == name), None)

    def node_problems(self, name: str) -> list[Problem]:
        return [p for p in self.problems if p.node == name]

    def node_healthy(self, name: str) -> bool:
        """The node answers and no error concerns it, apart from its links to a peer that
        is down (what a load balancer in front of this one node needs to know)."""
        row = self.node(name)
        if row is None or not row.reachable:
            return False
        unreachable = {NODE_UNREACHABLE.code, *_AREA_UNREACHABLE}
        peer_down = any(not r.reachable for r in self.nodes if r.node != name) or any(
            p.code in unreachable for p in self.problems if p.node != name)
        own = [p for p in self.node_problems(name) if not (peer_down and p.code in LINK_CODES)]
        return not has_errors(own)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "healthy": self.healthy,
            "taken_at": self.taken_at,
            "seconds": round(self.seconds, 3),
            "nodes": [asdict(n) for n in self.nodes],
            "problems": [asdict(p) for p in self.problems],
        }


def _ldap_columns(row: NodeRow, ldap: NodeLDAPStatus, expected: int, lag: float | None,
                  behind: bool) -> None:
    if ldap.error is not None:
        row.replication = "unreachable"
        return
    row.server_id, row.entries = ldap.server_id, ldap.entries
    consumers = len(ldap.consumers)
    row.ldap_role = ("multi-provider" if expected and consumers >= expected
                     else "standalone" if consumers == 0 else f"partial {consumers}/{expected}")
    connected = all(c.connected for c in ldap.consumers)
    row.replication = ("behind" if behind else "in sync" if connected
                       else "disconnected")
    row.lag_seconds = round(lag, 3) if lag is not None else None


def _sync_columns(row: NodeRow, sync: NodeSyncStatus) -> None:
    if sync.facts is None:
        row.file_sync = "unreachable"
        return
    row.dirty, row.last_sync = len(sync.dirty), sync.facts.last_ok
    row.file_sync = ("daemon down" if sync.facts.daemon_pid is None
                     else "not initialised" if not sync.facts.initialised
                     else "in sync" if sync.in_sync and not sync.dirty
                     else "dirty" if sync.dirty else "differs")


def _cert_column(node: str, sets: list[SetStatus]) -> str:
    states = []
    for s in sets:
        mine = [p for p in s.problems if p.node == node and p.severity == "error"]
        states.append(f"{s.set} ok" if not mine else f"{s.set} {len(mine)} problem(s)")
    return ", ".join(states)


async def _ldap(cluster: ClusterConnection) -> LDAPStatus | None:
    if cluster.inventory.ldap is None:
        return None
    return await cluster_status(cluster, cluster.inventory.ldap)


async def _sync(cluster: ClusterConnection) -> tuple[list[NodeSyncStatus], list[Problem]] | None:
    if not cluster.inventory.file_sync.groups:
        return None
    return await cluster_sync_status(cluster)


async def _certs(cluster: ClusterConnection) -> list[SetStatus]:
    ca_pem = cluster_ca_pem(cluster.inventory)
    return await cluster_cert_status(cluster, ca_pem)


async def gather_status(cluster: ClusterConnection) -> ClusterStatus:
    start, taken_at = time.monotonic(), time.time()
    inventory = cluster.inventory
    down = await cluster.probe()
    ldap, sync, certs = await asyncio.gather(_ldap(cluster), _sync(cluster), _certs(cluster))
    problems = [NODE_UNREACHABLE.at(name, error.detail) for name, error in down.items()]
    rows = {n.name: NodeRow(n.name, n.address, n.name == inventory.primary_node.name,
                            reachable=n.name not in down) for n in inventory.nodes}
    if ldap is not None:
        points = {n.node: SyncPoint(n.entries or 0, n.context_csns, n.server_id)
                  for n in ldap.nodes if n.error is None}
        lags = lag_seconds(points, taken_at)
        behind = {p.node for p in ldap.problems if p.code == ldap_checks.NOT_IN_SYNC.code}
        for n in ldap.nodes:
            _ldap_columns(rows[n.node], n, len(inventory.nodes) - 1, lags.get(n.node),
                          n.node in behind)
        problems += ldap.problems
    if sync is not None:
        for s in sync[0]:
            _sync_columns(rows[s.node], s)
        problems += sync[1]
    expiries = []
    for cert_set in certs:
        problems += cert_set.problems
        for node_rows in cert_set.nodes:
            expiries += [CertExpiry(node_rows.node, cert_set.set, f.file, f.days_left)
                         for f in node_rows.files if f.days_left is not None]
    if certs:
        for row in rows.values():
            row.certificates = "unreachable" if not row.reachable else _cert_column(row.node, certs)
    problems = [p for p in problems if not (p.node in down and p.code in _AREA_UNREACHABLE)]
    for row in rows.values():
        row.problems = sum(1 for p in problems if p.node == row.node)
    return ClusterStatus(inventory.cluster, taken_at, time.monotonic() - start,
                         [rows[n.name] for n in inventory.nodes], problems, expiries)
