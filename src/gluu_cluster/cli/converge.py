"""``plan`` and ``apply``: show what would change, then make it so."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Sequence

import click
from rich.table import Table

from ..apply import ApplyResult, apply_steps
from ..connection import ClusterConnection
from ..facts.cache import FactCache
from ..inventory import Inventory
from ..journal import Journal, PreviousRun, read_previous
from ..ldap.checks import wait_in_sync
from ..plan import Blocked, Change, Plan, Run, Step, build_plan, prefetch
from ..preflight.run import run_check
from ..status import ClusterStatus
from ..status.columns import status_dict
from ..status.gather import gather_status
from ..steps import default_steps
from .check import IGNORE_OPTION, fail_on
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, fail_if_blocked, load, on_cluster, run_async
from .output import FORMAT_OPTION, console, err_console, is_tty, print_json
from .status import show_status


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def render_plan(plan: Plan) -> Table:
    table = Table(title=f"plan for cluster '{plan.cluster}'", show_lines=False)
    table.add_column("node")
    table.add_column("step")
    table.add_column("")
    table.add_column("what")
    for node in plan.nodes:
        for outcome in plan.for_node(node):
            if isinstance(outcome, Change):
                what = outcome.summary + "".join(f"\n  {d}" for d in outcome.details)
                mark = "[red]![/red]" if outcome.destructive else "[yellow]~[/yellow]"
            elif isinstance(outcome, Blocked):
                what, mark = f"[red]refused: {outcome.reason}[/red]\n  fix: {outcome.fix}", "[red]x[/red]"
            else:
                what, mark = f"[dim]{outcome.reason}[/dim]", "[green]=[/green]"
            table.add_row(node, outcome.step, mark, what)
    return table


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def plan(inventory_path: str, accept_new_host_keys: bool, output_format: str) -> None:
    """Read every node and print what apply would change, per node. Changes nothing."""
    inventory = load(inventory_path)

    async def go(c: ClusterConnection) -> Plan:
        run = Run.start(c, read_previous(inventory).keys)
        return await build_plan(default_steps(inventory), run)

    notes = _history_notes(inventory, read_previous(inventory))
    if output_format == "pretty":  # first: they may explain why a node cannot be read
        for note in notes:
            console.print(f"[yellow]note:[/yellow] {note}")
    result = on_cluster(inventory, accept_new_host_keys, go)
    if output_format == "json":
        print_json(result.to_dict() | {"notes": notes})
    else:
        console.print(render_plan(result))
        _summarise(result, inventory_path)
    fail_if_blocked(result.blocked)


def _summarise(result: Plan, inventory_path: str) -> None:
    if result.is_empty and not result.blocked:
        console.print("nothing to do: the cluster already matches the inventory")
    else:
        console.print(
            f"{len(result.changes)} change(s) to apply: run 'gluu-cluster apply -i {inventory_path}'"
        )


def _confirm(yes: bool) -> Callable[[Change], bool]:
    def ask(change: Change) -> bool:
        if yes:
            return True
        if not is_tty():
            return False
        return click.confirm(f"{change.node}: {change.summary}. This is destructive. Continue?")

    return ask


def _history_notes(inventory: Inventory, previous: PreviousRun) -> list[str]:
    """What the journal says about the last run: cut-off changes, nodes since removed."""
    notes = []
    if previous.interrupted:
        cut = ", ".join(f"{i.step} on {i.node}" for i in previous.interrupted)
        notes.append(f"the previous apply did not finish ({cut} cut off): apply redoes those "
                     "changes (and starts a service the cut left stopped)")
    if previous.nodes:
        current = {n.name for n in inventory.nodes}
        for gone in (n for n in previous.nodes if n not in current):
            notes.append(f"{gone} is no longer in the inventory: the other nodes stop "
                         f"replicating with it (LDAP consumers, csync2 hosts); {gone} itself is "
                         "left as it is: stop its slapd and gluu-csync2d, or wipe it, yourself")
    return notes


class _Progress:
    """One line per change on stderr: [n/N steps] node step: summary ... done."""

    def __init__(self, steps: Sequence[Step], pretty: bool) -> None:
        self.pretty, self.total = pretty, len(steps)
        # A step's place in the run (titles repeat for certificate sets: the first counts).
        self.position: dict[str, int] = {}
        for i, step in enumerate(steps, 1):
            self.position.setdefault(step.title, i)
        self.started = time.monotonic()

    def __call__(self, title: str, change: Change, state: str) -> None:
        if not self.pretty:
            return
        where = (f"[dim]\\[{self.position.get(title, 0)}/{self.total}][/dim] "
                 f"[bold]{change.node}[/bold] {title}")
        if state == "start":
            err_console.print(f"{where}: {change.summary} ...")
        elif state == "done":
            err_console.print(f"{where}: [green]done[/green] "
                              f"[dim]({time.monotonic() - self.started:.1f} s)[/dim]")
        else:
            err_console.print(f"{where}: [red]failed[/red]")


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@click.option("--yes", is_flag=True, help="Allow destructive steps without asking.")
@IGNORE_OPTION
@FORMAT_OPTION
def apply(inventory_path: str, accept_new_host_keys: bool, yes: bool, ignored: tuple[str, ...],
          output_format: str) -> None:
    """Converge the cluster: preflight check, then every step that has something to do (a
    journal lets the next run finish a killed one), then verify and print the status."""
    inventory = load(inventory_path)
    pretty = output_format == "pretty"
    with Journal(inventory) as journal:
        for note in _history_notes(inventory, journal.previous):
            err_console.print(f"[yellow]note:[/yellow] {note}")
        result, status = run_async(_converge(inventory, accept_new_host_keys, yes, ignored, pretty,
                                             journal))
        if status.healthy and not result.blocked:
            journal.finish()
    if not pretty:
        print_json({
            "cluster": inventory.cluster,
            "changed": len(result.applied),
            "applied": [{"node": c.node, "step": c.step, "summary": c.summary} for c in result.applied],
            "blocked": [{"node": b.node, "step": b.step, "reason": b.reason, "fix": b.fix}
                        for b in result.blocked],
            "status": status_dict(status),
        })
    else:
        if result.nothing_to_do and not result.blocked:
            console.print("nothing to do: the cluster already matches the inventory")
        else:
            console.print(f"applied {len(result.applied)} change(s)")
        show_status(status)
    fail_if_blocked(result.blocked)
    if not status.healthy:
        raise SystemExit(1)


async def _converge(inventory: Inventory, accept_new: bool, yes: bool, ignored: tuple[str, ...],
                    pretty: bool, journal: Journal) -> tuple[ApplyResult, ClusterStatus]:
    async with ClusterConnection(inventory, accept_new_host_keys=accept_new) as c:
        steps = default_steps(inventory)
        run = Run.start(c, journal.previous.keys)
        with console.status("preflight check ...") if pretty else _nothing():
            # The facts the plan needs are read meanwhile: reading changes nothing.
            checked, _ = await asyncio.gather(run_check(c), prefetch(steps, run))
        fail_on(checked.without(set(ignored)))
        result = await apply_steps(steps, run, confirm=_confirm(yes), journal=journal,
                                   report=_Progress(steps, pretty))
        # Nothing changed: the facts this run read are the cluster as it is.
        cache = run.facts if result.nothing_to_do else None
        if inventory.ldap is not None and len(inventory.nodes) > 1:
            with console.status("waiting for LDAP to converge ...") if pretty else _nothing():
                state = await wait_in_sync(c, cache)
            if pretty:
                entries = next(iter(state.values())).entries
                console.print(f"LDAP in sync on all {len(state)} nodes ({entries} entries)")
        with console.status("verifying ...") if pretty else _nothing():
            # A refused node stays unconverged: no point waiting for it to settle.
            status = await _verified(c, cache, settle=0 if result.blocked else 30)
    return result, status


async def _verified(cluster: ClusterConnection, cache: FactCache | None,
                    settle: float) -> ClusterStatus:
    """The final status (from ``cache`` first, when the run's facts still hold); daemons
    just started may need a moment, so errors are read again until ``settle`` seconds
    passed."""
    deadline = time.monotonic() + settle
    while True:
        status = await gather_status(cluster, cache)
        cache = None  # a second look reads the nodes again
        if status.healthy or time.monotonic() > deadline:
            return status
        await asyncio.sleep(2)
