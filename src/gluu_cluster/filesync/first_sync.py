"""The seed's 7-step first sync, with a chosen authority, in one call.

1. every other node records its files without marking them dirty (it must not push);
2. the authority checks, marks everything dirty, forces its versions to win (-f) and
   updates every peer: each replaced file is kept in csync2's backup (our history);
3. each other node sends what only it has (csync2 -TI), so nothing is lost;
4. every node must then test in sync with every peer (csync2 -T exit 2);
5. every node is marked initialised: its trigger starts sending changes.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from ..connection import ClusterConnection, NodeHandle
from ..errors import NodeCheckError
from .csync2 import Csync2
from .node import database_file, marker
from .render import watched_paths


@dataclass
class FirstSyncReport:
    authority: str
    replaced: dict[str, list[str]] = field(default_factory=dict)  # node -> paths
    sent_back: dict[str, int] = field(default_factory=dict)  # node -> files only it had


def differences(output: str) -> list[tuple[str, str, str]]:
    """csync2 -T lines: (kind X/L/R, peer, path)."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^([XLR])\t(\S+)\t(\S+)\t(.+)$", line)
        if match:
            found.append((match.group(1), match.group(3), match.group(4)))
    return found


async def _must(cs: Csync2, *args: str) -> str:
    result = await cs.run(*args)
    if not result.ok:
        lines = result.output.strip().splitlines()
        detail = "; ".join(result.problems) or (lines[-1] if lines else "failed")
        raise NodeCheckError(cs.container.node, f"csync2 {' '.join(args)}: {detail}")
    return result.output


async def first_sync(cluster: ClusterConnection, authority: str) -> FirstSyncReport:
    settings = cluster.inventory.file_sync
    source = cluster.handle(authority)
    others = [h for h in cluster.nodes if h.name != authority]
    report = FirstSyncReport(authority)

    async def quiet(handle: NodeHandle) -> None:
        cs = Csync2(handle.container, settings)
        await _must(cs, "-cIr", "/")
        await handle.container.run(["sqlite3", "-cmd", ".timeout 10000",
                                    database_file(settings, handle.name), "DELETE FROM dirty"])

    await asyncio.gather(*(quiet(h) for h in others))
    cs = Csync2(source.container, settings)
    await _must(cs, "-cr", "/")
    test = await cs.run("-T")
    for kind, name, path in differences(test.output):
        if kind == "X":
            report.replaced.setdefault(name, []).append(path)
    for path in watched_paths(settings):
        await cs.run("-mr", path)
    await _must(cs, "-fr", "/")
    for peer in others:
        await _must(cs, "-u", "-P", peer.name)

    async def send_back(handle: NodeHandle) -> None:
        node_cs = Csync2(handle.container, settings)
        test = await node_cs.run("-TI")
        report.sent_back[handle.name] = sum(1 for kind, _p, _f in differences(test.output)
                                            if kind == "L")
        await _must(node_cs, "-u")

    for handle in others:  # one at a time: each may send to all the others
        await send_back(handle)
    for handle in cluster.nodes:
        result = await Csync2(handle.container, settings).run("-T")
        if not result.in_sync:
            left = differences(result.output)
            raise NodeCheckError(handle.name, "not in sync after the first sync: "
                                 + (", ".join(f"{k} {p} {f}" for k, p, f in left[:5])
                                    or "; ".join(result.problems) or "csync2 -T failed"))
    for handle in cluster.nodes:
        await handle.container.write_file(marker(settings), authority + "\n")
    return report
