"""Steps evaluated against facts into an immutable Plan (a change or a no-op, with why).

The step contract (every step in ``steps.py`` keeps it):

- ``name``/``title``: the step's id in the journal and plan, and what progress shows.
- ``tools``: the programs it runs inside the container; the preflight's software check
  is built from the steps' lists (``required_tools``), not from a list of its own.
- ``reads``: the fact areas it plans from; a plan reads every step's areas on every node
  at once, in parallel, before the first step is planned.
- ``touches``: the fact areas its change alters; after each change, ``apply`` marks those
  facts of that node stale so the next step reads them again (nothing else is re-read).
- ``prepare(run)``: optional; cluster-wide facts the per-node planning compares (e.g. the
  schema digests of all nodes), read through ``run.facts`` only.
- ``plan_node(handle, run)``: reads ``run.facts`` and local files only and returns a
  :class:`Change` (with the frozen :class:`Payload` its apply needs), a :class:`NoOp`
  (why nothing is needed) or a :class:`Blocked` (why this node is refused, and the fix;
  the other nodes go on). Planning writes nothing anywhere: keys and CAs a change needs
  are made by ``apply_change``, and the plan says they will be.
- ``apply_change(handle, change, run)``: makes exactly the planned change, from its
  payload.
- ``recover(handle, run)``: only after a killed run cut this step's change on the node
  off (``run.interrupted``, from the journal): put the node back in a state planning can
  read (e.g. start a stopped service).

Steps are evaluated on all nodes in parallel; a node that cannot be reached makes the
plan fail with every such node named.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .connection import ClusterConnection, NodeHandle, Scope
from .errors import FactsError, GluuClusterError, PlanError
from .facts.cache import FactArea, FactCache
from .inventory import Inventory


class Payload:
    """Base of each step's frozen payload dataclass: what its apply needs."""


@dataclass(frozen=True)
class Change:
    node: str
    step: str
    summary: str
    details: tuple[str, ...] = ()
    destructive: bool = False
    # What apply needs (e.g. the new file content); not shown, not compared.
    payload: Payload | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class NoOp:
    node: str
    step: str
    reason: str


@dataclass(frozen=True)
class Blocked:
    """The step refuses this node (and changes nothing on it); the others go on."""

    node: str
    step: str
    reason: str
    fix: str


Outcome = Change | NoOp | Blocked


@dataclass(frozen=True)
class Run:
    """One plan or apply: the connections, the facts read so far, and the (node, step)
    changes a killed earlier run cut off (from the journal)."""

    cluster: ClusterConnection
    facts: FactCache
    interrupted: frozenset[tuple[str, str]] = frozenset()

    @property
    def inventory(self) -> Inventory:
        return self.cluster.inventory

    @classmethod
    def start(cls, cluster: ClusterConnection,
              interrupted: Iterable[tuple[str, str]] = ()) -> Run:
        return cls(cluster, FactCache(cluster), frozenset(interrupted))


class Step(abc.ABC):
    """One idempotent unit of convergence, planned and applied per node (see above)."""

    name: ClassVar[str]
    title: ClassVar[str]
    tools: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[tuple[FactArea[Any], ...]] = ()
    touches: ClassVar[tuple[FactArea[Any], ...]] = ()
    # Where it runs: every node, or the load balancer's or the cache's host.
    scope: ClassVar[Scope] = "nodes"

    async def prepare(self, run: Run) -> None:  # noqa: B027 - optional hook
        """Read cluster-wide facts once before the per-node planning."""

    async def recover(self, handle: NodeHandle, run: Run) -> None:  # noqa: B027
        """Put a node whose change a killed run cut off back in a readable state."""

    @abc.abstractmethod
    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        """Say what would change on this node, from ``run.facts``; never change anything."""

    @abc.abstractmethod
    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        """Make the planned change on the node."""


def required_tools(steps: Iterable[Step]) -> list[str]:
    """Every program the steps run inside the container, once each, in step order."""
    return list(dict.fromkeys(tool for step in steps for tool in step.tools))


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


async def plan_step(step: Step, run: Run) -> list[Outcome]:
    try:
        await step.prepare(run)
    except FactsError as exc:
        raise PlanError(exc.failures) from None

    async def one(handle: NodeHandle) -> Outcome:
        return await step.plan_node(handle, run)

    results = await run.cluster.each(one, run.cluster.scope(step.scope))
    failures: list[GluuClusterError] = []
    for _h, r in results:
        if isinstance(r, FactsError):
            failures += r.failures
        elif isinstance(r, GluuClusterError):
            failures.append(r)
    if failures:
        raise PlanError(failures)
    return [r for _h, r in results if not isinstance(r, GluuClusterError)]


async def prefetch(steps: Sequence[Step], run: Run) -> None:
    """Read every fact area the steps plan from, on every node, all at once."""
    areas = {a.name: a for step in steps for a in step.reads}
    await run.facts.prefetch(areas.values())


async def build_plan(steps: Sequence[Step], run: Run) -> Plan:
    await prefetch(steps, run)
    outcomes: list[Outcome] = []
    for step in steps:
        outcomes.extend(await plan_step(step, run))
    return Plan(
        cluster=run.inventory.cluster,
        nodes=tuple(h.name for h in [*run.cluster.nodes, *run.cluster.services]),
        outcomes=tuple(outcomes),
    )
