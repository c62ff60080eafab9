"""Replication health: per-node facts for `status`, the deep entry check and its repair."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..cluster import ClusterConnection, NodeHandle
from ..errors import GluuClusterError
from ..inventory import LDAPSettings
from ..problems import Problem, define
from .agreement import SyncPoint, behind
from .directory import Entry, NodeDirectory
from .facts import Consumer, LDAPFacts, read_facts
from .ldif_ops import Modify

UNREACHABLE = define("LDAP-NODE-UNREACHABLE", "error", "check that the node and its slapd are up")
NO_SERVER_ID = define("LDAP-NO-SERVER-ID", "error", "run 'gluu-cluster apply'")
CONSUMERS_MISSING = define("LDAP-CONSUMERS-MISSING", "error", "run 'gluu-cluster apply'")
DISCONNECTED = define("LDAP-CONSUMER-DISCONNECTED", "error",
                      "check that the provider is up and its certificate comes from the cluster "
                      "CA (gluu-cluster apply re-issues it)")
NOT_IN_SYNC = define("LDAP-NOT-IN-SYNC", "error",
                     "wait for replication; if it persists, check the consumers above and run "
                     "'gluu-cluster ldap verify'")

# Attributes slapd maintains itself: never compared, never rewritten.
OPERATIONAL = {
    "entrycsn", "entryuuid", "createtimestamp", "modifytimestamp", "creatorsname",
    "modifiersname", "structuralobjectclass", "entrydn", "subschemasubentry",
    "hassubordinates", "contextcsn",
}


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


# --- deep check -------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryDigest:
    csn: str
    digest: str


@dataclass(frozen=True)
class Difference:
    dn: str
    by_node: dict[str, EntryDigest | None]

    @property
    def winner(self) -> str:
        present = {n: d for n, d in self.by_node.items() if d is not None}
        return max(present, key=lambda n: present[n].csn)


def digest(entry: Entry) -> EntryDigest:
    h = hashlib.sha256()
    for name in sorted(k for k in entry.attrs if k not in OPERATIONAL):
        for value in sorted(entry.attrs[name]):
            h.update(name.encode() + b"\0" + value + b"\0")
    return EntryDigest(entry.first("entryCSN"), h.hexdigest()[:16])


async def _entries(handle: NodeHandle, settings: LDAPSettings) -> dict[str, Entry]:
    directory = NodeDirectory(handle.container, settings.ldapi_socket)
    found = await directory.search(settings.suffix, "sub", attrs=["*", "entryCSN"], timeout=1800)
    return {e.dn.lower(): e for e in found}


Verified = tuple[int, list["Difference"], dict[str, dict[str, Entry]]]


async def verify(cluster: ClusterConnection, settings: LDAPSettings) -> Verified:
    """(entries compared, differing entries, all entries per node)."""
    per_node = await asyncio.gather(*(_entries(h, settings) for h in cluster.nodes))
    entries = {h.name: e for h, e in zip(cluster.nodes, per_node, strict=True)}
    all_dns = sorted(set().union(*(e.keys() for e in entries.values())))
    differences = []
    suffix = settings.suffix.lower()
    for dn in all_dns:
        digests = {n: (digest(e[dn]) if dn in e else None) for n, e in entries.items()}
        if dn == suffix:
            # slapd itself touches the suffix entry's entryCSN when it maintains
            # contextCSN, differently per node: only its content counts.
            digests = {n: (EntryDigest("", d.digest) if d else None) for n, d in digests.items()}
        if len(set(digests.values())) > 1:
            shown = next(e[dn].dn for e in entries.values() if dn in e)
            differences.append(Difference(shown, digests))
    return len(all_dns), differences, entries


async def repair(cluster: ClusterConnection, settings: LDAPSettings) -> list[str]:
    """Rewrite every differing entry on the node holding its newest entryCSN, so the
    write (with a new CSN) replicates that version everywhere. Returns what it did."""
    _count, differences, entries = await verify(cluster, settings)
    done = []
    for diff in differences:
        winner = diff.winner
        entry = entries[winner][diff.dn.lower()]
        modify = Modify(entry.dn)
        for name, values in sorted(entry.attrs.items()):
            if name not in OPERATIONAL:
                modify.replace(name, *values)
        directory = NodeDirectory(cluster.handle(winner).container, settings.ldapi_socket)
        await directory.modify(modify.ldif())
        losers = [n for n, d in diff.by_node.items() if d != diff.by_node[winner]]
        done.append(f"{diff.dn}: rewrote {winner}'s version (entryCSN "
                    f"{diff.by_node[winner].csn}) over {', '.join(losers)}")  # type: ignore[union-attr]
    return done
