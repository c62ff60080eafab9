"""Run the steps: refresh each step's facts, apply its changes, stop on the first error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .errors import GluuClusterError, StepError, TransportError, UsageError
from .journal import Journal
from .plan import Blocked, Change, Outcome, Run, Step, build_plan, plan_step

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
    run: Run,
    *,
    confirm: Callable[[Change], bool] | None = None,
    report: Reporter = _no_report,
    journal: Journal | None = None,
) -> ApplyResult:
    """Each step is planned again just before it runs, so it sees what earlier steps did;
    its facts come from the run's cache, read again only where a change touched them.

    Destructive changes are confirmed from a full plan first, so a refusal leaves every
    node untouched rather than half-converged.
    """
    allowed: set[tuple[str, str]] = set()
    await recover_interrupted(steps, run)

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

    for change in (await build_plan(steps, run)).changes:
        if change.destructive:
            confirmed(change)
    result = ApplyResult()
    for step in steps:
        for outcome in await plan_step(step, run):
            if isinstance(outcome, Blocked):
                result.blocked.append(outcome)
                continue
            if not isinstance(outcome, Change):
                result.unchanged.append(outcome)
                continue
            if outcome.destructive:
                confirmed(outcome)
            handle = run.cluster.handle(outcome.node)
            report(step.title, outcome, "start")
            if journal is not None:
                journal.started(outcome.node, step.name, outcome.summary)
            try:
                await step.apply_change(handle, outcome, run)
            except GluuClusterError as exc:
                run.facts.touched(outcome.node, step.touches)
                report(step.title, outcome, "failed")
                detail = f"{exc.detail}; {exc.hint}" if isinstance(exc, TransportError) else str(exc)
                raise StepError(outcome.node, step.name, detail) from exc
            run.facts.touched(outcome.node, step.touches)
            if journal is not None:
                journal.done(outcome.node, step.name)
            report(step.title, outcome, "done")
            result.applied.append(outcome)
    return result


async def recover_interrupted(steps: Sequence[Step], run: Run) -> None:
    """Let each step whose change a killed run cut off put its node back in order first."""
    by_name = {s.name: s for s in steps}
    for node, step_name in sorted(run.interrupted):
        step = by_name.get(step_name)
        if step is not None and node in {h.name for h in run.cluster.scope(step.scope)}:
            await step.recover(run.cluster.handle(node), run)
            run.facts.forget(node)  # what was read before the recovery no longer holds
