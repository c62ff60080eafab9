"""File sync facts per node, the problems they show, and a sync run on demand."""

from __future__ import annotations

import asyncio
import posixpath
import time
from dataclasses import dataclass, field

from ..cluster import ClusterConnection, NodeHandle
from ..errors import GluuClusterError
from ..problems import Problem, define
from .csync2 import Csync2
from .node import marker, state_dir, supervisor_pid

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
NOT_IN_SYNC = define("SYNC-NOT-IN-SYNC", "error",
                     "run 'gluu-cluster sync now' and read the problems it names")
PEER = define("SYNC-PEER-FAILED", "error",
              "see the detail: reinstall keys and certificates with 'gluu-cluster apply'")


@dataclass(frozen=True)
class Conflict:
    at: int
    peer: str
    path: str
    message: str

    @property
    def resolved(self) -> bool:
        """'Won'/'Lost' the policy's test: the loser's version went to history."""
        low = self.message.lower()
        return "won" in low or "lost" in low


@dataclass
class NodeSyncStatus:
    node: str
    daemon_pid: int | None = None
    initialised: bool = False
    dirty: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    last_ok: int | None = None
    in_sync: bool | None = None
    peer_problems: list[str] = field(default_factory=list)
    error: str | None = None


def parse_dirty(output: str) -> list[str]:
    """csync2 -M prints one dirty file per line (with the peer it is dirty for)."""
    return [line.strip() for line in output.splitlines() if "/" in line]


def parse_conflicts(text: str, since: int = 0) -> list[Conflict]:
    found = []
    for line in text.splitlines():
        parts = line.split("\t", 3)
        if len(parts) == 4 and parts[0].isdigit() and int(parts[0]) >= since:
            found.append(Conflict(int(parts[0]), parts[1], parts[2], parts[3]))
    return found


async def node_status(handle: NodeHandle, cluster: ClusterConnection) -> NodeSyncStatus:
    settings = cluster.inventory.file_sync
    container = handle.container
    cs = Csync2(container, settings)
    status = NodeSyncStatus(handle.name)
    status.daemon_pid = await supervisor_pid(container, settings)
    status.initialised = await container.read_file(marker(settings)) is not None
    dirty = await cs.run("-M")
    status.dirty = parse_dirty(dirty.output) if dirty.ok and not dirty.empty else []
    state = state_dir(settings)
    last_ok = await container.read_file(posixpath.join(state, "last-ok"))
    status.last_ok = int(last_ok.strip()) if last_ok and last_ok.strip().isdigit() else None
    log = await container.read_file(posixpath.join(state, "conflicts.log"))
    day_ago = int(time.time()) - 86400
    status.conflicts = parse_conflicts(log.decode("utf-8", "replace"), day_ago) if log else []
    test = await cs.run("-T")
    status.in_sync = test.in_sync
    status.peer_problems = test.problems
    return status


def problems_of(statuses: list[NodeSyncStatus]) -> list[Problem]:
    out: list[Problem] = []
    for s in statuses:
        if s.error is not None:
            out.append(UNREACHABLE.at(s.node, s.error))
            continue
        if s.daemon_pid is None:
            out.append(DAEMON_DOWN.at(s.node, "gluu-csync2d is not running: changes made on this "
                                      "node are not sent and it receives nothing"))
        if not s.initialised:
            out.append(NOT_INITIALISED.at(s.node, "the first sync has not run on this node"))
        if s.dirty:
            out.append(DIRTY.at(s.node, f"{len(s.dirty)} change(s) not yet sent: "
                                + ", ".join(s.dirty[:5])))
        out += [CONFLICT.at(s.node, f"{c.path} with {c.peer}: {c.message}")
                for c in s.conflicts if not c.resolved]
        out += [PEER.at(s.node, text) for text in s.peer_problems]
        if s.in_sync is False and not s.peer_problems:
            out.append(NOT_IN_SYNC.at(s.node, "csync2 -T finds differences with a peer"))
    return out


async def cluster_sync_status(cluster: ClusterConnection) -> tuple[list[NodeSyncStatus], list[Problem]]:
    async def one(handle: NodeHandle) -> NodeSyncStatus:
        return await node_status(handle, cluster)

    statuses = []
    for handle, result in await cluster.each(one):
        statuses.append(result if isinstance(result, NodeSyncStatus)
                        else NodeSyncStatus(handle.name, error=str(result)))
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

