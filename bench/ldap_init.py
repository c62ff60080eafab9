"""Initialising a replica of the seed's 36,000 entries: our slapcat/slapadd path vs
a plain syncrepl refresh of the same data, both measured in this run on the same lab.

    .venv/bin/python bench/ldap_init.py [--entries 36000]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

from labtools import cli, lab

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.inventory import load_inventory
from gluu_cluster.ldap.checks import wait_in_sync
from gluu_cluster.ldap.openldap.directory import NodeDirectory
from gluu_cluster.ldap.openldap.service import start_slapd, stop_slapd

WIPE = r"""
set -e
for dir in "$@"; do rm -rf -- "$dir"; mkdir -p -- "$dir"; chmod 700 -- "$dir"; done
"""


async def syncrepl_refresh(inventory_path: str) -> float:
    """Empty node2's database and let its existing consumer refresh everything from node1."""
    inventory = load_inventory(inventory_path)
    settings = inventory.ldap
    assert settings is not None
    async with ClusterConnection(inventory) as cluster:
        node2 = cluster.handle("node2")
        directory = NodeDirectory(node2.container, settings.ldapi_socket)
        dbs = await directory.search("cn=config", "one", "(olcDbDirectory=*)", ["olcDbDirectory"])
        dirs = [d.first("olcDbDirectory") for d in dbs]
        started = time.perf_counter()
        await stop_slapd(node2, settings)
        await node2.container.run(["sh", "-c", WIPE, "wipe", *dirs])
        await start_slapd(node2, settings)
        await wait_in_sync(cluster, deadline_s=1800)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=36000)
    parser.add_argument("--base-address", default="127.0.9.11")
    args = parser.parse_args()
    with lab(2, args.entries, args.base_address) as lab_dir:
        inventory = str(lab_dir / "cluster.yaml")
        cli("apply", "-i", inventory, "--yes")
        started = time.perf_counter()
        out = cli("ldap", "init", "-i", inventory, "--from", "node1", "--to", "node2", "--yes")
        ours = time.perf_counter() - started
        inner = float(re.search(r"in ([\d.]+) s", out).group(1))  # type: ignore[union-attr]
        refresh = asyncio.run(syncrepl_refresh(inventory))
    print(f"initialise node2 with {args.entries} entries (+ base tree) from node1")
    print(f"plain syncrepl refresh (baseline): {refresh:.2f} s (until in sync)")
    print(f"gluu-cluster ldap init (slapcat/slapadd): {ours:.2f} s end to end until in sync "
          f"(export+import+restart {inner:.2f} s)")
    print(f"speed-up: {refresh / ours:.1f}x (target >= 7x)")


if __name__ == "__main__":
    main()
