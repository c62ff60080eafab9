"""Reading and writing lab directories through the tool's own transports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.inventory import Inventory
from gluu_cluster.ldap.openldap.directory import NodeDirectory


def directory(cluster: ClusterConnection, node: str) -> NodeDirectory:
    assert cluster.inventory.ldap is not None
    return NodeDirectory(cluster.handle(node).container, cluster.inventory.ldap.ldapi_socket)


def person(uid: str, extra: str = "") -> str:
    return (f"dn: uid={uid},ou=people,o=gluu\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {uid}\nsn: test\n{extra}\n")


async def eventually(check: Callable[[], Awaitable[bool]], deadline_s: float, what: str) -> float:
    """Poll until check() is true; return the seconds it took, fail after the deadline."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > deadline_s:
            raise AssertionError(f"not within {deadline_s} s: {what}")
        await asyncio.sleep(0.2)


async def has(cluster: ClusterConnection, node: str, dn: str) -> bool:
    return await directory(cluster, node).entry(dn, ["1.1"]) is not None


def run(inventory: Inventory, func: Callable[[ClusterConnection], Awaitable[object]]) -> object:
    async def go() -> object:
        async with ClusterConnection(inventory) as cluster:
            return await func(cluster)

    return asyncio.run(go())
