"""Prepare nodes: every node resolves every other node's name (the seed's /etc/hosts step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..connection import NodeHandle
from ..plan import Change, NoOp, Outcome, Payload, Run, Step
from .facts import HOSTS, HOSTS_FACTS, HostsEntry, render_hosts


@dataclass(frozen=True)
class HostsUpdate:
    """One hosts file to rewrite: on the host, or inside the Gluu container."""

    where: Literal["host", "container"]
    label: str
    text: str


@dataclass(frozen=True)
class HostsPayload(Payload):
    updates: tuple[HostsUpdate, ...]


class HostsFileStep(Step):
    name = "hosts-file"
    title = "cluster names in /etc/hosts"
    reads = touches = (HOSTS_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        wanted = [HostsEntry(n.address, (n.name,)) for n in run.inventory.nodes]
        facts = await run.facts.of(HOSTS_FACTS, handle)
        files: list[tuple[Literal["host", "container"], str, str]] = [("host", "host", facts.host)]
        if facts.container is not None:
            files.append(("container", f"container {handle.container_root}", facts.container))
        updates: list[HostsUpdate] = []
        details: list[str] = []
        for where, label, current in files:
            new, notes = render_hosts(current, wanted)
            if new != current:
                updates.append(HostsUpdate(where, label, new))
                details.append(f"{label}: {HOSTS} gets entries for {len(wanted)} nodes")
                details.extend(f"{label}: {note}" for note in notes)
        if not updates:
            return NoOp(handle.name, self.name, f"{HOSTS} already lists all {len(wanted)} nodes")
        return Change(
            handle.name,
            self.name,
            f"write cluster entries into {HOSTS} ({', '.join(u.label for u in updates)})",
            tuple(details),
            payload=HostsPayload(tuple(updates)),
        )

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, HostsPayload)
        for update in change.payload.updates:
            transport = handle.host if update.where == "host" else handle.container
            await transport.write_file(HOSTS, update.text, mode=0o644)
