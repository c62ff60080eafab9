"""The deep check: every entry compared on every node (DN, entryUUID, CSN, digest of the
user attributes), conflict entries listed; and the repair that rewrites each differing
entry with its newest version and takes conflict entries out, kept in a file first."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..connection import ClusterConnection, NodeHandle
from ..inventory import Inventory, LDAPSettings
from .checks import wait_in_sync
from .engine import LDAPEngine
from .engines import engine_for
from .entry import Entry


@dataclass(frozen=True)
class EntryDigest:
    csn: str
    digest: str
    uuid: str = ""


@dataclass(frozen=True)
class Difference:
    dn: str
    by_node: dict[str, EntryDigest | None]

    @property
    def winner(self) -> str:
        present = {n: d for n, d in self.by_node.items() if d is not None}
        return max(present, key=lambda n: present[n].csn)


@dataclass(frozen=True)
class Conflict:
    """An entry replication renamed because its name collided (OpenDJ's naming conflicts)."""
    dn: str
    collided_with: str
    nodes: tuple[str, ...]  # the nodes holding it


@dataclass(frozen=True)
class Verified:
    entries: int  # distinct DNs compared
    differences: tuple[Difference, ...]
    conflicts: tuple[Conflict, ...]
    by_node: dict[str, dict[str, Entry]]  # lower-cased DN -> entry, per node


def digest(entry: Entry, engine: LDAPEngine) -> EntryDigest:
    h = hashlib.sha256()
    for name in sorted(k for k in entry.attrs if k not in engine.operational):
        for value in sorted(entry.attrs[name]):
            h.update(name.encode() + b"\0" + value + b"\0")
    return EntryDigest(engine.entry_csn(entry), h.hexdigest()[:16], entry.first("entryUUID"))


async def _entries(engine: LDAPEngine, handle: NodeHandle, inventory: Inventory) -> dict[str, Entry]:
    return {e.dn.lower(): e for e in await engine.entries(handle, inventory)}


async def verify(cluster: ClusterConnection, settings: LDAPSettings) -> Verified:
    engine = engine_for(settings)
    per_node = await asyncio.gather(*(_entries(engine, h, cluster.inventory)
                                      for h in cluster.nodes))
    entries = {h.name: e for h, e in zip(cluster.nodes, per_node, strict=True)}
    all_dns = sorted(set().union(*(e.keys() for e in entries.values())))
    differences = []
    conflicts = []
    suffix = settings.suffix.lower()
    for dn in all_dns:
        digests = {n: (digest(e[dn], engine) if dn in e else None) for n, e in entries.items()}
        if dn == suffix:
            # The server itself touches the suffix entry's CSN when it maintains its
            # replication state, differently per node: only its content counts.
            digests = {n: (EntryDigest("", d.digest, d.uuid) if d else None)
                       for n, d in digests.items()}
        holders = [e[dn] for e in entries.values() if dn in e]
        if len(set(digests.values())) > 1:
            differences.append(Difference(holders[0].dn, digests))
        collided = next((c for c in map(engine.conflict_of, holders) if c), None)
        if collided:
            conflicts.append(Conflict(holders[0].dn, collided,
                                      tuple(n for n, e in entries.items() if dn in e)))
    return Verified(len(all_dns), tuple(differences), tuple(conflicts), entries)


def _ldif(entry: Entry, engine: LDAPEngine) -> str:
    """The entry's user attributes as LDIF to add back (what the server keeps itself as
    comments): plain where LDIF allows, base64 otherwise."""
    lines = [f"dn: {entry.dn}"]
    for name, values in sorted(entry.attrs.items()):
        for value in values:
            text = value.decode("ascii", "replace")
            safe = (value.isascii() and text.isprintable() and text == text.strip()
                    and not text.startswith((":", "<")))
            line = (f"{name}: {text}" if safe
                    else f"{name}:: {base64.b64encode(value).decode('ascii')}")
            lines.append(f"# {line}" if name in engine.operational else line)
    return "\n".join(lines) + "\n\n"


def keep(path: Path, entries: list[Entry], engine: LDAPEngine) -> None:
    """Write the entries as LDIF to a new 0600 file in a 0700 folder (entries can hold
    password hashes)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("".join(_ldif(e, engine) for e in entries))


async def repair(cluster: ClusterConnection, settings: LDAPSettings,
                 keep_dir: Path) -> list[str]:
    """Take conflict entries out (conflicts first: a rewrite must not land on an entry
    about to go), wait for that to replicate, then rewrite every differing entry on the
    node holding its newest CSN, so the write (with a new CSN) replicates that version
    everywhere. Returns what it did."""
    engine = engine_for(settings)
    found = await verify(cluster, settings)
    done = await _take_out_conflicts(cluster, engine, found, keep_dir)
    if done:
        await wait_in_sync(cluster)
        found = await verify(cluster, settings)
    conflicting = {c.dn.lower() for c in found.conflicts}
    for diff in found.differences:
        if diff.dn.lower() in conflicting:
            continue  # a conflict left for its holder's server to put back
        winner = diff.winner
        await engine.rewrite(cluster.handle(winner), cluster.inventory,
                             found.by_node[winner][diff.dn.lower()])
        newest = diff.by_node[winner]
        assert newest is not None
        losers = [n for n, d in diff.by_node.items() if d != newest]
        done.append(f"{diff.dn}: rewrote {winner}'s version (CSN {newest.csn}) over "
                    f"{', '.join(losers)}")
    return done


async def _take_out_conflicts(cluster: ClusterConnection, engine: LDAPEngine, found: Verified,
                              keep_dir: Path) -> list[str]:
    """The primary's view decides: a conflict entry it holds is written to a file in
    ``keep_dir`` with what lies under it, then deleted there. The delete replicates by
    entryUUID, so a node where that entry won the name loses it, and its server puts its
    own conflict entry (the primary's winner) back under the name. A conflict entry only
    another node holds is taken out there unless the primary holds its entry under a
    proper name (then that node's server renames it once the name is free)."""
    primary = cluster.inventory.primary_node.name
    on_primary = {e.first("entryUUID") for e in found.by_node.get(primary, {}).values()
                  if engine.conflict_of(e) is None}
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    done: list[str] = []
    for conflict in found.conflicts:
        holder = primary if primary in conflict.nodes else conflict.nodes[0]
        held = found.by_node[holder]
        entry = held[conflict.dn.lower()]
        if holder != primary and entry.first("entryUUID") in on_primary:
            continue
        below = "," + conflict.dn.lower()
        subtree = [held[dn] for dn in held if dn == conflict.dn.lower() or dn.endswith(below)]
        subtree.sort(key=lambda e: e.dn.count(","))  # parents first
        path = keep_dir / f"{stamp}-conflict-{len(done) + 1}.ldif"
        keep(path, subtree, engine)
        for each in reversed(subtree):  # leaves first
            await engine.delete(cluster.handle(holder), cluster.inventory, each.dn)
        under = f" with the {len(subtree) - 1} entries under it" if len(subtree) > 1 else ""
        done.append(f"{conflict.dn}: conflict entry (it collided with {conflict.collided_with}) "
                    f"taken out on {holder}, replicated; kept{under} in {path}")
    return done
