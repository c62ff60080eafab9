"""Run the steps: refresh each step's facts, apply its changes, stop on the first error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .connection import ClusterConnection
from .errors import GluuClusterError, StepError, TransportError, UsageError
from .journal import Journal
from .plan import Blocked, Change, Outcome, Step, build_plan, plan_step

# Called with (step title, change, "start" | "done" | "failed") around each change.
Reporter = Callable[[str, Change, str], None]


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    unchanged: list[Outcome] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return not self.applied


def _no_report(_title: str, _change: Change, _state: str) -> None:
    return None


async def apply_steps(
    steps: Sequence[Step],
    cluster: ClusterConnection,
    *,
    confirm: Callable[[Change], bool] | None = None,
    report: Reporter = _no_report,
    journal: Journal | None = None,
) -> ApplyResult:
    """Each step is planned again just before it runs, so it sees what earlier steps did.

    Destructive changes are confirmed from a full plan first, so a refusal leaves every
    node untouched rather than half-converged.
    """
    allowed: set[tuple[str, str]] = set()
    await recover_interrupted(steps, cluster)

    def confirmed(change: Change) -> bool:
        if (change.node, change.step) in allowed:
            return True
        if confirm is None or not confirm(change):
            raise UsageError(
                f"{change.node}: step '{change.step}' is destructive ({change.summary}); "
                "nothing was changed; run again with --yes to allow it"
            )
        allowed.add((change.node, change.step))
        return True

    for change in (await build_plan(steps, cluster)).changes:
        if change.destructive:
            confirmed(change)
    result = ApplyResult()
    for step in steps:
        for outcome in await plan_step(step, cluster):
            if isinstance(outcome, Blocked):
                result.blocked.append(outcome)
                continue
            if not isinstance(outcome, Change):
                result.unchanged.append(outcome)
                continue
            if outcome.destructive:
                confirmed(outcome)
            handle = cluster.handle(outcome.node)
            report(step.title, outcome, "start")
            if journal is not None:
                journal.started(outcome.node, step.name, outcome.summary)
            try:
                await step.apply_change(handle, outcome)
            except GluuClusterError as exc:
                report(step.title, outcome, "failed")
                detail = f"{exc.detail}; {exc.hint}" if isinstance(exc, TransportError) else str(exc)
                raise StepError(outcome.node, step.name, detail) from exc
            if journal is not None:
                journal.done(outcome.node, step.name)
            cluster.interrupted.discard((outcome.node, step.name))
            report(step.title, outcome, "done")
            result.applied.append(outcome)
    return result


async def recover_interrupted(steps: Sequence[Step], cluster: ClusterConnection) -> None:
    """Let each step whose change a killed run cut off put its node back in order first."""
    by_name = {s.name: s for s in steps}
    for node, step_name in sorted(cluster.interrupted):
        step = by_name.get(step_name)
        if step is not None and node in {h.name for h in cluster.nodes}:
            await step.recover(cluster.handle(node), cluster)
