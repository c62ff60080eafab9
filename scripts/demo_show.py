"""The demo's second half: the converged lab cluster at work, measured through the tool's
own transports (SSH into each node, then the Gluu container), like an operator would.

Usage: .venv/bin/python scripts/demo_show.py gluu-lab/cluster.yaml
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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


def front(path: str) -> None:
    """Through the balancer (the lab's stand-in Gluu application on every node): which
    nodes serve, and a login session started on one node read on another."""
    inventory = load_inventory(path)
    balancer = inventory.load_balancer
    if balancer is None or inventory.cache.type == "none":
        return
    cert = Path(path).parent / "nodes" / inventory.primary_node.name / "root/etc/certs/httpd.crt"
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # addresses, not the certificate's name

    def get(address: str, port: int, url: str) -> dict[str, Any]:
        conn = http.client.HTTPSConnection(address, port, timeout=15, context=context)
        try:
            conn.request("GET", url)
            return dict(json.loads(conn.getresponse().read()))
        finally:
            conn.close()

    served = [get(balancer.host.address, balancer.port, f"/oxauth/demo/{i}")["node"]
              for i in range(2 * len(inventory.nodes))]
    print(f"balancer {balancer.host.name}: {len(served)} requests served by "
          + ", ".join(f"{n} {served.count(n)}" for n in sorted(set(served))))
    made = get(balancer.host.address, balancer.port, "/oxauth/session/new")
    other = next(n for n in inventory.nodes if n.name != made["node"])
    seen = get(other.address, balancer.node_port, f"/oxauth/session/{made['session']}")
    print(f"cache: a session started on {made['node']} (through the balancer) read on "
          f"{other.name}: {'yes' if seen.get('data') else 'NO'}")


async def main(path: str) -> None:
    inventory = load_inventory(path)
    nodes = [n.name for n in inventory.nodes]
    async with ClusterConnection(inventory) as cluster:
        await ldap_write(cluster, nodes[0], nodes[-1])
        await file_edit(cluster, nodes[1 % len(nodes)], nodes[0])
        await fingerprints(cluster)
    front(path)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
