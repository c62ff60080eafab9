"""Run the steps: refresh each step's facts, apply its changes, stop on the first error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .cluster import ClusterConnection
from .errors import GluuClusterError, StepError, TransportError, UsageError
from .plan import Blocked, Change, Outcome, Step, build_plan, plan_step

# Called with (step title, node, summary) before and after each change.
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
) -> ApplyResult:
    """Each step is planned again just before it runs, so it sees what earlier steps did.

    Destructive changes are confirmed from a full plan first, so a refusal leaves every
    node untouched rather than half-converged.
    """
    allowed: set[tuple[str, str]] = set()

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
            try:
                await step.apply_change(handle, outcome)
            except GluuClusterError as exc:
                report(step.title, outcome, "failed")
                detail = f"{exc.detail}; {exc.hint}" if isinstance(exc, TransportError) else str(exc)
                raise StepError(outcome.node, step.name, detail) from exc
            report(step.title, outcome, "done")
            result.applied.append(outcome)
    return result
