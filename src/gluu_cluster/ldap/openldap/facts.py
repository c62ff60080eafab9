"""What one node's slapd looks like now: cn=config and the replicated suffix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ...errors import LDAPCommandError
from ...facts.cache import ScriptArea
from ...facts.script import Section, Sections, run_script
from ...inventory import Inventory, LDAPSettings
from ...transport import Transport
from ..engine import Link
from ..entry import Entry, parse_entries
from .desired import CA_FILE, CERT_FILE, KEY_FILE, strip_index
from .directory import NO_SUCH_OBJECT, ldapi_url


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
    entries: int | None = None
    consumers: tuple[Link, ...] = ()  # syncrepl consumers as cn=monitor shows them
    # The TLS files slapd is to use (desired.CA_FILE ...): None where missing.
    tls_ca: bytes | None = None
    tls_cert: bytes | None = None
    tls_key_mode: int | None = None

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
# $1 ldapi URL, $2 the replicated suffix, $3 the replicator's DN, $4-$6 the TLS CA,
# certificate and key files slapd is to use.
FACT_SCRIPT = r"""
url=$1 suffix=$2 replicator=$3 tls_ca=$4 tls_cert=$5 tls_key=$6
q() { ldapsearch -LLL -Q -Y EXTERNAL -H "$url" -o ldif-wrap=no "$@"; }
# The suffix's entries: slapd's own count (cn=monitor, once ldap-general enabled it) if
# it has one; else every DN listed and counted (36,000 entries: megabytes per read).
monitored() {
  q -b cn=Databases,cn=Monitor -s one "(olmMDBEntries=*)" namingContexts olmMDBEntries \
    2>/dev/null | awk -v s="$suffix" '
      function flush() { if (hit && n != "" && !done) { print n; done = 1 } hit = 0; n = "" }
      /^namingContexts: / { if (tolower(substr($0, 17)) == tolower(s)) hit = 1 }
      /^olmMDBEntries: / { n = $2 }
      /^$/ { flush() }
      END { flush() }'
}
count() {
  n=$(monitored)
  if [ -n "$n" ]; then echo "$n"; return 0; fi
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
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
section tls-ca present "$tls_ca"
section tls-cert present "$tls_cert"
section tls-key-mode stat -c %a -- "$tls_key"
"""

FACT_TIMEOUT = 300.0


def _entries(section: Section, what: str, node: str) -> list[Entry]:
    if section.exit_code == NO_SUCH_OBJECT:
        return []
    if not section.ok:
        raise LDAPCommandError(node, f"ldapsearch of {what} failed: {section.first_error_line()}; "
                               "check that slapd runs inside the container")
    return parse_entries(section.stdout)


def _consumer(entry: Entry) -> Link:
    return Link(
        id=entry.first("cn").replace("Consumer ", ""),
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
        consumers=tuple(sorted((_consumer(e) for e in consumers), key=lambda c: c.id)),
        tls_ca=sections["tls-ca"].stdout if sections["tls-ca"].ok else None,
        tls_cert=sections["tls-cert"].stdout if sections["tls-cert"].ok else None,
        tls_key_mode=int(mode, 8) if sections["tls-key-mode"].ok and (
            mode := sections["tls-key-mode"].out.strip()).isdigit() else None,
    )


def _ldap(inventory: Inventory) -> LDAPSettings:
    assert inventory.ldap is not None, "LDAP facts are read only for an inventory with 'ldap'"
    return inventory.ldap


def _args(settings: LDAPSettings) -> list[str]:
    return [ldapi_url(settings.ldapi_socket), settings.suffix, settings.replicator,
            CA_FILE, CERT_FILE, KEY_FILE]


async def read_facts(container: Transport, settings: LDAPSettings) -> LDAPFacts:
    """The facts read now, outside a run's cache (``ldap init``)."""
    sections = await run_script(container, "ldap", FACT_SCRIPT, _args(settings), FACT_TIMEOUT)
    return parse_facts(container.node, sections)


OPENLDAP_FACTS = ScriptArea("ldap", FACT_SCRIPT, lambda _handle, inventory, _down: _args(_ldap(inventory)),
                            lambda node, _inventory, sections: parse_facts(node, sections),
                            timeout=lambda _inventory: FACT_TIMEOUT)

# The schema slapd loaded from files, read by the schema step only (it is large).
SCHEMA_ATTRS = ("olcAttributeTypes", "olcObjectClasses", "olcObjectIdentifier", "olcLdapSyntaxes",
                "olcDitContentRules")
SCHEMA_SCRIPT = r"""
section schema ldapsearch -LLL -Q -Y EXTERNAL -H "$1" -o ldif-wrap=no -b cn=schema,cn=config \
  -s one "(objectClass=*)" "$@"
"""


def schema_digest(entries: list[Entry]) -> str:
    """A digest of the schema definitions, independent of entry names and ordering prefixes."""
    definitions: list[str] = []
    for entry in entries:
        for attr in SCHEMA_ATTRS:
            definitions += [" ".join(strip_index(v).split()) for v in entry.get(attr)]
    return hashlib.sha256("\n".join(sorted(definitions)).encode()).hexdigest()[:16]


# The loaded schema files only: cn=schema itself also lists what slapd and its modules
# define in code, which differs as soon as syncprov/accesslog load.
SCHEMA_FACTS = ScriptArea(
    "ldap-schema", SCHEMA_SCRIPT,
    lambda _handle, inventory, _down: [ldapi_url(_ldap(inventory).ldapi_socket), *SCHEMA_ATTRS],
    lambda node, _inventory, sections: schema_digest(
        _entries(sections["schema"], "cn=schema,cn=config", node)),
    timeout=lambda _inventory: FACT_TIMEOUT)
