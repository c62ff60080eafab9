"""``plan`` and ``apply``: show what would change, then make it so."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click
from rich.table import Table

from ..apply import ApplyResult, apply_steps
from ..cluster import ClusterConnection
from ..plan import Blocked, Change, Plan, build_plan
from ..steps import default_steps
from ..steps.ldap_replicas import wait_in_sync
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, fail_if_blocked, load, run_async
from .output import FORMAT_OPTION, console, err_console, is_tty, print_json


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

    async def go() -> Plan:
        async with ClusterConnection(inventory, accept_new_host_keys=accept_new_host_keys) as c:
            return await build_plan(default_steps(inventory), c)

    result = run_async(go())
    if output_format == "json":
        print_json(result.to_dict())
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


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@click.option("--yes", is_flag=True, help="Allow destructive steps without asking.")
@FORMAT_OPTION
def apply(inventory_path: str, accept_new_host_keys: bool, yes: bool, output_format: str) -> None:
    """Converge the cluster: run every step that has something to do, stop on the first error."""
    inventory = load(inventory_path)
    pretty = output_format == "pretty"

    def report(title: str, change: Change, state: str) -> None:
        if not pretty:
            return
        if state == "start":
            err_console.print(f"[bold]{change.node}[/bold] {title}: {change.summary} ...")
        elif state == "done":
            err_console.print(f"[bold]{change.node}[/bold] {title}: [green]done[/green]")
        else:
            err_console.print(f"[bold]{change.node}[/bold] {title}: [red]failed[/red]")

    async def go() -> tuple[ApplyResult, str]:
        async with ClusterConnection(inventory, accept_new_host_keys=accept_new_host_keys) as c:
            with console.status("applying ...", spinner="dots") if pretty else _nothing():
                result = await apply_steps(default_steps(inventory), c, confirm=_confirm(yes),
                                           report=report)
            verified = ""
            if inventory.ldap is not None and len(inventory.nodes) > 1:
                with console.status("waiting for LDAP to converge ...") if pretty else _nothing():
                    state = await wait_in_sync(c, inventory.ldap)
                entries = next(iter(state.values())).entries
                verified = f"LDAP in sync on all {len(state)} nodes ({entries} entries)"
            return result, verified

    result, verified = run_async(go())
    if not pretty:
        print_json({
            "cluster": inventory.cluster,
            "changed": len(result.applied),
            "applied": [{"node": c.node, "step": c.step, "summary": c.summary} for c in result.applied],
            "blocked": [{"node": b.node, "step": b.step, "reason": b.reason, "fix": b.fix}
                        for b in result.blocked],
        })
    elif result.nothing_to_do and not result.blocked:
        console.print("nothing to do: the cluster already matches the inventory")
    else:
        console.print(f"applied {len(result.applied)} change(s)")
    if pretty and verified:
        console.print(verified)
    fail_if_blocked(result.blocked)
