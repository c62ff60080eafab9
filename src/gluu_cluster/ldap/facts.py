"""What one node's slapd looks like now: cn=config and the replicated suffix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .directory import Entry, NodeDirectory

_INDEX = re.compile(r"^\{-?\d+\}")


def strip_index(value: str) -> str:
    """cn=config ordered values carry a '{n}' prefix; compare without it."""
    return _INDEX.sub("", value, count=1)


@dataclass(frozen=True)
class Database:
    dn: str
    kind: str  # mdb, monitor, config, frontend ...
    suffix: str
    directory: str
    attrs: Entry
    overlays: tuple[Entry, ...] = ()

    def values(self, name: str) -> list[str]:
        return [strip_index(v) for v in self.attrs.get(name)]

    def overlay(self, name: str) -> Entry | None:
        for entry in self.overlays:
            if strip_index(entry.first("olcOverlay")) == name:
                return entry
        return None


@dataclass(frozen=True)
class LDAPFacts:
    node: str
    server_ids: tuple[str, ...]
    modules: tuple[str, ...]
    module_list_dn: str | None
    tls: dict[str, str]
    databases: tuple[Database, ...]
    suffix_uuid: str | None
    context_csns: tuple[str, ...]
    replicator_exists: bool = False

    def database(self, suffix: str) -> Database | None:
        for db in self.databases:
            if db.suffix.lower() == suffix.lower():
                return db
        return None

    @property
    def monitor(self) -> Database | None:
        return next((db for db in self.databases if db.kind == "monitor"), None)

    @property
    def server_id(self) -> int | None:
        for value in self.server_ids:
            first = value.split()[0]
            if first.isdigit() and int(first) > 0:
                return int(first)
        return None


async def read_facts(directory: NodeDirectory, suffix: str, replicator_dn: str) -> LDAPFacts:
    # One search for all of cn=config except the (large, unchanging) schema.
    everything = await directory.search(
        "cn=config", "sub",
        "(|(objectClass=olcGlobal)(objectClass=olcModuleList)(objectClass=olcDatabaseConfig)"
        "(objectClass=olcOverlayConfig))", ["*"])

    def of(kind: str) -> list[Entry]:
        return [e for e in everything if kind in {c.lower() for c in e.get("objectClass")}]

    config = of("olcglobal")[0]
    modules, dbs, overlays = of("olcmodulelist"), of("olcdatabaseconfig"), of("olcoverlayconfig")
    databases = []
    for db in dbs:
        kind = re.sub(r"^\{-?\d+\}", "", db.first("olcDatabase"))
        own = tuple(o for o in overlays if o.dn.lower().endswith("," + db.dn.lower()))
        databases.append(
            Database(db.dn, kind, db.first("olcSuffix"), db.first("olcDbDirectory"), db, own)
        )
    suffix_entry = await directory.entry(suffix, ["entryUUID", "contextCSN"])
    replicator = await directory.entry(replicator_dn, ["1.1"])
    return LDAPFacts(
        node=directory.node,
        server_ids=tuple(config.get("olcServerID")),
        modules=tuple(strip_index(v) for m in modules for v in m.get("olcModuleLoad")),
        module_list_dn=modules[0].dn if modules else None,
        tls={k: config.first(k) for k in ("olcTLSCACertificateFile", "olcTLSCertificateFile",
                                          "olcTLSCertificateKeyFile", "olcTLSProtocolMin")},
        databases=tuple(databases),
        suffix_uuid=suffix_entry.first("entryUUID") or None if suffix_entry else None,
        context_csns=tuple(sorted(suffix_entry.get("contextCSN"))) if suffix_entry else (),
        replicator_exists=replicator is not None,
    )
