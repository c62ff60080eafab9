"""``status``: the whole cluster in one table (like ``patronictl list``), then its problems."""

from __future__ import annotations

import json
import time

import click
from rich.table import Table
from rich.text import Text

from ..secrets import redactor
from ..status import ClusterStatus
from ..status.cell import Cell, Tone
from ..status.columns import COLUMNS, SERVICE_HEADERS, cells, service_cells, status_dict, taken, verdict
from ..status.gather import gather_status
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, on_cluster
from .output import FORMAT_OPTION, console, escape, print_problems

_COLOUR = {Tone.GOOD: "green", Tone.WARN: "yellow", Tone.BAD: "red"}


def _markup(cell: Cell) -> str:
    text = escape(cell.text)
    colour = _COLOUR.get(cell.tone)
    return f"[{colour}]{text}[/{colour}]" if colour else text


def _table(status: ClusterStatus) -> Table:
    """The table, from the one column spec (status/columns.py)."""
    table = Table(title=f"cluster '{status.cluster}'")
    for column in COLUMNS:
        table.add_column(column.header)
    for row in status.nodes:
        table.add_row(*(_markup(c) for c in cells(row, status.taken_at)))
    return table


def _services(status: ClusterStatus) -> Table:
    table = Table()
    for header in SERVICE_HEADERS:
        table.add_column(header)
    for row in status.services:
        table.add_row(*(_markup(c) for c in service_cells(row)))
    return table


def show_status(status: ClusterStatus) -> None:
    """The table, the services in front, the problems (each with its fix), the verdict."""
    console.print(_table(status))
    if status.services:
        console.print(_services(status))
    print_problems(status.problems)
    console.print(Text.from_markup(f"{_markup(verdict(status))} ({taken(status)})"))


def _show(status: ClusterStatus, output_format: str) -> None:
    if output_format == "json":
        # One document per line, so --watch output can be read line by line.
        click.echo(redactor.scrub(json.dumps(status_dict(status))))
    else:
        show_status(status)


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
    result = on_cluster(inventory, accept_new_host_keys, gather_status)
    try:
        while watch is not None:
            if output_format == "pretty":
                console.clear()
            _show(result, output_format)
            time.sleep(watch)
            result = on_cluster(inventory, accept_new_host_keys, gather_status)
    except KeyboardInterrupt:
        raise SystemExit(0 if result.healthy else 1) from None
    _show(result, output_format)
    if not result.healthy:
        raise SystemExit(1)
