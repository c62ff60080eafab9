"""Prepare nodes: every node resolves every other node's name (the seed's /etc/hosts step)."""

from __future__ import annotations

from dataclasses import dataclass

from ..connection import ClusterConnection, NodeHandle
from ..plan import Change, NoOp, Outcome, Step
from ..transport import Transport
from .facts import HostsEntry, render_hosts

HOSTS = "/etc/hosts"


@dataclass(frozen=True)
class HostsTarget:
    """One hosts file to rewrite: on the host, or inside the Gluu container."""

    label: str
    transport: Transport
    text: str


class HostsFileStep(Step):
    name = "hosts-file"
    title = "cluster names in /etc/hosts"

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        wanted = [HostsEntry(n.address, (n.name,)) for n in cluster.inventory.nodes]
        transports = [("host", handle.host)]
        if handle.container is not handle.host:
            transports.append((f"container {handle.container_root}", handle.container))
        updates: list[HostsTarget] = []
        details: list[str] = []
        for label, transport in transports:
            current = (await transport.read_file(HOSTS) or b"").decode("utf-8", "replace")
            new, notes = render_hosts(current, wanted)
            if new != current:
                updates.append(HostsTarget(label, transport, new))
                details.append(f"{label}: {HOSTS} gets entries for {len(wanted)} nodes")
                details.extend(f"{label}: {note}" for note in notes)
        if not updates:
            return NoOp(handle.name, self.name, f"{HOSTS} already lists all {len(wanted)} nodes")
        return Change(
            handle.name,
            self.name,
            f"write cluster entries into {HOSTS} ({', '.join(u.label for u in updates)})",
            tuple(details),
            payload=tuple(updates),
        )

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        for update in change.payload:
            await update.transport.write_file(HOSTS, update.text, mode=0o644)
