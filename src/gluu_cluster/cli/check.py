"""``check``: the preflight, per node and requirement, with the fix for each failure."""

from __future__ import annotations

import click
from rich.table import Table

from ..preflight.run import CheckReport, run_check
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, on_cluster
from .output import FORMAT_OPTION, console, print_error, print_json

IGNORE_OPTION = click.option(
    "--ignore-check", "ignored", multiple=True, metavar="CODE",
    help="Report this preflight failure as a warning instead (repeatable), e.g. PRE-MEMORY.")

_MARK = {"pass": "[green]pass[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def render_check(report: CheckReport) -> Table:
    table = Table(title=f"preflight of cluster '{report.cluster}'")
    for column in ("node", "requirement", "", "detail"):
        table.add_column(column)
    for v in report.verdicts:
        detail = v.detail.replace("[", r"\[")
        if v.problem is not None:
            detail += f"\n[dim]{v.problem.code}: {v.problem.fix}[/dim]"
        table.add_row(v.node, v.requirement, _MARK[v.state], detail)
    return table


def fail_on(report: CheckReport) -> None:
    """One line per failed requirement, exit 1 (apply stops here: nothing changed)."""
    failed = [v for v in report.verdicts if v.state == "fail" and v.problem is not None]
    for v in failed:
        assert v.problem is not None
        print_error(f"{v.node}: {v.problem.code} {v.detail}. Fix: {v.problem.fix}")
    if failed:
        raise SystemExit(1)


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
@IGNORE_OPTION
def check(inventory_path: str, accept_new_host_keys: bool, output_format: str,
          ignored: tuple[str, ...]) -> None:
    """Preflight: CPUs, RAM, root partition, ports between nodes, name resolution, clocks,
    Gluu version, container root, setup.properties.last, software. Exit 1 on a failure.
    Thresholds: the inventory's 'preflight' section (defaults: the seed's)."""
    report = on_cluster(load(inventory_path), accept_new_host_keys, run_check).without(set(ignored))
    if output_format == "json":
        print_json(report.to_dict())
    else:
        console.print(render_check(report))
        fails = sum(v.state == "fail" for v in report.verdicts)
        console.print("[green]every requirement met[/green]" if not fails
                      else f"[red]{fails} requirement(s) not met[/red]")
    if report.failed:
        raise SystemExit(1)
