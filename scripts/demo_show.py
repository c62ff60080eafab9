"""The demo's second half: the converged lab cluster at work, measured through the tool's
own transports (SSH into each node, then the Gluu container), like an operator would.

Usage: .venv/bin/python scripts/demo_show.py gluu-lab/cluster.yaml
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from gluu_cluster.connection import ClusterConnection, NodeHandle
from gluu_cluster.facts.cache import FactCache
from gluu_cluster.inventory import load_inventory
from gluu_cluster.ldap.engines import engine_for
from gluu_cluster.pki.ca import cluster_ca_pem
from gluu_cluster.pki.checks import cluster_cert_status

DEADLINE = 60.0


async def until(check: Callable[[], Awaitable[bool]], what: str) -> float:
    """Milliseconds until check() is true, polling as fast as one SSH round trip allows."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        if await check():
            return (time.monotonic() - started) * 1000
    raise SystemExit(f"error: {what} did not happen within {DEADLINE:g} s")


async def ldap_write(cluster: ClusterConnection, writer: str, reader: str) -> None:
    inventory = cluster.inventory
    assert inventory.ldap is not None
    engine = engine_for(inventory.ldap)
    uid = f"demo-{int(time.time())}"
    dn = f"uid={uid},ou=people,o=gluu"
    await engine.add(cluster.handle(writer), inventory,
                     f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: Demo User\nsn: User\n")

    async def arrived() -> bool:
        return await engine.exists(cluster.handle(reader), inventory, dn)

    ms = await until(arrived, f"{dn} on {reader}")
    print(f"LDAP ({inventory.ldap.engine}): added {dn} on {writer}; {reader} had it after "
          f"{ms:.0f} ms")


async def file_edit(cluster: ClusterConnection, writer: str, reader: str) -> None:
    path = "/opt/idp/conf/demo.properties"
    text = f"demo.edited={time.strftime('%H:%M:%S')} on {writer}\n"
    w: NodeHandle = cluster.handle(writer)
    r: NodeHandle = cluster.handle(reader)
    await w.container.write_file(path, text)

    async def arrived() -> bool:
        return await r.container.read_file(path) == text.encode()

    ms = await until(arrived, f"{path} on {reader}")
    print(f"files: edited {path} (in the container) on {writer}; {reader} had it after {ms:.0f} ms")


async def fingerprints(cluster: ClusterConnection) -> None:
    ca = cluster_ca_pem(cluster.inventory)
    statuses = await cluster_cert_status(cluster, FactCache(cluster), ca)
    for cert_set, status in zip(cluster.inventory.certificates.sets, statuses, strict=True):
        by_file: dict[str, dict[str, str]] = {}
        for node in status.nodes:
            for row in node.files:
                if row.fingerprint:
                    by_file.setdefault(row.file, {})[node.node] = row.fingerprint
        print(f"certificates of set '{cert_set.name}' (SHA-256 fingerprints):")
        for name, per_node in sorted(by_file.items()):
            values = set(per_node.values())
            verdict = "agree on all nodes" if len(values) == 1 and len(per_node) == len(
                cluster.nodes) else "DIFFER"
            print(f"  {name:<20} {next(iter(values))[:29]}...  {verdict}")


async def main(path: str) -> None:
    inventory = load_inventory(path)
    nodes = [n.name for n in inventory.nodes]
    async with ClusterConnection(inventory) as cluster:
        await ldap_write(cluster, nodes[0], nodes[-1])
        await file_edit(cluster, nodes[1 % len(nodes)], nodes[0])
        await fingerprints(cluster)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
