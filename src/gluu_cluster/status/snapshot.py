"""The immutable ClusterStatus snapshot: one row per node with enum states, the problems.

Built once per read by pure functions (gather.py) and shared by ``status``, ``serve``
and the end of ``apply``; nothing changes it afterwards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..problems import Problem, define, has_errors

NODE_UNREACHABLE = define("NODE-UNREACHABLE", "error",
                          "check that the node is up and reachable over SSH from this machine")


class LDAPRole(enum.StrEnum):
    MULTI_PROVIDER = "multi-provider"
    PARTIAL = "partial"  # some peers consumed from, not all
    STANDALONE = "standalone"


class Replication(enum.StrEnum):
    IN_SYNC = "in sync"
    BEHIND = "behind"
    DISCONNECTED = "disconnected"
    UNREACHABLE = "unreachable"


class FileSyncState(enum.StrEnum):
    IN_SYNC = "in sync"
    DIRTY = "dirty"
    DIFFERS = "differs"
    DAEMON_DOWN = "daemon down"
    NOT_INITIALISED = "not initialised"
    UNREACHABLE = "unreachable"


class ServiceState(enum.StrEnum):
    """A host in front of the nodes (load balancer, cache)."""

    UP = "up"
    DEGRADED = "degraded"  # serves, with a warning (a stale configuration)
    DOWN = "down"  # its daemon does not run or answer
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class ServiceRow:
    """The load balancer's or the cache's line: one per service, beside the node rows."""

    name: str
    role: str  # "load balancer" | "cache"
    address: str
    state: ServiceState
    detail: str  # what it holds: nodes in rotation, memory used ...


@dataclass(frozen=True)
class SetState:
    """One certificate set on one node: how many errors concern it there."""

    set: str
    errors: int
    days_left: int | None = None  # of the certificate that expires first (None: not read)
    warned: bool = False  # a warning concerns it (one expiring soon)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def __str__(self) -> str:
        state = f"{self.set} ok" if self.ok else f"{self.set} {self.errors} problem(s)"
        return state if self.days_left is None else f"{state} ({self.days_left} d)"


@dataclass(frozen=True)
class NodeRow:
    """One node's line of the status table, as data (the column spec renders it)."""

    node: str
    address: str
    primary: bool
    reachable: bool = True
    server_id: int | None = None
    ldap_role: LDAPRole | None = None
    consumers: int | None = None
    peers: int = 0
    replication: Replication | None = None
    lag_seconds: float | None = None
    entries: int | None = None
    file_sync: FileSyncState | None = None
    dirty: int | None = None
    last_sync: int | None = None
    certificates: tuple[SetState, ...] | None = None  # None: no set, or not read
    # In the load balancer's rotation; None: no balancer, or it was not read.
    in_rotation: bool | None = None
    problems: int = 0


@dataclass(frozen=True)
class CertExpiry:
    node: str
    set: str
    file: str
    days_left: int


# Problems of a node's links to its peers (filled by gather.py from the areas' checks):
# when a peer is down they say so, and the node itself still serves.
@dataclass(frozen=True)
class ClusterStatus:
    cluster: str
    taken_at: float
    seconds: float
    nodes: tuple[NodeRow, ...]
    problems: tuple[Problem, ...]
    expiries: tuple[CertExpiry, ...] = ()
    link_codes: frozenset[str] = frozenset()
    down_codes: frozenset[str] = frozenset()
    services: tuple[ServiceRow, ...] = ()

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
        is down (what a load balancer in front of this one node needs to know); a drained
        node is not, on purpose: it is out of rotation."""
        row = self.node(name)
        return row is not None and row.in_rotation is not False and self.node_sound(name)

    def node_sound(self, name: str) -> bool:
        """As node_healthy, drained or not (what the history and the alerts follow: a
        drain is the operator's choice, not a fault)."""
        row = self.node(name)
        if row is None or not row.reachable:
            return False
        peer_down = any(not r.reachable for r in self.nodes if r.node != name) or any(
            p.code in self.down_codes for p in self.problems if p.node != name)
        own = [p for p in self.node_problems(name)
               if not (peer_down and p.code in self.link_codes)]
        return not has_errors(own)
