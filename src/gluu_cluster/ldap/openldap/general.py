"""General config (the ldapGeneralConfigInstall.py equivalent) for replication."""

from __future__ import annotations

from dataclasses import dataclass

from ...connection import NodeHandle
from ...inventory import LDAPSettings
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from .common import directory_of, ldap_of, main_db_or_fail
from .desired import (
    REQUIRED_INDEXES,
    ROOT_PEER,
    module_name,
    parse_indexes,
    replicator_acl,
    replicator_limit,
)
from .facts import OPENLDAP_FACTS, LDAPFacts
from .ldif_ops import Modify, add_entry, join


def general_changes(facts: LDAPFacts, settings: LDAPSettings) -> tuple[list[str], str]:
    """(what is missing, the LDIF that adds it); pure, for unit tests."""
    db = main_db_or_fail(facts, settings.suffix)
    notes: list[str] = []
    records: list[str] = []
    wanted_modules = ["syncprov"] + (["accesslog"] if settings.delta_syncrepl else [])
    have = {module_name(m) for m in facts.modules}
    missing_modules = [m for m in wanted_modules if m not in have]
    if missing_modules:
        notes.append(f"load modules {', '.join(missing_modules)}")
        if facts.module_list_dn:
            records.append(Modify(facts.module_list_dn).add("olcModuleLoad", *missing_modules).ldif())
        else:
            records.append(add_entry("cn=module,cn=config", {
                "objectClass": ["olcModuleList"], "cn": ["module"],
                "olcModuleLoad": missing_modules}))
    modify = Modify(db.dn)
    indexes = parse_indexes(db.values("olcDbIndex"))
    missing_idx = [f"{a} {k}" for a, k in REQUIRED_INDEXES if (a, k) not in indexes]
    # slapd builds a new index online, one synced transaction per entry (36,000 entries:
    # ~40 s, and every later cn=config write waits for it); without a sync per entry it
    # takes ~3 s. So no-sync is on while the index is built and off again in this same
    # change (apply then syncs the disk; a killed change is undone by recover).
    unsynced = bool(missing_idx) and db.attrs.first("olcDbNoSync", "FALSE").upper() != "TRUE"
    if unsynced:
        records.append(Modify(db.dn).replace("olcDbNoSync", "TRUE").ldif())
    if missing_idx:
        notes.append(f"index {', '.join(missing_idx)}")
        modify.add("olcDbIndex", *[i.replace("entrycsn", "entryCSN").replace("entryuuid", "entryUUID")
                                   for i in missing_idx])
    if replicator_limit(settings) not in db.values("olcLimits"):
        notes.append(f"no size/time limits for {settings.replicator}")
        modify.add("olcLimits", "{0}" + replicator_limit(settings))
    if replicator_acl(settings) not in db.values("olcAccess"):
        notes.append(f"read access for {settings.replicator}")
        modify.add("olcAccess", "{0}" + replicator_acl(settings))
    current_size = int(db.attrs.first("olcDbMaxSize", "0") or 0)
    if current_size < settings.map_size:
        notes.append(f"map size {current_size or 'default (10 MiB)'} -> {settings.map_size}")
        modify.replace("olcDbMaxSize", str(settings.map_size))
    if modify:
        records.append(modify.ldif())
    if facts.monitor is None:
        notes.append("enable cn=monitor for replication status")
        records.append(add_entry("olcDatabase=monitor,cn=config", {
            "objectClass": ["olcDatabaseConfig"], "olcDatabase": ["monitor"],
            "olcAccess": [f"to * by dn.exact={ROOT_PEER} read by * none"]}))
    if unsynced:  # waits for the index: slapd pauses for a cn=config write
        records.append(sync_back(db.dn))
    return notes, join(*records)


def sync_back(db_dn: str) -> str:
    return Modify(db_dn).replace("olcDbNoSync", "FALSE").ldif()


INDEX_TIMEOUT = 1800.0  # a large directory's new index, built online before the next write


@dataclass(frozen=True)
class GeneralPayload(Payload):
    ldif: str


class LDAPGeneralStep(Step):
    name = "ldap-general"
    title = "LDAP general config"
    tools = ("ldapmodify", "sync")
    reads = touches = (OPENLDAP_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        settings = ldap_of(run.inventory)
        notes, ldif_text = general_changes(await run.facts.of(OPENLDAP_FACTS, handle), settings)
        if not notes:
            return NoOp(handle.name, self.name,
                        "modules, indexes, limits, access and map size are ready for replication")
        return Change(handle.name, self.name, "prepare slapd for replication", tuple(notes),
                      payload=GeneralPayload(ldif_text))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, GeneralPayload)
        await directory_of(handle, ldap_of(run.inventory)).modify(change.payload.ldif, add=True,
                                                                  timeout=INDEX_TIMEOUT)
        await handle.container.run(["sync"], timeout=120)  # what was written without sync

    async def recover(self, handle: NodeHandle, run: Run) -> None:
        """A cut-off change may have left no-sync on: the guide never sets it."""
        settings = ldap_of(run.inventory)
        db = (await run.facts.of(OPENLDAP_FACTS, handle)).database(settings.suffix)
        if db is not None and db.attrs.first("olcDbNoSync", "FALSE").upper() == "TRUE":
            await directory_of(handle, settings).modify(sync_back(db.dn), timeout=INDEX_TIMEOUT)
