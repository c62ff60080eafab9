"""``status``: the whole cluster in one table (like ``patronictl list``), then its problems."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.table import Table
from rich.text import Text

from ..errors import GluuClusterError
from ..inventory import load_inventory, secret_problems
from ..secrets import redactor
from ..status import ClusterStatus
from ..status.cell import Cell, Tone
from ..status.columns import COLUMNS, SERVICE_HEADERS, cells, service_cells, status_dict, taken, verdict
from ..status.gather import gather_status
from ..status.history import HistoryFile, history_path, iso, parse_since, transitions
from ..status.plugin import PluginState, Thresholds, check, unknown
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, on_cluster
from .output import FORMAT_OPTION, console, escape, print_problems

F = TypeVar("F", bound=Callable[..., Any])

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


def _check(inventory_path: str, accept_new_host_keys: bool, limits: Thresholds) -> None:
    """One plugin line on stdout and the plugin's exit code; anything that stops the read
    (inventory, secrets, no node answering at all) is UNKNOWN, in the same one line."""
    try:
        inventory = load_inventory(inventory_path)
        bad = secret_problems(inventory)
        if bad:
            raise SystemExit(_unknown(bad[0]))
        result = on_cluster(inventory, accept_new_host_keys, gather_status)
    except GluuClusterError as exc:
        raise SystemExit(_unknown(str(exc))) from None
    state, line = check(result, limits)
    click.echo(redactor.scrub(line))
    raise SystemExit(int(state))


def _unknown(reason: str) -> int:
    click.echo(redactor.scrub(unknown(reason)))
    return int(PluginState.UNKNOWN)


def _history(inventory_path: str, since: str | None, output_format: str) -> None:
    """The transitions kept by 'serve' (healthy -> not and back, cluster and nodes)."""
    inventory = load_inventory(inventory_path)
    history = HistoryFile(history_path(inventory), days=0)
    start = parse_since(since, time.time()) if since else 0.0
    summaries = list(history.read(start))
    events = transitions(inventory.cluster, summaries)
    if output_format == "json":
        click.echo(json.dumps({"cluster": inventory.cluster, "summaries": len(summaries),
                               "transitions": [e.to_dict() for e in events]}))
        return
    if not summaries:
        raise SystemExit(_say_none(history.path))
    span = f"{iso(summaries[0].at)} to {iso(summaries[-1].at)}"
    console.print(f"cluster '{inventory.cluster}': {len(summaries)} reads from {span}, "
                  f"{len(events)} transition(s)")
    for e in events:
        colour = "green" if e.kind in ("cluster-healthy", "node-healthy") else "red"
        console.print(f"{iso(e.at)}  [{colour}]{e.kind}[/{colour}]  {e.node or 'cluster'}: "
                      f"{escape(e.detail)}")
    last = summaries[-1]
    console.print(f"now ({iso(last.at)}): " + ("[green]healthy[/green]" if last.healthy
                                                else "[red]not healthy[/red]"))


def _say_none(path: object) -> int:
    click.echo(f"error: no history in {path}: 'gluu-cluster serve' keeps it (see "
               "--history-days); none was kept yet, or none in that time", err=True)
    return 1


# --warn-lag/--crit-lag, --warn-dirty/--crit-dirty, --warn-days/--crit-days: their
# defaults are the plugin's (status/plugin.py Thresholds).
_LIMITS = (("lag", "SECONDS", "replication lag above", click.FloatRange(min=0)),
           ("dirty", "FILES", "files waiting to sync on a node, more than",
            click.IntRange(min=0)),
           ("days", "DAYS", "days left before a certificate expires, fewer than",
            click.IntRange(min=0)))


def _threshold_options(command: F) -> F:
    for what, metavar, text, kind in reversed(_LIMITS):
        for level in ("crit", "warn"):
            command = click.option(
                f"--{level}-{what}", type=kind, default=getattr(Thresholds(), f"{level}_{what}"),
                show_default=True, metavar=metavar,
                help=f"With --check: {text} this is {'CRITICAL' if level == 'crit' else 'WARNING'}.",
            )(command)
    return command


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
@click.option("--watch", "watch", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Read and print the status again every SECONDS until interrupted.")
@click.option("--history", "history", is_flag=True,
              help="Print the transitions (healthy -> not, and back) that 'serve' recorded, "
              "with their times, instead of reading the nodes.")
@click.option("--since", default=None, metavar="WHEN",
              help="With --history: from this time (epoch, ISO 8601, or an age: 30m, 6h, 2d).")
@click.option("--check", "plugin", is_flag=True,
              help="Monitoring-plugin mode (Nagios/Icinga): one line with performance data; "
              "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")
@_threshold_options
def status(inventory_path: str, accept_new_host_keys: bool, output_format: str,
           watch: float | None, history: bool, since: str | None, plugin: bool,
           warn_lag: float, crit_lag: float, warn_dirty: int, crit_dirty: int,
           warn_days: int, crit_days: int) -> None:
    """One table of every node (LDAP role and replication, file sync, certificates), then
    the problems found with their fix. Exit 0 converged, 1 problems, 2 inventory error.
    (* marks the primary.)"""
    if plugin:
        if warn_lag > crit_lag or warn_dirty > crit_dirty or warn_days < crit_days:
            raise SystemExit(_unknown("thresholds: a warning must come before its critical "
                                      "(--warn-lag <= --crit-lag, --warn-dirty <= --crit-dirty,"
                                      " --warn-days >= --crit-days)"))
        _check(inventory_path, accept_new_host_keys,
               Thresholds(warn_lag, crit_lag, warn_dirty, crit_dirty, warn_days, crit_days))
        return
    if history:
        _history(inventory_path, since, output_format)
        return
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
