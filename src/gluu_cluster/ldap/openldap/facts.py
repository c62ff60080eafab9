"""What one node's slapd looks like now: cn=config and the replicated suffix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...facts.script import Section, Sections, run_script
from ...transport import Transport
from .directory import NO_SUCH_OBJECT, Entry, LDAPCommandError, ldapi_url, parse_entries

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
class Consumer:
    """One syncrepl consumer as cn=monitor shows it."""

    rid: str
    provider: str
    phase: str
    connected: bool
    last_contact: str


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
    entries: int | None = None
    consumers: tuple[Consumer, ...] = ()

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


# Everything status and the steps need from one slapd, in one round trip.
# $1 ldapi URL, $2 the replicated suffix, $3 the replicator's DN.
FACT_SCRIPT = r"""
url=$1 suffix=$2 replicator=$3
q() { ldapsearch -LLL -Q -Y EXTERNAL -H "$url" -o ldif-wrap=no "$@"; }
count() {
  q -b "$suffix" -s sub "(objectClass=*)" 1.1 > "$_gluu_tmp/dns"; rc=$?
  grep -c '^dn:' "$_gluu_tmp/dns"
  return $rc
}
kinds="(objectClass=olcGlobal)(objectClass=olcModuleList)"
kinds="$kinds(objectClass=olcDatabaseConfig)(objectClass=olcOverlayConfig)"
section config q -b cn=config -s sub "(|$kinds)" '*'
section suffix q -b "$suffix" -s base "(objectClass=*)" entryUUID contextCSN
section replicator q -b "$replicator" -s base "(objectClass=*)" 1.1
section entries count
section consumers q -b cn=monitor -s sub "(objectClass=olmSyncReplInstance)" '*' '+'
"""

FACT_TIMEOUT = 300.0


def _entries(section: Section, what: str, node: str) -> list[Entry]:
    if section.exit_code == NO_SUCH_OBJECT:
        return []
    if not section.ok:
        raise LDAPCommandError(node, f"ldapsearch of {what} failed: {section.first_error_line()}; "
                               "check that slapd runs inside the container")
    return parse_entries(section.stdout)


def _consumer(entry: Entry) -> Consumer:
    return Consumer(
        rid=entry.first("cn").replace("Consumer ", ""),
        provider=entry.first("olmSRProviderURIList"),
        phase=entry.first("olmSRSyncPhase"),
        connected=bool(entry.first("olmSRConnection")),
        last_contact=entry.first("olmSRLastContact"),
    )


def parse_facts(node: str, sections: Sections) -> LDAPFacts:
    """Pure: a node's LDAPFacts from the fact script's sections."""
    everything = _entries(sections["config"], "cn=config", node)

    def of(kind: str) -> list[Entry]:
        return [e for e in everything if kind in {c.lower() for c in e.get("objectClass")}]

    globals_ = of("olcglobal")
    if not globals_:
        raise LDAPCommandError(node, "cn=config has no global entry: is this slapd's cn=config?")
    config = globals_[0]
    modules, dbs, overlays = of("olcmodulelist"), of("olcdatabaseconfig"), of("olcoverlayconfig")
    databases = []
    for db in dbs:
        kind = strip_index(db.first("olcDatabase"))
        own = tuple(o for o in overlays if o.dn.lower().endswith("," + db.dn.lower()))
        databases.append(
            Database(db.dn, kind, db.first("olcSuffix"), db.first("olcDbDirectory"), db, own)
        )
    suffix_entry = next(iter(_entries(sections["suffix"], "the suffix", node)), None)
    replicator = _entries(sections["replicator"], "the replicator", node)
    count = sections["entries"]
    entries = int(count.out.strip() or 0) if count.ok or count.exit_code == NO_SUCH_OBJECT else None
    consumers = _entries(sections["consumers"], "cn=monitor", node) if sections["consumers"].ok else []
    return LDAPFacts(
        node=node,
        server_ids=tuple(config.get("olcServerID")),
        modules=tuple(strip_index(v) for m in modules for v in m.get("olcModuleLoad")),
        module_list_dn=modules[0].dn if modules else None,
        tls={k: config.first(k) for k in ("olcTLSCACertificateFile", "olcTLSCertificateFile",
                                          "olcTLSCertificateKeyFile", "olcTLSProtocolMin")},
        databases=tuple(databases),
        suffix_uuid=suffix_entry.first("entryUUID") or None if suffix_entry else None,
        context_csns=tuple(sorted(suffix_entry.get("contextCSN"))) if suffix_entry else (),
        replicator_exists=bool(replicator),
        entries=entries,
        consumers=tuple(sorted((_consumer(e) for e in consumers), key=lambda c: c.rid)),
    )


async def read_facts(container: Transport, socket_path: str, suffix: str,
                     replicator_dn: str) -> LDAPFacts:
    sections = await run_script(container, "ldap", FACT_SCRIPT,
                                [ldapi_url(socket_path), suffix, replicator_dn], FACT_TIMEOUT)
    return parse_facts(container.node, sections)
