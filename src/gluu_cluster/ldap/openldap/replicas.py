"""Initialise new replicas from the primary, then connect every node to every peer."""

from __future__ import annotations

import asyncio
import time

from ...connection import ClusterConnection, NodeHandle
from ...errors import NodeCheckError
from ...inventory import Inventory, LDAPSettings
from ...plan import Change, NoOp, Outcome, Step
from ..agreement import SyncPoint, behind
from .common import LDAPRun, directory_of, ldap_of, main_db_or_fail, node_facts
from .desired import ACCESSLOG_SUFFIX, assign_server_ids, provider_url, syncrepl_value
from .facts import LDAPFacts
from .initialise import initialise
from .ldif_ops import Modify
from .service import ensure_running

SYNC_DEADLINE = 120.0


class _ClusterFactsStep(Step):
    """Reads every node's LDAP facts once per planning pass."""

    def __init__(self, run: LDAPRun) -> None:
        self.run = run
        self._facts: dict[str, LDAPFacts] = {}

    async def prepare(self, cluster: ClusterConnection) -> None:
        self._facts = await self.run.all_facts(cluster, ldap_of(cluster))

    def primary_uuid(self, inventory: Inventory) -> str:
        primary = inventory.primary_node.name
        uuid = self._facts[primary].suffix_uuid
        if uuid is None:
            assert inventory.ldap is not None
            raise NodeCheckError(primary, f"the primary has no {inventory.ldap.suffix} entry: "
                                          "nothing to replicate from")
        return uuid


class LDAPInitStep(_ClusterFactsStep):
    name = "ldap-init"
    title = "initialise replicas"

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        inventory = cluster.inventory
        settings = ldap_of(cluster)
        primary = inventory.primary_node.name
        if handle.name == primary:
            return NoOp(handle.name, self.name, "the primary is the source of the data")
        facts = self._facts[handle.name]
        redo = (handle.name, self.name) in cluster.interrupted
        if facts.suffix_uuid == self.primary_uuid(inventory) and not redo:
            return NoOp(handle.name, self.name, f"already a replica of {primary}'s {settings.suffix}")
        dirs = [main_db_or_fail(facts, settings.suffix).directory]
        log = facts.database(ACCESSLOG_SUFFIX)
        if log is not None:
            dirs.append(log.directory)
        return Change(
            handle.name, self.name,
            f"replace this node's {settings.suffix} with {primary}'s (slapcat/slapadd; "
            "the old database is kept aside)",
            ("the previous apply was killed during this node's initialisation: its import "
             "may be partial" if redo else
             f"{handle.name}'s {settings.suffix} was created separately (different entryUUID)",),
            destructive=True,
            payload=(cluster.handle(primary), settings, dirs),
        )

    async def recover(self, handle: NodeHandle, cluster: ClusterConnection) -> None:
        # Killed between slapd's stop and its start: start it, so the node can be read.
        await ensure_running(handle, ldap_of(cluster))

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        source, settings, dirs = change.payload
        await initialise(source, handle, settings, dirs)
        self.run.changed(handle.name)


def desired_syncrepl(inventory: Inventory, node: str, ids: dict[str, int], password: str) -> list[str]:
    settings = inventory.ldap
    assert settings is not None
    return [
        syncrepl_value(ids[peer.name], provider_url(peer.address, settings.port), settings,
                       settings.suffix, password)
        for peer in inventory.nodes if peer.name != node
    ]


class LDAPConsumersStep(_ClusterFactsStep):
    name = "ldap-consumers"
    title = "multi-provider replication"

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        inventory = cluster.inventory
        settings = ldap_of(cluster)
        facts = self._facts[handle.name]
        if facts.suffix_uuid != self.primary_uuid(inventory):
            return NoOp(handle.name, self.name, "not initialised yet: no consumers until it is")
        ids = assign_server_ids({n: f.server_id for n, f in self._facts.items()},
                                [n.name for n in inventory.nodes])
        wanted = desired_syncrepl(inventory, handle.name, ids,
                                  self.run.replication_password(inventory))
        db = main_db_or_fail(facts, settings.suffix)
        current = db.values("olcSyncrepl")
        multi = db.attrs.first("olcMultiProvider", "FALSE").upper() == "TRUE"
        peers = [n.name for n in inventory.nodes if n.name != handle.name]
        if sorted(current) == sorted(wanted) and (multi or not wanted):
            return NoOp(handle.name, self.name,
                        f"consumes from {', '.join(peers)}" if peers else "single node")
        added = len([w for w in wanted if w not in current])
        dropped = len([c for c in current if c not in wanted])
        return Change(
            handle.name, self.name,
            f"replicate from {', '.join(peers) or 'nobody'} (multi-provider)",
            (f"{added} syncrepl consumer(s) added or changed, {dropped} removed",),
            payload=(settings, db.dn, wanted),
        )

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        settings, db_dn, wanted = change.payload
        modify = Modify(db_dn)
        if wanted:
            # olcMultiProvider goes in the same modify as the consumers, as slapd requires.
            modify.replace("olcSyncrepl", *wanted).replace("olcMultiProvider", "TRUE")
        else:
            modify.replace("olcSyncrepl").replace("olcMultiProvider", "FALSE")
        directory = directory_of(handle, settings)
        await directory.modify(modify.ldif())
        # slapd gives a freshly started provider a contextCSN for its own server ID that
        # no change carries, so peers never learn it and contextCSN sets never agree.
        # One real write from this node (on our own account entry) makes the ID known.
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        await directory.modify(Modify(settings.replicator).replace(
            "description", f"gluu-cluster replication account (read only); {handle.name} "
            f"joined {stamp}").ldif())
        self.run.changed(handle.name)


SyncState = dict[str, SyncPoint]


async def sync_state(cluster: ClusterConnection, settings: LDAPSettings) -> SyncState:
    results = await asyncio.gather(*(node_facts(h, settings) for h in cluster.nodes))
    return {f.node: SyncPoint(f.entries or 0, f.context_csns, f.server_id) for f in results}


async def wait_in_sync(cluster: ClusterConnection, settings: LDAPSettings,
                       deadline_s: float = SYNC_DEADLINE) -> SyncState:
    deadline = time.monotonic() + deadline_s
    while True:
        state = await sync_state(cluster, settings)
        lagging = behind(state)
        if not lagging:
            return state
        if time.monotonic() > deadline:
            raise NodeCheckError(
                ", ".join(lagging),
                f"LDAP not in sync after {deadline_s:g} s: "
                + "; ".join(f"{n}: {why}" for n, why in lagging.items())
                + "; check 'gluu-cluster ldap status'",
            )
        await asyncio.sleep(0.5)
