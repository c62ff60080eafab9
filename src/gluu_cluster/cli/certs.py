"""``certs status|sync|backups|restore|rotate``: the certificate sets of the cluster."""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.table import Table

from ..apply import ApplyResult, apply_steps
from ..connection import ClusterConnection
from ..errors import UsageError
from ..facts.cache import FactCache
from ..inventory import CertificateSet, Inventory
from ..pki.ca import cluster_ca_pem
from ..pki.checks import SetStatus, cluster_cert_status
from ..pki.rotate import Rotated, parse_key_type, rotate_on_source
from ..pki.setfiles import Backup, backup, list_backups, restore
from ..pki.steps import CertSetStep
from ..plan import Change, Run
from ..problems import has_errors
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, fail_if_blocked, load, on_cluster
from .output import FORMAT_OPTION, console, err_console, print_json, print_problems

SET_OPTION = click.option("--set", "set_name", help="Only this certificate set (default: all).")


def _sets(inventory: Inventory, name: str | None) -> list[CertificateSet]:
    sets = inventory.certificates.sets
    if not sets:
        raise UsageError(f"{inventory.source_path.name}: no certificates.sets in the inventory")
    if name is None:
        return list(sets)
    chosen = [s for s in sets if s.name == name]
    if not chosen:
        raise UsageError(f"no certificate set '{name}' (known: {', '.join(s.name for s in sets)})")
    return chosen


@click.group()
def certs() -> None:
    """Certificate sets: one set on every node, in every truststore, verified."""


def _short(fp: str | None) -> str:
    return fp.replace(":", "")[:16].lower() if fp else "-"


def _print_status(result: SetStatus) -> None:
    table = Table(title=f"certificate set '{result.set}' (source {result.source})")
    for column in ("node", "file", "mode", "sha256", "fingerprint", "expires", "key", "same",
                   "trusted"):
        table.add_column(column)
    yes_no = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "-"}
    for node in result.nodes:
        if node.error:
            table.add_row(node.node, f"[red]{node.error}[/red]", *["-"] * 7)
        for row in node.files:
            expires = f"{row.not_after[:10]} ({row.days_left} d)" if row.not_after else "-"
            key = (row.key or "-") + ("" if row.key_matches is not False else " [red]mismatch[/red]")
            table.add_row(node.node, row.file, row.mode, row.sha256[:12], _short(row.fingerprint),
                          expires, key, yes_no[row.same_as_source], yes_no[row.in_truststore])
    console.print(table)
    print_problems(result.problems)
    console.print("consistent" if result.consistent else "not consistent")


@certs.command()
@INVENTORY_OPTION
@SET_OPTION
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def status(inventory_path: str, set_name: str | None, accept_new_host_keys: bool,
           output_format: str) -> None:
    """Per node and file: fingerprint, subject, expiry, key match, same as source, trusted.

    Exit 1 when an error-severity problem is found (warnings, such as a certificate
    expiring within certificates.warn_days, do not fail).
    """
    inventory = load(inventory_path)
    chosen = _sets(inventory, set_name)

    async def go(c: ClusterConnection) -> list[SetStatus]:
        ca = cluster_ca_pem(inventory)
        names = {s.name for s in chosen}
        return [r for r in await cluster_cert_status(c, FactCache(c), ca) if r.set in names]

    results = on_cluster(inventory, accept_new_host_keys, go)
    if output_format == "json":
        print_json({"sets": [{**asdict(r), "consistent": r.consistent} for r in results]})
    else:
        for result in results:
            _print_status(result)
    if any(has_errors(r.problems) for r in results):
        raise SystemExit(1)


def _report(title: str, change: Change, state: str) -> None:
    err_console.print(f"[bold]{change.node}[/bold] {title}: {change.summary} ({state})")


async def _sync(cluster: ClusterConnection, sets: list[CertificateSet]) -> ApplyResult:
    root = cluster.inventory.certificates.backup_directory
    return await apply_steps([CertSetStep(s, root) for s in sets], Run.start(cluster),
                             report=_report)


def _finish(result: ApplyResult) -> None:
    if result.nothing_to_do and not result.blocked:
        console.print("nothing to do: every node holds the set and trusts it")
    else:
        console.print(f"applied {len(result.applied)} change(s)")
    fail_if_blocked(result.blocked)


@certs.command()
@INVENTORY_OPTION
@SET_OPTION
@ACCEPT_NEW_OPTION
def sync(inventory_path: str, set_name: str | None, accept_new_host_keys: bool) -> None:
    """Copy the source's set to every node (backing up what it overwrites), update truststores."""
    inventory = load(inventory_path)
    chosen = _sets(inventory, set_name)

    _finish(on_cluster(inventory, accept_new_host_keys, lambda c: _sync(c, chosen)))


@certs.command()
@INVENTORY_OPTION
@click.argument("node")
@ACCEPT_NEW_OPTION
@FORMAT_OPTION
def backups(inventory_path: str, node: str, accept_new_host_keys: bool, output_format: str) -> None:
    """The backups kept on NODE (newest last), for 'certs restore'."""
    inventory = load(inventory_path)
    inventory.node(node)

    root = inventory.certificates.backup_directory
    found = on_cluster(inventory, accept_new_host_keys,
                       lambda c: list_backups(c.handle(node).container, root))
    if output_format == "json":
        print_json({"node": node, "backups": [asdict(b) for b in found]})
        return
    table = Table(title=f"certificate backups on {node}")
    for column in ("id", "set", "created", "reason", "files"):
        table.add_column(column)
    for b in found:
        table.add_row(b.id, b.set, b.created, b.reason, "\n".join(b.paths))
    console.print(table)


@certs.command("restore")
@INVENTORY_OPTION
@click.argument("node")
@click.option("--backup", "backup_id", required=True, help="A backup id from 'certs backups'.")
@ACCEPT_NEW_OPTION
def restore_cmd(inventory_path: str, node: str, backup_id: str, accept_new_host_keys: bool) -> None:
    """Put NODE's files (and truststore) back as a backup holds them; the current ones are
    backed up first. The next apply syncs the source's set over them again."""
    inventory = load(inventory_path)
    inventory.node(node)
    root = inventory.certificates.backup_directory

    async def go(c: ClusterConnection) -> Backup:
        container = c.handle(node).container
        chosen = next((b for b in await list_backups(container, root) if b.id == backup_id),
                      None)
        if chosen is None:
            raise UsageError(f"{node}: no backup '{backup_id}'; list them with "
                             f"'gluu-cluster certs backups -i {inventory_path} {node}'")
        await backup(container, root, chosen.set, f"before restore of {chosen.id}",
                     list(chosen.paths))
        await restore(container, root, chosen)
        return chosen

    chosen = on_cluster(inventory, accept_new_host_keys, go)
    console.print(f"{node}: restored {len(chosen.paths)} path(s) from backup {chosen.id}")


@certs.command()
@INVENTORY_OPTION
@click.option("--set", "set_name", required=True, help="The certificate set to rotate.")
@click.option("--key-type", default="rsa:3072", show_default=True,
              help="rsa:3072, rsa:4096 or ec:p256 (RSA below 3072 bits is refused).")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Validity of the new certificates.")
@ACCEPT_NEW_OPTION
def rotate(inventory_path: str, set_name: str, key_type: str, days: int,
           accept_new_host_keys: bool) -> None:
    """New keys and certificates on the set's source (same subjects and SANs), key stores
    rebuilt with their configured passwords, then distributed, imported, action run."""
    inventory = load(inventory_path)
    cert_set = _sets(inventory, set_name)[0]
    wanted = parse_key_type(key_type)

    async def go(c: ClusterConnection) -> tuple[list[Rotated], ApplyResult]:
        source = c.handle(inventory.source_of(cert_set).name)
        rotated = await rotate_on_source(source, cert_set, wanted, days,
                                         inventory.certificates.backup_directory)
        return rotated, await _sync(c, [cert_set])

    rotated, result = on_cluster(inventory, accept_new_host_keys, go)
    for r in rotated:
        console.print(f"rotated {r.stem} ({r.key_type}): " + ", ".join(f.name for f in r.files))
    _finish(result)
