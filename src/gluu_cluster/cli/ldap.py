"""``ldap status|init|verify|repair``: replication state, initialising a node, deep check."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from ..connection import ClusterConnection
from ..errors import UsageError
from ..inventory import Inventory, LDAPSettings
from ..ldap.checks import cluster_status, wait_in_sync
from ..ldap.engine import InitResult
from ..ldap.engines import engine_for
from ..ldap.verify import Verified, repair, verify
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, on_cluster
from .output import FORMAT_OPTION, console, is_tty, print_json, print_problems


def _settings(inventory: Inventory) -> LDAPSettings:
    if inventory.ldap is None:
        raise UsageError(f"{inventory.source_path.name}: no 'ldap' section in the inventory")
    return inventory.ldap


@click.group()
def ldap() -> None:
    """LDAP replication (OpenLDAP or OpenDJ): state, initialise, deep check and repair."""


@ldap.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def status(inventory_path: str, accept_new_host_keys: bool, output_format: str) -> None:
    """Server IDs, consumers and their phase, contextCSN, entries; exit 1 unless in sync."""
    inventory = load(inventory_path)
    settings = _settings(inventory)

    result = on_cluster(inventory, accept_new_host_keys, lambda c: cluster_status(c))
    if output_format == "json":
        print_json({"in_sync": result.in_sync, "nodes": [n.to_dict() for n in result.nodes],
                    "problems": [asdict(p) for p in result.problems]})
    else:
        table = Table(title=f"LDAP replication of {settings.suffix}")
        for column in ("node", "server ID", "entries", "contextCSN", "consumers"):
            table.add_column(column)
        for n in result.nodes:
            consumers = "\n".join(
                f"{c.id} {c.provider} {c.phase}{'' if c.connected else ' [red]no connection[/red]'}"
                for c in n.consumers)
            table.add_row(n.node, str(n.server_id or "-"), str(n.entries if n.entries is not None else "-"),
                          "\n".join(n.context_csns), consumers or (n.error or "-"))
        console.print(table)
        print_problems(result.problems)
        console.print("in sync" if result.in_sync else f"{len(result.problems)} problem(s)")
    if not result.in_sync:
        raise SystemExit(1)


@ldap.command("init")
@INVENTORY_OPTION
@click.option("--from", "source", required=True, help="Node to copy the directory from.")
@click.option("--to", "target", required=True, help="Node whose directory is replaced.")
@click.option("--yes", is_flag=True, help="Do not ask: the target's data is replaced.")
@click.option("--ldif", "by_ldif", is_flag=True,
              help="OpenDJ: an export-ldif on SOURCE imported on TARGET instead of "
                   "dsreplication initialize (OpenLDAP always copies by LDIF).")
@ACCEPT_NEW_OPTION
def init(inventory_path: str, source: str, target: str, yes: bool, by_ldif: bool,
         accept_new_host_keys: bool) -> None:
    """Replace TARGET's directory with SOURCE's (OpenLDAP: slapcat/slapadd, old data kept
    aside; OpenDJ: dsreplication initialize, or --ldif)."""
    inventory = load(inventory_path)
    settings = _settings(inventory)
    inventory.node(source), inventory.node(target)
    if source == target:
        raise UsageError("--from and --to name the same node")
    if not yes and not (is_tty() and click.confirm(
            f"Replace {target}'s {settings.suffix} with {source}'s?")):
        raise UsageError(f"{target}: initialising replaces its directory; run again with --yes")

    async def go(c: ClusterConnection) -> InitResult:
        result = await engine_for(settings).initialise(c.handle(source), c.handle(target),
                                                        c.inventory, by_ldif)
        if len(c.nodes) > 1:
            await wait_in_sync(c)
        return result

    result = on_cluster(inventory, accept_new_host_keys, go)
    console.print(f"{result.target}: initialised from {result.source}: {result.entries} entries "
                  f"in {result.seconds:.1f} s; previous data kept with suffix {result.backup_suffix}")


@ldap.command("verify")
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def verify_cmd(inventory_path: str, accept_new_host_keys: bool, output_format: str) -> None:
    """Compare every entry (DN, entryUUID, CSN, attribute digest) on every node and list
    conflict entries; exit 1 on either."""
    inventory = load(inventory_path)
    settings = _settings(inventory)

    async def go(c: ClusterConnection) -> Verified:
        return await verify(c, settings)

    found = on_cluster(inventory, accept_new_host_keys, go)
    if output_format == "json":
        print_json({"entries": found.entries, "differences": [
            {"dn": d.dn, "nodes": {n: (asdict(e) if e else None) for n, e in d.by_node.items()}}
            for d in found.differences], "conflicts": [asdict(c) for c in found.conflicts]})
    else:
        for d in found.differences:
            parts = ", ".join(f"{n}: {'missing' if e is None else f'{e.csn} {e.digest}'}"
                              for n, e in d.by_node.items())
            console.print(f"differs: {d.dn} ({parts})")
        for c in found.conflicts:
            console.print(f"conflict entry: {c.dn} (collided with {c.collided_with}; on "
                          f"{', '.join(c.nodes)})")
        problems = []
        if found.differences:
            problems.append(f"{len(found.differences)} differ")
        if found.conflicts:
            problems.append(f"{len(found.conflicts)} conflict entr"
                            f"{'y' if len(found.conflicts) == 1 else 'ies'}")
        console.print(f"{found.entries} entries compared on {len(inventory.nodes)} nodes: "
                      + ("all identical" if not problems else "; ".join(problems) +
                         "; 'gluu-cluster ldap repair' rewrites differing entries with the "
                         "newest version and takes conflict entries out (kept in a file)"))
    if found.differences or found.conflicts:
        raise SystemExit(1)


@ldap.command("repair")
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@click.option("--keep-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where conflict entries are written before they are taken out "
                   "(default: ldap-conflicts next to the inventory)")
def repair_cmd(inventory_path: str, accept_new_host_keys: bool, keep_dir: Path | None) -> None:
    """Rewrite each differing entry with its newest version, take conflict entries out
    (written to a 0600 LDIF file first), then verify."""
    inventory = load(inventory_path)
    settings = _settings(inventory)
    keep_in = keep_dir or inventory.base_dir / "ldap-conflicts"

    async def go(c: ClusterConnection) -> tuple[list[str], Verified]:
        done = await repair(c, settings, keep_in)
        if done:
            await wait_in_sync(c)
        return done, await verify(c, settings)

    done, left = on_cluster(inventory, accept_new_host_keys, go)
    for line in done:
        console.print(line)
    remaining = len(left.differences) + len(left.conflicts)
    console.print(f"repaired {len(done)} entr{'y' if len(done) == 1 else 'ies'}; "
                  + ("all nodes identical" if not remaining else f"{remaining} still differ"))
    if remaining:
        raise SystemExit(1)
