"""Initialising an OpenDJ replica of the seed's 36,000 entries: OpenDJ's own
``dsreplication initialize`` (the guide's way) against our LDIF path (one online
export-ldif on the primary, online import-ldif on the replica, replication resuming
from the exported state), both timed in this run on the same 2-node lab until the
replica is in sync, alternating, several rounds.

    .venv/bin/python bench/opendj_init.py [--entries 36000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from labtools import cli, lab

from gluu_cluster.connection import ClusterConnection, NodeHandle
from gluu_cluster.inventory import Inventory, load_inventory
from gluu_cluster.ldap.checks import wait_in_sync
from gluu_cluster.ldap.opendj.facts import OPENDJ_FACTS
from gluu_cluster.ldap.opendj.replication import initialise, initialise_from_ldif

Method = Callable[[NodeHandle, NodeHandle, Inventory, list[str]], Awaitable[None]]


async def ldif(source: NodeHandle, target: NodeHandle, inventory: Inventory,
               certs: list[str]) -> None:
    backend = (await OPENDJ_FACTS.read(source, inventory)).backend_id
    await initialise_from_ldif(source, [target], inventory, certs, backend)


async def timed(inventory: Inventory, method: Method) -> float:
    async with ClusterConnection(inventory) as cluster:
        source, target = cluster.handle("node1"), cluster.handle("node2")
        certs = [c for c in [(await OPENDJ_FACTS.read(h, inventory)).admin_cert
                             for h in (source, target)] if c]
        started = time.perf_counter()
        await method(source, target, inventory, certs)
        await wait_in_sync(cluster, deadline_s=1800)
        took = time.perf_counter() - started
        facts = await OPENDJ_FACTS.read(target, inventory)
        primary = await OPENDJ_FACTS.read(source, inventory)
        if (facts.entries, facts.generation_id) != (primary.entries, primary.generation_id):
            raise SystemExit(f"node2 differs after the run: {facts.entries} entries, "
                             f"generation {facts.generation_id}; node1 {primary.entries}, "
                             f"{primary.generation_id}")
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=36000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--base-address", default="127.0.18.11")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"dsreplication initialize": [], "LDIF export/import": []}
    with lab(2, args.entries, args.base_address, engine="opendj") as lab_dir:
        inventory_path = str(lab_dir / "cluster.yaml")
        cli("apply", "-i", inventory_path, "--yes")
        inventory = load_inventory(inventory_path)
        for _round in range(args.rounds):
            runs["dsreplication initialize"].append(asyncio.run(timed(inventory, initialise)))
            runs["LDIF export/import"].append(asyncio.run(timed(inventory, ldif)))
    print(f"initialise node2 with {args.entries} entries (+ base tree) from node1, "
          f"until in sync; {args.rounds} round(s), alternating")
    base = statistics.median(runs["dsreplication initialize"])
    for name, values in runs.items():
        median = statistics.median(values)
        print(f"{name}: median {median:.2f} s (runs {', '.join(f'{v:.2f}' for v in values)}); "
              f"{base / median:.2f}x the dsreplication initialize baseline")


if __name__ == "__main__":
    main()
