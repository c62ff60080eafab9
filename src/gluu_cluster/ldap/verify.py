"""The deep check: every entry compared on every node (DN, CSN, attribute digest), and
the repair that rewrites each differing entry with its newest version (via the engine)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from ..connection import ClusterConnection, NodeHandle
from ..inventory import Inventory, LDAPSettings
from .engine import LDAPEngine
from .engines import engine_for
from .entry import Entry


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


def digest(entry: Entry, engine: LDAPEngine) -> EntryDigest:
    h = hashlib.sha256()
    for name in sorted(k for k in entry.attrs if k not in engine.operational):
        for value in sorted(entry.attrs[name]):
            h.update(name.encode() + b"\0" + value + b"\0")
    return EntryDigest(engine.entry_csn(entry), h.hexdigest()[:16])


async def _entries(engine: LDAPEngine, handle: NodeHandle, inventory: Inventory) -> dict[str, Entry]:
    return {e.dn.lower(): e for e in await engine.entries(handle, inventory)}


Verified = tuple[int, list["Difference"], dict[str, dict[str, Entry]]]


async def verify(cluster: ClusterConnection, settings: LDAPSettings) -> Verified:
    """(entries compared, differing entries, all entries per node)."""
    engine = engine_for(settings)
    per_node = await asyncio.gather(*(_entries(engine, h, cluster.inventory)
                                      for h in cluster.nodes))
    entries = {h.name: e for h, e in zip(cluster.nodes, per_node, strict=True)}
    all_dns = sorted(set().union(*(e.keys() for e in entries.values())))
    differences = []
    suffix = settings.suffix.lower()
    for dn in all_dns:
        digests = {n: (digest(e[dn], engine) if dn in e else None) for n, e in entries.items()}
        if dn == suffix:
            # The server itself touches the suffix entry's CSN when it maintains its
            # replication state, differently per node: only its content counts.
            digests = {n: (EntryDigest("", d.digest) if d else None) for n, d in digests.items()}
        if len(set(digests.values())) > 1:
            shown = next(e[dn].dn for e in entries.values() if dn in e)
            differences.append(Difference(shown, digests))
    return len(all_dns), differences, entries


async def repair(cluster: ClusterConnection, settings: LDAPSettings) -> list[str]:
    """Rewrite every differing entry on the node holding its newest CSN, so the write
    (with a new CSN) replicates that version everywhere. Returns what it did."""
    engine = engine_for(settings)
    _count, differences, entries = await verify(cluster, settings)
    done = []
    for diff in differences:
        winner = diff.winner
        await engine.rewrite(cluster.handle(winner), cluster.inventory,
                             entries[winner][diff.dn.lower()])
        newest = diff.by_node[winner]
        assert newest is not None
        losers = [n for n, d in diff.by_node.items() if d != newest]
        done.append(f"{diff.dn}: rewrote {winner}'s version (CSN {newest.csn}) over "
                    f"{', '.join(losers)}")
    return done
