"""Open transports to every node of an inventory and close them together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from .errors import GluuClusterError, TransportError
from .inventory import Inventory, Node
from .transport import LocalTransport, SSHTarget, SSHTransport, Transport, in_container
from .transport.down import DownTransport

T = TypeVar("T")
# Where a step or fact area runs: every node, the load balancer's host, the cache's host.
Scope = Literal["nodes", "balancer", "cache"]


@dataclass
class NodeHandle:
    """One node: its inventory entry, the host transport and the container transport."""

    node: Node
    host: Transport
    container: Transport
    container_root: str

    @property
    def name(self) -> str:
        return self.node.name


def _transport_for(inventory: Inventory, node: Node, accept_new: bool) -> Transport:
    ssh = inventory.ssh_for(node)
    if node.connection == "local":
        return LocalTransport(node.name, ssh.command_timeout)
    known_hosts = (
        inventory.local_path(ssh.known_hosts)
        if ssh.known_hosts
        else Path("~/.ssh/known_hosts").expanduser()
    )
    identity = inventory.local_path(ssh.identity_file) if ssh.identity_file else None
    return SSHTransport(
        SSHTarget(
            node=node.name,
            address=node.address,
            port=ssh.port,
            user=ssh.user,
            identity_file=identity,
            known_hosts=known_hosts,
            connect_timeout=ssh.connect_timeout,
            command_timeout=ssh.command_timeout,
            accept_new_host_keys=accept_new,
        )
    )


class ClusterConnection:
    """Transports for every node; use as ``async with ClusterConnection(inv) as cluster``."""

    def __init__(self, inventory: Inventory, *, accept_new_host_keys: bool = False) -> None:
        self.inventory = inventory
        self.nodes: list[NodeHandle] = []
        # Nodes probe() found unreachable: fact scripts that ask peers leave them out, so
        # a stalled node costs one connect timeout, not one per peer and question.
        self.down: frozenset[str] = frozenset()
        for node in inventory.nodes:
            host = _transport_for(inventory, node, accept_new_host_keys)
            root = inventory.container_root_of(node)
            self.nodes.append(NodeHandle(node, host, in_container(host, root), root))
        # The hosts of their own (load balancer, cache), reached the same way; steps and
        # fact areas of scope "balancer"/"cache" run there, those of "nodes" never do.
        self.services: list[NodeHandle] = []
        for service in inventory.service_hosts().values():
            root = inventory.container_root_of(service)
            as_node = Node(**service.model_dump())
            host = _transport_for(inventory, as_node, accept_new_host_keys)
            self.services.append(NodeHandle(as_node, host, in_container(host, root), root))

    def scope(self, scope: Scope) -> list[NodeHandle]:
        """The handles a step or fact area of this scope runs on."""
        if scope == "nodes":
            return self.nodes
        inventory = self.inventory
        if scope == "balancer":
            lb = inventory.load_balancer
            return [self.handle(lb.host.name)] if lb is not None else []
        host = inventory.cache_host()
        return [self.handle(host.name)] if host is not None else []

    def handle(self, name: str) -> NodeHandle:
        for handle in [*self.nodes, *self.services]:
            if handle.name == name:
                return handle
        self.inventory.node(name)  # raises the inventory's "no node named" error
        raise AssertionError("unreachable")

    async def each(
        self, func: Callable[[NodeHandle], Awaitable[T]],
        handles: Sequence[NodeHandle] | None = None,
    ) -> list[tuple[NodeHandle, T | GluuClusterError]]:
        """Run func on every node (or on ``handles``) in parallel; a node's error is
        returned, not raised."""
        chosen = list(self.nodes if handles is None else handles)

        async def guarded(handle: NodeHandle) -> T | GluuClusterError:
            try:
                return await func(handle)
            except GluuClusterError as exc:
                return exc

        results = await asyncio.gather(*(guarded(h) for h in chosen))
        return list(zip(chosen, results, strict=True))

    async def probe(self) -> dict[str, TransportError]:
        """Reach every node once, in parallel; the unreachable ones (returned) fail every
        later command at once instead of each waiting for the connect timeout."""

        async def reach(handle: NodeHandle) -> None:
            await handle.host.connect()  # a login, no command: the first read follows

        down: dict[str, TransportError] = {}
        for handle, result in await self.each(reach, [*self.nodes, *self.services]):
            if isinstance(result, TransportError):
                down[handle.name] = result
                await handle.host.close()
                handle.host = DownTransport(handle.name, result)
                handle.container = handle.host
        self.down = frozenset(down)
        return down

    async def close(self) -> None:
        await asyncio.gather(*(h.host.close() for h in [*self.nodes, *self.services]),
                             return_exceptions=True)

    async def __aenter__(self) -> ClusterConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
