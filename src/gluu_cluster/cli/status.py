"""``status``: the whole cluster in one table (like ``patronictl list``), then its problems."""

from __future__ import annotations

import json
import time

import click
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..cluster import ClusterConnection
from ..health import ClusterStatus, NodeRow, gather_status
from ..inventory import Inventory
from ..secrets import redactor
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, run_async
from .output import FORMAT_OPTION, console


def _cell(value: object, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def _ago(epoch: int | None, now: float) -> str:
    return "-" if epoch is None else f"{max(0, int(now - epoch))} s ago"


def _state(text: str | None) -> str:
    if text is None:
        return "-"
    good = text == "in sync" or all(part.endswith(" ok") for part in text.split(", "))
    return f"[green]{text}[/green]" if good else f"[red]{text}[/red]"


def render_status(status: ClusterStatus) -> Group:
    table = Table(title=f"cluster '{status.cluster}'")
    for column in ("node", "address", "LDAP role", "server ID", "replication", "lag",
                   "entries", "file sync", "dirty", "last sync", "certificates"):
        table.add_column(column)
    for row in status.nodes:
        table.add_row(*_row_cells(row, status.taken_at))
    lines: list[Table | Text] = [table]
    for p in status.problems:
        colour = "red" if p.severity == "error" else "yellow"
        lines.append(Text.from_markup(
            f"[{colour}]{p.severity}[/{colour}] {p.code} {p.node}: {_escape(p.detail)}\n"
            f"    fix: {_escape(p.fix)}"))
    verdict = ("[green]converged[/green]" if status.healthy
               else f"[red]not converged: {sum(p.severity == 'error' for p in status.problems)} "
                    "error(s)[/red]")
    warnings = sum(p.severity == "warning" for p in status.problems)
    lines.append(Text.from_markup(
        f"{verdict}{f', {warnings} warning(s)' if warnings else ''} "
        f"(read in {status.seconds:.1f} s at {time.strftime('%H:%M:%S', time.localtime(status.taken_at))})"))
    return Group(*lines)


def _escape(text: str) -> str:
    return redactor.scrub(text).replace("[", r"\[")


def _row_cells(row: NodeRow, now: float) -> list[str]:
    name = f"{row.node} *" if row.primary else row.node
    if not row.reachable:
        return [name, row.address, "[red]unreachable[/red]", *["-"] * 8]
    return [
        name, row.address, _cell(row.ldap_role), _cell(row.server_id), _state(row.replication),
        _cell(row.lag_seconds, " s"), _cell(row.entries), _state(row.file_sync),
        _cell(row.dirty), _ago(row.last_sync, now), _state(row.certificates),
    ]


async def _snapshot(inventory: Inventory, accept_new: bool) -> ClusterStatus:
    async with ClusterConnection(inventory, accept_new_host_keys=accept_new) as cluster:
        return await gather_status(cluster)


def _show(status: ClusterStatus, output_format: str) -> None:
    if output_format == "json":
        # One document per line, so --watch output can be read line by line.
        click.echo(redactor.scrub(json.dumps(status.to_dict())))
    else:
        console.print(render_status(status))


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
@click.option("--watch", "watch", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Read and print the status again every SECONDS until interrupted.")
def status(inventory_path: str, accept_new_host_keys: bool, output_format: str,
           watch: float | None) -> None:
    """One table of every node (LDAP role and replication, file sync, certificates), then
    the problems found with their fix. Exit 0 converged, 1 problems, 2 inventory error.
    (* marks the primary.)"""
    inventory = load(inventory_path)
    result = run_async(_snapshot(inventory, accept_new_host_keys))
    try:
        while watch is not None:
            if output_format == "pretty":
                console.clear()
            _show(result, output_format)
            time.sleep(watch)
            result = run_async(_snapshot(inventory, accept_new_host_keys))
    except KeyboardInterrupt:
        raise SystemExit(0 if result.healthy else 1) from None
    _show(result, output_format)
    if not result.healthy:
        raise SystemExit(1)
