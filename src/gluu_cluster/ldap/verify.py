"""The deep check: every entry compared on every node (DN, entryCSN, attribute digest),
and the repair that rewrites each differing entry with its newest version."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from ..connection import ClusterConnection, NodeHandle
from ..inventory import LDAPSettings
from .openldap.directory import Entry, NodeDirectory
from .openldap.ldif_ops import Modify

# Attributes slapd maintains itself: never compared, never rewritten.
OPERATIONAL = {
    "entrycsn", "entryuuid", "createtimestamp", "modifytimestamp", "creatorsname",
    "modifiersname", "structuralobjectclass", "entrydn", "subschemasubentry",
    "hassubordinates", "contextcsn",
}



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
