"""Steps evaluated against facts into an immutable Plan (a change or a no-op, with why).

A step reads facts from one node and returns a :class:`Change` (what it would do, with
the data ``apply`` needs), a :class:`NoOp` (why nothing is needed) or a :class:`Blocked`
(why it refuses to touch this node, and the fix; the other nodes go on).  Planning never
changes a node.  Steps are evaluated on all nodes in parallel; a node that cannot be
reached makes the plan fail with every such node named.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .connection import ClusterConnection, NodeHandle
from .errors import GluuClusterError


@dataclass(frozen=True)
class Change:
    node: str
    step: str
    summary: str
    details: tuple[str, ...] = ()
    destructive: bool = False
    # What apply needs (e.g. the new file content); not shown, not compared.
    payload: Any = field(default=None, compare=False, repr=False)

    @property
    def is_change(self) -> bool:
        return True


@dataclass(frozen=True)
class NoOp:
    node: str
    step: str
    reason: str

    @property
    def is_change(self) -> bool:
        return False


@dataclass(frozen=True)
class Blocked:
    """The step refuses this node (and changes nothing on it); the others go on."""

    node: str
    step: str
    reason: str
    fix: str

    @property
    def is_change(self) -> bool:
        return False


Outcome = Change | NoOp | Blocked


class Step(abc.ABC):
    """One idempotent unit of convergence, planned and applied per node."""

    name: ClassVar[str]
    title: ClassVar[str]

    async def prepare(self, cluster: ClusterConnection) -> None:  # noqa: B027 - optional hook
        """Read cluster-wide facts once before the per-node planning (e.g. all server IDs)."""

    async def recover(self, handle: NodeHandle, cluster: ClusterConnection) -> None:  # noqa: B027
        """Before planning, after a run was killed during this step's change on the node:
        put the node back in a state planning can read (e.g. start a stopped service)."""

    @abc.abstractmethod
    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        """Read facts and say what would change on this node; never change anything."""

    @abc.abstractmethod
    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        """Make the planned change on the node."""


class PlanError(GluuClusterError):
    def __init__(self, failures: Sequence[GluuClusterError]) -> None:
        self.failures = tuple(failures)
        super().__init__("; ".join(str(f) for f in failures))


@dataclass(frozen=True)
class Plan:
    cluster: str
    nodes: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(o for o in self.outcomes if isinstance(o, Change))

    @property
    def blocked(self) -> tuple[Blocked, ...]:
        return tuple(o for o in self.outcomes if isinstance(o, Blocked))

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def for_node(self, node: str) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.node == node)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "changes": len(self.changes),
            "blocked": len(self.blocked),
            "nodes": [
                {
                    "name": node,
                    "steps": [_outcome_dict(o) for o in self.for_node(node)],
                }
                for node in self.nodes
            ],
        }


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Change):
        return {
            "step": outcome.step,
            "action": "change",
            "summary": outcome.summary,
            "details": list(outcome.details),
            "destructive": outcome.destructive,
        }
    if isinstance(outcome, Blocked):
        return {"step": outcome.step, "action": "blocked", "reason": outcome.reason,
                "fix": outcome.fix}
    return {"step": outcome.step, "action": "none", "reason": outcome.reason}


async def plan_step(step: Step, cluster: ClusterConnection) -> list[Outcome]:
    await step.prepare(cluster)

    async def one(handle: NodeHandle) -> Outcome:
        return await step.plan_node(handle, cluster)

    results = await cluster.each(one)
    failures = [r for _h, r in results if isinstance(r, GluuClusterError)]
    if failures:
        raise PlanError(failures)
    return [r for _h, r in results if not isinstance(r, GluuClusterError)]


async def build_plan(steps: Sequence[Step], cluster: ClusterConnection) -> Plan:
    outcomes: list[Outcome] = []
    for step in steps:
        outcomes.extend(await plan_step(step, cluster))
    return Plan(
        cluster=cluster.inventory.cluster,
        nodes=tuple(h.name for h in cluster.nodes),
        outcomes=tuple(outcomes),
    )
