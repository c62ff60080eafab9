"""``lab up|status|reboot|down``: the local lab of fake Gluu hosts (needs root)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from ..lab.manager import Lab
from .output import FORMAT_OPTION, console, print_json

LAB_DIR_OPTION = click.option(
    "--lab-dir",
    type=click.Path(file_okay=False),
    default="gluu-lab",
    show_default=True,
    help="Where the lab keeps its state, keys and node files.",
)


@click.group()
def lab() -> None:
    """A local lab of fake Gluu hosts: own loopback address, mount namespace, sshd and an
    LDAP server (slapd or OpenDJ)."""


@lab.command()
@click.option("--nodes", type=click.IntRange(1, 7), default=3, show_default=True)
@click.option("--entries", type=click.IntRange(0, 1_000_000), default=1000, show_default=True,
              help="Users on the primary (36000 = the seed's directory).")
@click.option("--base-address", default="127.0.0.11", show_default=True,
              help="Address of the first node; the others follow (.12, .13, ...).")
@click.option("--inventory", "inventory_path", type=click.Path(dir_okay=False),
              help="Where to write the lab's inventory [default: LAB_DIR/cluster.yaml].")
@click.option("--ssh-port", type=click.IntRange(1, 65535), default=None,
              help="Port of each node's sshd [default: 22, or 2222 when a system sshd holds *:22].")
@click.option("--engine", type=click.Choice(["openldap", "opendj"]), default="openldap",
              show_default=True, help="The nodes' LDAP server (opendj: the guide's, from the "
              "pinned zip, fetched with Maven once).")
@click.option("--front", is_flag=True,
              help="Also a front host for the load balancer (the address after the nodes'); "
              "'apply' installs nginx there.")
@LAB_DIR_OPTION
def up(nodes: int, entries: int, base_address: str, inventory_path: str | None,
       ssh_port: int | None, engine: str, front: bool, lab_dir: str) -> None:
    """Create and start the lab; on a running lab, say so and change nothing."""
    inventory = Path(inventory_path) if inventory_path else Path(lab_dir) / "cluster.yaml"
    with console.status(f"creating {nodes} lab nodes ...", spinner="dots"):
        message = Lab(Path(lab_dir)).up(nodes, entries, base_address, inventory, ssh_port, engine,
                                        front)
    console.print(message)


@lab.command()
@LAB_DIR_OPTION
@FORMAT_OPTION
def status(lab_dir: str, output_format: str) -> None:
    """List the lab's nodes and their processes; exit 1 when one is down."""
    the_lab = Lab(Path(lab_dir))
    nodes = the_lab.status()
    healthy = bool(nodes) and all(n.sshd_up and n.ldap_up for n in nodes)
    if output_format == "json":
        print_json({"lab_dir": str(the_lab.layout.dir), "running": healthy,
                    "nodes": [asdict(n) for n in nodes]})
    elif not nodes:
        console.print(f"no lab in {the_lab.layout.dir}")
    else:
        table = Table(title=f"lab {the_lab.layout.dir}")
        for column in ("node", "address", "sshd", "ldap", "processes"):
            table.add_column(column)
        for n in nodes:
            table.add_row(n.name, n.address, _proc(n.sshd_up, n.sshd_pid),
                          _proc(n.ldap_up, n.ldap_pid), str(n.processes))
        console.print(table)
    if not healthy:
        raise SystemExit(1)


def _proc(up: bool, pid: int | None) -> str:
    return f"[green]up[/green] pid {pid}" if up else "[red]down[/red]"


@lab.command()
@click.argument("node")
@click.option("--hard", is_flag=True,
              help="SIGKILL every process at once (a crash or power cut) instead of a shutdown.")
@LAB_DIR_OPTION
def reboot(node: str, hard: bool, lab_dir: str) -> None:
    """End every process of NODE, then start it as its boot would: the host's sshd and the
    container's rc scripts (never through gluu-cluster); waits until it answers."""
    console.print(Lab(Path(lab_dir)).reboot(node, hard))


@lab.command()
@LAB_DIR_OPTION
def down(lab_dir: str) -> None:
    """Stop every lab process by PID, remove the namespaces and files."""
    console.print(Lab(Path(lab_dir)).down())
