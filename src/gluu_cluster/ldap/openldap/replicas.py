"""Initialise new replicas from the primary, then connect every node to every peer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ...connection import NodeHandle
from ...errors import NodeCheckError
from ...inventory import Inventory, LDAPSettings
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from ..engine import InitResult
from .common import directory_of, ldap_of, main_db_or_fail, replication_password
from .desired import ACCESSLOG_SUFFIX, assign_server_ids, provider_url, syncrepl_value
from .directory import NodeDirectory
from .facts import OPENLDAP_FACTS, LDAPFacts, read_facts
from .initialise import initialise
from .ldif_ops import Modify, add_entry
from .service import ensure_running


def data_dirs(facts: LDAPFacts, suffix: str) -> list[str]:
    """The database directories an initialisation replaces: the suffix's and accesslog's."""
    dirs = [main_db_or_fail(facts, suffix).directory]
    log = facts.database(ACCESSLOG_SUFFIX)
    if log is not None:
        dirs.append(log.directory)
    return dirs


async def initialise_from(source: NodeHandle, target: NodeHandle,
                          settings: LDAPSettings) -> InitResult:
    """``ldap init``: the target's facts read now, then slapcat/slapadd."""
    facts = await read_facts(target.container, settings)
    return await initialise_announced(source, target, settings, data_dirs(facts, settings.suffix))


async def initialise_announced(source: NodeHandle, target: NodeHandle, settings: LDAPSettings,
                               dirs: list[str]) -> InitResult:
    """slapcat/slapadd, then this node's announce write: the restarted slapd may give
    this node's server ID a fresh contextCSN no change carries (and, with its consumers
    already in place from a run killed after them, ldap-consumers has nothing to do and
    would not announce it): peers would never agree (CI: 'node2 has nothing' for sid 2)."""
    result = await initialise(source, target, settings, dirs)
    await announce(directory_of(target, settings), settings, target.name)
    return result


def primary_uuid(every: dict[str, LDAPFacts], inventory: Inventory) -> str:
    primary = inventory.primary_node.name
    uuid = every[primary].suffix_uuid
    if uuid is None:
        raise NodeCheckError(primary, f"the primary has no {ldap_of(inventory).suffix} entry: "
                                      "nothing to replicate from")
    return uuid


@dataclass(frozen=True)
class InitPayload(Payload):
    source: str
    data_dirs: tuple[str, ...]


class LDAPInitStep(Step):
    name = "ldap-init"
    title = "initialise replicas"
    tools = ("slapd", "slapcat", "slapadd", "mv", "mkdir", "chmod", "chown")
    reads = touches = (OPENLDAP_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        settings = ldap_of(inventory)
        primary = inventory.primary_node.name
        if handle.name == primary:
            return NoOp(handle.name, self.name, "the primary is the source of the data")
        every = await run.facts.every(OPENLDAP_FACTS)
        facts = every[handle.name]
        redo = (handle.name, self.name) in run.interrupted
        if facts.suffix_uuid == primary_uuid(every, inventory) and not redo:
            return NoOp(handle.name, self.name, f"already a replica of {primary}'s {settings.suffix}")
        return Change(
            handle.name, self.name,
            f"replace this node's {settings.suffix} with {primary}'s (slapcat/slapadd; "
            "the old database is kept aside)",
            ("the previous apply was killed during this node's initialisation: its import "
             "may be partial" if redo else
             f"{handle.name}'s {settings.suffix} was created separately (different entryUUID)",),
            destructive=True,
            payload=InitPayload(primary, tuple(data_dirs(facts, settings.suffix))),
        )

    async def recover(self, handle: NodeHandle, run: Run) -> None:
        # Killed between slapd's stop and its start: start it, so the node can be read.
        await ensure_running(handle, ldap_of(run.inventory))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        planned = change.payload
        assert isinstance(planned, InitPayload)
        await initialise_announced(run.cluster.handle(planned.source), handle,
                                   ldap_of(run.inventory), list(planned.data_dirs))


def desired_syncrepl(inventory: Inventory, node: str, ids: dict[str, int], password: str) -> list[str]:
    settings = ldap_of(inventory)
    return [
        syncrepl_value(ids[peer.name], provider_url(peer.address, settings.port), settings,
                       settings.suffix, password)
        for peer in inventory.nodes if peer.name != node
    ]


@dataclass(frozen=True)
class ConsumersPayload(Payload):
    database_dn: str
    syncrepl: tuple[str, ...] = field(repr=False)  # carry the replicator's credentials


class LDAPConsumersStep(Step):
    name = "ldap-consumers"
    title = "multi-provider replication"
    tools = ("ldapmodify",)
    reads = touches = (OPENLDAP_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        settings = ldap_of(inventory)
        every = await run.facts.every(OPENLDAP_FACTS)
        facts = every[handle.name]
        if facts.suffix_uuid != primary_uuid(every, inventory):
            return NoOp(handle.name, self.name, "not initialised yet: no consumers until it is")
        ids = assign_server_ids({n: f.server_id for n, f in every.items()},
                                [n.name for n in inventory.nodes])
        wanted = desired_syncrepl(inventory, handle.name, ids, replication_password(inventory))
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
            payload=ConsumersPayload(db.dn, tuple(wanted)),
        )

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        planned = change.payload
        assert isinstance(planned, ConsumersPayload)
        settings = ldap_of(run.inventory)
        modify = Modify(planned.database_dn)
        if planned.syncrepl:
            # olcMultiProvider goes in the same modify as the consumers, as slapd requires.
            modify.replace("olcSyncrepl", *planned.syncrepl).replace("olcMultiProvider", "TRUE")
        else:
            modify.replace("olcSyncrepl").replace("olcMultiProvider", "FALSE")
        directory = directory_of(handle, settings)
        await directory.modify(modify.ldif())
        # slapd gives a freshly started provider a contextCSN for its own server ID that
        # no change carries, so peers never learn it and contextCSN sets never agree.
        # One real write from this node makes the ID known.
        await announce(directory, settings, handle.name)


def announce_dn(settings: LDAPSettings, node: str) -> str:
    return f"cn={node},{settings.replicator}"


async def announce(directory: NodeDirectory, settings: LDAPSettings, node: str) -> None:
    """Write this node's own entry under the replicator account.

    Each node writes only its own entry: when every node stamped the one replicator entry,
    two stamps 30 ms apart (sooner than replication) met as a delta-syncrepl conflict that
    slapd resolved differently on each replica (CI, stop 19: three CSNs for one entry)."""
    dn = announce_dn(settings, node)
    text = (f"gluu-cluster: {node} joined replication "
            + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if await directory.entry(dn, attrs=("1.1",)) is None:
        await directory.modify(add_entry(dn, {"objectClass": ["organizationalRole"],
                                              "cn": [node], "description": [text]}), add=True)
    else:
        await directory.modify(Modify(dn).replace("description", text).ldif())
