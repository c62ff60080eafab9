"""``status``: the whole cluster in one table (like ``patronictl list``), then its problems."""

from __future__ import annotations

import json
import time

import click
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..connection import ClusterConnection
from ..inventory import Inventory
from ..secrets import redactor
from ..status import ClusterStatus, gather_status
from ..status.columns import COLUMNS, Cell, Tone, cells, status_dict, taken, verdict
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, run_async
from .output import FORMAT_OPTION, console

_COLOUR = {Tone.GOOD: "green", Tone.WARN: "yellow", Tone.BAD: "red"}


def _markup(cell: Cell) -> str:
    text = _escape(cell.text)
    colour = _COLOUR.get(cell.tone)
    return f"[{colour}]{text}[/{colour}]" if colour else text


def render_status(status: ClusterStatus) -> Group:
    """The table and the problems, from the one column spec (status/columns.py)."""
    table = Table(title=f"cluster '{status.cluster}'")
    for column in COLUMNS:
        table.add_column(column.header)
    for row in status.nodes:
        table.add_row(*(_markup(c) for c in cells(row, status.taken_at)))
    lines: list[Table | Text] = [table]
    for p in status.problems:
        colour = "red" if p.severity == "error" else "yellow"
        lines.append(Text.from_markup(
            f"[{colour}]{p.severity}[/{colour}] {p.code} {p.node}: {_escape(p.detail)}\n"
            f"    fix: {_escape(p.fix)}"))
    lines.append(Text.from_markup(f"{_markup(verdict(status))} ({taken(status)})"))
    return Group(*lines)


def _escape(text: str) -> str:
    return redactor.scrub(text).replace("[", r"\[")


async def _snapshot(inventory: Inventory, accept_new: bool) -> ClusterStatus:
    async with ClusterConnection(inventory, accept_new_host_keys=accept_new) as cluster:
        return await gather_status(cluster)


def _show(status: ClusterStatus, output_format: str) -> None:
    if output_format == "json":
        # One document per line, so --watch output can be read line by line.
        click.echo(redactor.scrub(json.dumps(status_dict(status))))
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
