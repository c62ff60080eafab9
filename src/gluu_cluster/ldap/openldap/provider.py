"""Make every node a provider: server ID, syncprov, accesslog, the replicator account."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ...connection import NodeHandle
from ...facts.cache import ScriptArea
from ...inventory import LDAPSettings
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from ..engine import BIND_SCRIPT
from .bind import bind_command, bind_result
from .common import directory_of, ldap_of, main_db_or_fail, replication_password
from .desired import (
    ACCESSLOG_SUFFIX,
    ROOT_PEER,
    assign_server_ids,
    replicator_limit,
)
from .facts import OPENLDAP_FACTS, LDAPFacts
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


# Whether the replicator account's password is the inventory's (asked of the primary).
REPLICATOR_BIND = ScriptArea(
    "ldap-replicator-bind", BIND_SCRIPT,
    lambda _handle, inventory, _down: bind_command(ldap_of(inventory).ldapi_socket,
                                            ldap_of(inventory).replicator),
    lambda _node, _inventory, sections: bind_result(sections["bind"]),
    stdin=lambda inventory: replication_password(inventory).encode())


@dataclass(frozen=True)
class ProviderPayload(Payload):
    records: tuple[str, ...]  # LDIF, in order
    accesslog_dir: str
    # LDIF creating or resetting the replicator account: it carries the password hash.
    account: str | None = field(repr=False)


class LDAPProviderStep(Step):
    name = "ldap-provider"
    title = "LDAP provider (server ID, syncprov, accesslog, replicator)"
    tools = ("mkdir", "chmod", "chown", "ldapmodify", "ldapwhoami")
    reads = (OPENLDAP_FACTS,)
    touches = (OPENLDAP_FACTS, REPLICATOR_BIND)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        settings = ldap_of(inventory)
        every = await run.facts.every(OPENLDAP_FACTS)
        ids = assign_server_ids({n: f.server_id for n, f in every.items()},
                                [n.name for n in inventory.nodes])
        facts = every[handle.name]
        notes, records = provider_changes(facts, settings, ids[handle.name])
        password = replication_password(inventory)
        account = None
        if handle.name == inventory.primary_node.name:
            account = await self._account_change(handle, run, settings, facts, password)
            if account:
                notes.append(account[0])
        if not notes and not records:
            return NoOp(handle.name, self.name, f"server ID {ids[handle.name]}, syncprov"
                        + (", accesslog" if settings.delta_syncrepl else "") + " in place")
        db = main_db_or_fail(facts, settings.suffix)
        return Change(handle.name, self.name, "make the node a replication provider", tuple(notes),
                      payload=ProviderPayload(tuple(records), accesslog_dir(db.directory),
                                              account[1] if account else None))

    async def _account_change(self, handle: NodeHandle, run: Run, settings: LDAPSettings,
                              facts: LDAPFacts, password: str) -> tuple[str, str] | None:
        if not facts.replicator_exists:
            return (f"create {settings.replicator}", add_entry(settings.replicator, {
                "objectClass": ["organizationalRole", "simpleSecurityObject"],
                "cn": [settings.replicator.split(",")[0].split("=", 1)[1]],
                "description": ["gluu-cluster replication account: read only"],
                "userPassword": [ssha(password)]}))
        bind = await run.facts.of(REPLICATOR_BIND, handle)
        if bind.ok:
            return None
        return (f"reset the password of {settings.replicator}",
                Modify(settings.replicator).replace("userPassword", ssha(password)).ldif())

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        planned = change.payload
        assert isinstance(planned, ProviderPayload)
        settings = ldap_of(run.inventory)
        container = handle.container
        if settings.delta_syncrepl:
            await container.run(["mkdir", "-p", planned.accesslog_dir])
            await container.run(["chmod", "700", planned.accesslog_dir])
            if settings.run_as:
                await container.run(["chown", settings.run_as, planned.accesslog_dir])
        directory = directory_of(handle, settings)
        if planned.records:
            await directory.modify(join(*planned.records), add=True)
        if planned.account:
            await directory.modify(planned.account, add=True)
