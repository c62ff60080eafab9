"""``sync status|now|init|history|restore``: csync2 file replication across the cluster."""

from __future__ import annotations

import datetime
from dataclasses import asdict

import click
from rich.table import Table

from ..errors import UsageError
from ..facts.cache import FactCache
from ..filesync.checks import cluster_sync_status, sync_now
from ..filesync.first_sync import first_sync
from ..filesync.history import restore_version, versions
from ..inventory import Inventory
from ..problems import has_errors
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, on_cluster
from .output import FORMAT_OPTION, console, is_tty, print_error, print_json, print_problems


def _load(path: str) -> Inventory:
    inventory = load(path)
    if not inventory.file_sync.groups:
        raise UsageError(f"{inventory.source_path.name}: no file_sync.groups in the inventory")
    return inventory


def _when(epoch: int | None) -> str:
    if epoch is None:
        return "never"
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@click.group()
def sync() -> None:
    """File replication with csync2: state, a run now, first sync, history and restore."""


@sync.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def status(inventory_path: str, accept_new_host_keys: bool, output_format: str) -> None:
    """Per node: daemon, dirty files, conflicts, last successful sync, in sync (-T).
    Exit 1 on an error-severity problem."""
    inventory = _load(inventory_path)

    nodes, problems = on_cluster(inventory, accept_new_host_keys,
                                 lambda c: cluster_sync_status(c, FactCache(c)))
    if output_format == "json":
        print_json({"nodes": [n.to_dict() for n in nodes], "problems": [asdict(p) for p in problems]})
    else:
        table = Table(title=f"file sync of cluster '{inventory.cluster}'")
        for column in ("node", "daemon", "initialised", "dirty", "conflicts", "last ok", "in sync"):
            table.add_column(column)
        for n in nodes:
            f = n.facts
            if f is None:
                table.add_row(n.node, f"[red]{n.error}[/red]", *["-"] * 5)
                continue
            table.add_row(n.node, f"pid {f.daemon_pid}" if f.daemon_pid else "[red]down[/red]",
                          "yes" if f.initialised else "[red]no[/red]", str(len(n.dirty)),
                          str(len(f.conflicts)), _when(f.last_ok),
                          "yes" if n.in_sync else "[red]no[/red]")
        console.print(table)
        print_problems(problems)
        console.print("in sync" if not problems else f"{len(problems)} problem(s)")
    if has_errors(problems):
        raise SystemExit(1)


@sync.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def now(inventory_path: str, accept_new_host_keys: bool, output_format: str) -> None:
    """Run a sync on every node now (each peer with its own timeout); report per node."""
    inventory = _load(inventory_path)

    runs = on_cluster(inventory, accept_new_host_keys, lambda c: sync_now(c))
    if output_format == "json":
        print_json({"runs": [asdict(r) for r in runs]})
    else:
        for r in runs:
            state = "[green]ok[/green]" if r.ok else "[red]failed[/red]"
            console.print(f"{r.node}: {state} in {r.seconds:.2f} s")
    for r in runs:
        for problem in r.problems:
            print_error(f"{r.node}: {problem}")
    if not all(r.ok for r in runs):
        raise SystemExit(1)


@sync.command("init")
@INVENTORY_OPTION
@click.option("--authority", required=True, help="The node whose files win everywhere.")
@click.option("--yes", is_flag=True, help="Do not ask: the other nodes' differing files are replaced.")
@ACCEPT_NEW_OPTION
def init(inventory_path: str, authority: str, yes: bool, accept_new_host_keys: bool) -> None:
    """First sync: every node's files become AUTHORITY's (replaced versions kept in history;
    files only another node has are sent to all). Needs gluu-csync2d running ('apply')."""
    inventory = _load(inventory_path)
    inventory.node(authority)
    if not yes and not (is_tty() and click.confirm(
            f"Replace differing files on every other node with {authority}'s?")):
        raise UsageError("nothing was changed; run again with --yes to allow it")

    report = on_cluster(inventory, accept_new_host_keys, lambda c: first_sync(c, authority))
    for node, paths in sorted(report.replaced.items()):
        console.print(f"{node}: {len(paths)} file(s) replaced by {authority}'s "
                      f"(old versions in history): " + ", ".join(paths))
    for node, count in sorted(report.sent_back.items()):
        if count:
            console.print(f"{node}: sent {count} file(s) only it had")
    console.print(f"first sync done: every node holds {authority}'s files")


@sync.command()
@INVENTORY_OPTION
@click.argument("node")
@click.argument("path")
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def history(inventory_path: str, node: str, path: str, accept_new_host_keys: bool,
            output_format: str) -> None:
    """Versions of PATH (inside the container) that sync overwrote or deleted on NODE."""
    inventory = _load(inventory_path)
    inventory.node(node)

    found = on_cluster(inventory, accept_new_host_keys,
                       lambda c: versions(c.handle(node).container, inventory.file_sync, path))
    if output_format == "json":
        print_json({"node": node, "path": path, "versions": [asdict(v) for v in found]})
        return
    table = Table(title=f"history of {path} on {node}")
    for column in ("version", "saved", "size", "sha256"):
        table.add_column(column)
    for v in found:
        table.add_row(str(v.number), _when(v.saved_at), str(v.size), v.sha256[:16])
    console.print(table)


@sync.command("restore")
@INVENTORY_OPTION
@click.argument("node")
@click.argument("path")
@click.option("--version", "number", type=int, required=True, help="From 'sync history' (1 = newest).")
@ACCEPT_NEW_OPTION
def restore_cmd(inventory_path: str, node: str, path: str, number: int,
                accept_new_host_keys: bool) -> None:
    """Bring a version of PATH back on NODE (the current one is kept); it then syncs out."""
    inventory = _load(inventory_path)
    inventory.node(node)

    chosen = on_cluster(inventory, accept_new_host_keys, lambda c: restore_version(
        c.handle(node).container, inventory.file_sync, path, number))
    console.print(f"{node}: {path} restored from version {chosen.number} "
                  f"(saved {_when(chosen.saved_at)}); the trigger sends it to every peer")
