"""File sync facts per node, the problems they show, and a sync run on demand."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError
from ..facts.cache import FactCache
from ..problems import Problem, define
from .csync2 import Csync2
from .facts import FILESYNC_FACTS, Conflict, FileSyncFacts

UNREACHABLE = define("SYNC-NODE-UNREACHABLE", "error",
                     "check that the node is up and reachable over SSH")
DAEMON_DOWN = define("SYNC-DAEMON-DOWN", "error",
                     "run 'gluu-cluster apply' to start gluu-csync2d again")
NOT_INITIALISED = define("SYNC-NOT-INITIALISED", "error",
                         "run 'gluu-cluster apply' (or 'gluu-cluster sync init --authority NODE')")
DIRTY = define("SYNC-DIRTY", "warning",
               "changes wait for a peer: check that every peer's gluu-csync2d runs")
CONFLICT = define("SYNC-CONFLICT", "error",
                  "the file stays dirty until one side wins: edit it on the node whose "
                  "version is right, or set the group's conflict policy")
RESOLVED = define("SYNC-CONFLICT-RESOLVED", "warning",
                  "nothing to do if the winner's version is right; else put the other back "
                  "with 'gluu-cluster sync restore'")
NOT_IN_SYNC = define("SYNC-NOT-IN-SYNC", "error",
                     "run 'gluu-cluster sync now' and read the problems it names")
PEER = define("SYNC-PEER-FAILED", "error",
              "see the detail: reinstall keys and certificates with 'gluu-cluster apply'")


@dataclass(frozen=True)
class NodeSyncStatus:
    """One node's file sync facts, or why they could not be read."""

    node: str
    facts: FileSyncFacts | None = None
    error: str | None = None

    @property
    def dirty(self) -> tuple[str, ...]:
        return (self.facts.dirty or ()) if self.facts else ()

    @property
    def in_sync(self) -> bool | None:
        test = self.facts.test if self.facts else None
        return test.in_sync if test is not None else None

    @property
    def peer_problems(self) -> list[str]:
        test = self.facts.test if self.facts else None
        return test.problems if test is not None else []

    def to_dict(self) -> dict[str, Any]:
        f = self.facts
        return {"node": self.node, "error": self.error,
                "daemon_pid": f.daemon_pid if f else None,
                "initialised": f.initialised if f else None,
                "dirty": list(self.dirty), "in_sync": self.in_sync,
                "conflicts": [asdict(c) for c in f.conflicts] if f else [],
                "last_ok": f.last_ok if f else None, "peer_problems": self.peer_problems}


def problems_of(statuses: list[NodeSyncStatus]) -> list[Problem]:
    out: list[Problem] = []
    for s in statuses:
        if s.facts is None:
            out.append(UNREACHABLE.at(s.node, s.error or "not read"))
            continue
        if s.facts.daemon_pid is None:
            out.append(DAEMON_DOWN.at(s.node, "gluu-csync2d is not running: changes made on this "
                                      "node are not sent and it receives nothing"))
        if not s.facts.initialised:
            out.append(NOT_INITIALISED.at(s.node, "the first sync has not run on this node"))
        if s.dirty:
            out.append(DIRTY.at(s.node, f"{len(s.dirty)} change(s) not yet sent: "
                                + ", ".join(s.dirty[:5])))
        out += [PEER.at(s.node, text) for text in s.peer_problems]
        if s.in_sync is False and not s.peer_problems:
            out.append(NOT_IN_SYNC.at(s.node, "csync2 -T finds differences with a peer"))
    return out + conflict_problems(statuses)


def conflict_problems(statuses: list[NodeSyncStatus]) -> list[Problem]:
    """Each conflict once, however many log lines (nodes, runs) show it.

    One the group's policy decided (csync2 logs "Won" on the node whose version it sent,
    "Lost" on the other, whose version went to its history) is a warning naming the
    winner and where the loser is kept; one it did not decide is an error on each node
    where the file is still dirty (once nothing is dirty, someone settled it)."""
    decided: dict[str, tuple[int, str, str]] = {}  # path -> (when, winner, loser)
    undecided: dict[tuple[str, str], Conflict] = {}  # (node, path) -> newest line
    for s in statuses:
        for c in s.facts.conflicts if s.facts else ():
            if c.resolved:
                won = "won" in c.message.lower()
                winner, loser = (s.node, c.peer) if won else (c.peer, s.node)
                if c.path not in decided or c.at >= decided[c.path][0]:
                    decided[c.path] = (c.at, winner, loser)
            elif any(c.path in line for line in s.dirty):
                undecided[(s.node, c.path)] = max(c, undecided.get((s.node, c.path), c),
                                                  key=lambda x: x.at)
    out = [CONFLICT.at(node, f"{path} with {c.peer}: {c.message}")
           for (node, path), c in sorted(undecided.items())]
    open_paths = {path for _node, path in undecided}
    for path, (_at, winner, loser) in sorted(decided.items()):
        if path not in open_paths:
            out.append(RESOLVED.at(winner, f"{path} was edited on {winner} and {loser} at once; "
                                   f"the group's policy kept {winner}'s version; {loser}'s is "
                                   f"in its history: gluu-cluster sync history {loser} {path}"))
    return out


async def cluster_sync_status(cluster: ClusterConnection,
                              facts: FactCache) -> tuple[list[NodeSyncStatus], list[Problem]]:
    statuses = []
    for handle, result in await cluster.each(lambda h: facts.of(FILESYNC_FACTS, h)):
        statuses.append(NodeSyncStatus(handle.name, error=str(result))
                        if isinstance(result, GluuClusterError) else NodeSyncStatus(handle.name, result))
    return statuses, problems_of(statuses)


@dataclass
class SyncRun:
    node: str
    ok: bool
    seconds: float
    problems: list[str]


async def sync_now(cluster: ClusterConnection) -> list[SyncRun]:
    """On every node: check, then update each peer with its own timeout (a stalled peer is
    named, the others still get their changes)."""
    settings = cluster.inventory.file_sync
    peers = [n.name for n in cluster.inventory.nodes]

    async def one(handle: NodeHandle) -> SyncRun:
        start = time.monotonic()
        cs = Csync2(handle.container, settings)
        problems: list[str] = []
        check = await cs.run("-cr", "/")
        problems += check.problems

        async def update(peer: str) -> list[str]:
            # -vvv: only the protocol trace says why a peer refused (e.g. another key).
            result = await cs.run("-B", "-uvvv", "-P", peer)
            if result.killed:  # once seen right after a refused TLS session: ask again
                result = await cs.run("-B", "-uvvv", "-P", peer)
            named = [p if peer in p else f"{peer}: {p}" for p in result.problems]
            return named or ([] if result.ok else [f"{peer}: csync2 -u failed: "
                                                   + (result.output.strip().splitlines() or ["?"])[-1]])

        for found in await asyncio.gather(*(update(p) for p in peers if p != handle.name)):
            problems += found
        return SyncRun(handle.name, not problems, time.monotonic() - start, problems)

    runs = []
    for handle, result in await cluster.each(one):
        if isinstance(result, GluuClusterError):
            runs.append(SyncRun(handle.name, False, 0.0, [str(result)]))
        else:
            runs.append(result)
    return runs

