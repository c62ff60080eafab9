"""Make every node a provider: server ID, syncprov, accesslog, the replicator account."""

from __future__ import annotations

import posixpath

from ...connection import ClusterConnection, NodeHandle
from ...inventory import LDAPSettings
from ...plan import Change, NoOp, Outcome, Step
from ...secrets import Secret
from .bind import admin_bind
from .common import LDAPRun, directory_of, ldap_of, main_db_or_fail
from .desired import (
    ACCESSLOG_SUFFIX,
    ROOT_PEER,
    assign_server_ids,
    replicator_limit,
)
from .facts import LDAPFacts
from .ldif_ops import Modify, add_entry, join
from .passwords import ssha


def accesslog_dir(main_dir: str) -> str:
    return posixpath.join(posixpath.dirname(main_dir.rstrip("/")), "accesslog")


def provider_changes(facts: LDAPFacts, settings: LDAPSettings, server_id: int) -> tuple[list[str], list[str]]:
    """(notes, LDIF records in order) to make this node a provider; pure, for unit tests."""
    db = main_db_or_fail(facts, settings.suffix)
    notes: list[str] = []
    records: list[str] = []
    if facts.server_id != server_id:
        notes.append(f"server ID {server_id}")
        records.append(Modify("cn=config").replace("olcServerID", str(server_id)).ldif())
    log = facts.database(ACCESSLOG_SUFFIX)
    if settings.delta_syncrepl and log is None:
        notes.append(f"accesslog database {ACCESSLOG_SUFFIX} in {accesslog_dir(db.directory)}")
        records.append(add_entry("olcDatabase=mdb,cn=config", {
            "objectClass": ["olcDatabaseConfig", "olcMdbConfig"],
            "olcDatabase": ["mdb"],
            "olcDbDirectory": [accesslog_dir(db.directory)],
            "olcSuffix": [ACCESSLOG_SUFFIX],
            "olcDbMaxSize": [str(settings.map_size)],
            "olcDbIndex": ["default eq", "entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN"],
            "olcLimits": [replicator_limit(settings)],
            "olcAccess": [f'to * by dn.exact="{settings.replicator}" read '
                          f"by dn.exact={ROOT_PEER} manage by * none"],
        }))
    if settings.delta_syncrepl and (log is None or log.overlay("syncprov") is None):
        records.append(add_entry(f"olcOverlay=syncprov,{log.dn if log else _next_db_dn(facts)}", {
            "objectClass": ["olcOverlayConfig", "olcSyncProvConfig"],
            "olcOverlay": ["syncprov"], "olcSpNoPresent": ["TRUE"], "olcSpReloadHint": ["TRUE"]}))
    if db.overlay("syncprov") is None:
        notes.append("syncprov overlay")
        records.append(add_entry(f"olcOverlay=syncprov,{db.dn}", {
            "objectClass": ["olcOverlayConfig", "olcSyncProvConfig"],
            "olcOverlay": ["syncprov"], "olcSpCheckpoint": ["100 10"],
            "olcSpSessionLog": ["10000"]}))
    if settings.delta_syncrepl and db.overlay("accesslog") is None:
        notes.append("accesslog overlay (delta-syncrepl)")
        records.append(add_entry(f"olcOverlay=accesslog,{db.dn}", {
            "objectClass": ["olcOverlayConfig", "olcAccessLogConfig"],
            "olcOverlay": ["accesslog"], "olcAccessLogDB": [ACCESSLOG_SUFFIX],
            "olcAccessLogOps": ["writes"], "olcAccessLogSuccess": ["TRUE"],
            "olcAccessLogPurge": ["07+00:00 01+00:00"]}))
    return notes, records


def _next_db_dn(facts: LDAPFacts) -> str:
    """The DN slapd gives the database we are about to add (appended last)."""
    numbers = [int(db.dn.split("}")[0].split("{")[1]) for db in facts.databases
               if db.dn.startswith("olcDatabase={")]
    return f"olcDatabase={{{max(numbers) + 1}}}mdb,cn=config"


class LDAPProviderStep(Step):
    name = "ldap-provider"
    title = "LDAP provider (server ID, syncprov, accesslog, replicator)"

    def __init__(self, run: LDAPRun) -> None:
        self.run = run
        self._ids: dict[str, int] = {}
        self._facts: dict[str, LDAPFacts] = {}

    async def prepare(self, cluster: ClusterConnection) -> None:
        settings = ldap_of(cluster)
        self._facts = await self.run.all_facts(cluster, settings)
        self._ids = assign_server_ids({n: f.server_id for n, f in self._facts.items()},
                                      [n.name for n in cluster.inventory.nodes])

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        inventory = cluster.inventory
        settings = ldap_of(cluster)
        facts = self._facts[handle.name]
        notes, records = provider_changes(facts, settings, self._ids[handle.name])
        password = self.run.replication_password(inventory)
        account = None
        if handle.name == inventory.primary_node.name:
            account = await self._account_change(handle, settings, facts, password)
            if account:
                notes.append(account[0])
        if not notes and not records:
            return NoOp(handle.name, self.name, f"server ID {self._ids[handle.name]}, syncprov"
                        + (", accesslog" if settings.delta_syncrepl else "") + " in place")
        db = main_db_or_fail(facts, settings.suffix)
        return Change(handle.name, self.name, "make the node a replication provider", tuple(notes),
                      payload=(settings, records, accesslog_dir(db.directory),
                               account[1] if account else None))

    async def _account_change(self, handle: NodeHandle, settings: LDAPSettings,
                              facts: LDAPFacts, password: str) -> tuple[str, str] | None:
        if not facts.replicator_exists:
            return (f"create {settings.replicator}", add_entry(settings.replicator, {
                "objectClass": ["organizationalRole", "simpleSecurityObject"],
                "cn": [settings.replicator.split(",")[0].split("=", 1)[1]],
                "description": ["gluu-cluster replication account: read only"],
                "userPassword": [ssha(password)]}))
        bind = await admin_bind(handle.container, settings.ldapi_socket, settings.replicator,
                                Secret("replication", password))
        if bind.ok:
            return None
        return (f"reset the password of {settings.replicator}",
                Modify(settings.replicator).replace("userPassword", ssha(password)).ldif())

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        settings, records, log_dir, account = change.payload
        container = handle.container
        if settings.delta_syncrepl:
            await container.run(["mkdir", "-p", log_dir])
            await container.run(["chmod", "700", log_dir])
            if settings.run_as:
                await container.run(["chown", settings.run_as, log_dir])
        directory = directory_of(handle, settings)
        if records:
            await directory.modify(join(*records), add=True)
        if account:
            await directory.modify(account, add=True)
        self.run.changed(handle.name)
