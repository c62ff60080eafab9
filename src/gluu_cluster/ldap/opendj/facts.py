"""An OpenDJ node's facts in one round trip, and their pure parser.

Read with the node's LDAP client (OpenLDAP's ldapsearch, in the container) over the
server's plain LDAP port on the node's own address, bound as the directory manager (the
password on the script's stdin, kept in a shell variable, never on argv):

- the suffix entry: ``ds-sync-state`` (the newest change OpenDJ knows per server ID, as
  OpenDJ persists its replication state) and ``ds-sync-generation-id`` (a digest of the
  data replication started from: separately made trees differ here, not by entryUUID,
  which OpenDJ derives from the DN);
- ``cn=monitor``: each backend's entries per base DN;
- ``cn=Replication,cn=monitor``: this server's directory server (DS) in the suffix's
  domain (its server ID, the replication server it is connected to) and the peer
  replication servers its own replication server is connected to.

OpenDJ's CSN ``TTTTTTTTTTTTTTTTSSSSNNNNNNNN`` (hex: milliseconds since 1970, server ID,
sequence number) is translated into the engine-neutral text form that
``ldap/agreement.py`` compares.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from ...connection import NodeHandle
from ...errors import LDAPCommandError
from ...facts.cache import ScriptArea
from ...facts.script import Section, Sections
from ...inventory import Inventory, LDAPSettings
from ..engine import Link
from ..entry import Entry, parse_entries

NO_SUCH_OBJECT = 32

# $1 the LDAP URL, $2 the suffix, $3 the bind DN, $4 the administration connector
# (address:port), $5 the LDAPS listener (address:port); the password on stdin.
FACT_SCRIPT = r"""
url=$1 suffix=$2 dn=$3 admin=$4 ldaps=$5
pw=$(cat)
q() {
  printf '%s' "$pw" | ldapsearch -x -LLL -o ldif-wrap=no -H "$url" -D "$dn" -y /dev/stdin "$@"
}
section suffix q -b "$suffix" -s base "(objectClass=*)" entryUUID ds-sync-state \
  ds-sync-generation-id
section backends q -b cn=monitor -s one "(ds-base-dn-entry-count=*)" ds-base-dn-entry-count \
  ds-backend-id
section replication q -b "cn=Replication,cn=monitor" -s sub "(objectClass=*)" "*"
section servers q -b "cn=Multimaster Synchronization,cn=Synchronization Providers,cn=config" \
  -s sub "(|(objectClass=ds-cfg-replication-server)(objectClass=ds-cfg-replication-domain))" \
  ds-cfg-replication-server ds-cfg-replication-port ds-cfg-base-dn ds-cfg-source-address \
  objectClass
# Naming conflicts replication could not resolve (presence-indexed by OpenDJ).
section conflicts q -b "$suffix" -s sub -z 50 "(ds-sync-conflict=*)" 1.1
section general q -b cn=config -s sub \
  "(|(objectClass=ds-cfg-root-config)(cn=Default Password Policy)(cn=Crypto Manager))" \
  ds-cfg-single-structural-objectclass-behavior ds-cfg-size-limit ds-cfg-lookthrough-limit \
  ds-cfg-idle-time-limit ds-cfg-allow-pre-encoded-passwords ds-cfg-ssl-encryption \
  ds-cfg-ssl-cert-nickname
# The cluster's entries in the store replication takes its key and trust from.
section ads-keys q -b cn=ads-truststore -s one \
  "(|(ds-cfg-key-id=gluu-cluster)(ds-cfg-key-id=gluu-cluster-ca))" ds-cfg-key-id \
  "ds-cfg-public-key-certificate;binary"
# The key stores its LDAPS listener and administration connector use, by which alias.
section key-stores q -b cn=config -s sub "(|(cn=LDAPS Connection Handler)\
(objectClass=ds-cfg-administration-connector)(objectClass=ds-cfg-file-based-key-manager-provider))" \
  ds-cfg-key-manager-provider ds-cfg-ssl-cert-nickname ds-cfg-key-store-file \
  ds-cfg-key-store-type ds-cfg-key-store-pin-file
# Its administration and LDAPS certificates, as it serves them (asked on the node itself,
# over SSH): the other nodes' admin tools trust exactly these.
cert() { openssl s_client -connect "$1" < /dev/null 2> /dev/null | openssl x509; }
section admin-cert cert "$admin"
section ldaps-cert cert "$ldaps"
"""

FACT_TIMEOUT = 120.0


def ldap_url(address: str, settings: LDAPSettings) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"ldap://{host}:{settings.opendj.ldap_port}"


def neutral_csn(csn: str) -> str | None:
    """OpenDJ's hex CSN in the ``YYYYmmddHHMMSS.ffffffZ#count#sid#mod`` form (sid hex)."""
    if len(csn) != 28:
        return None
    try:
        millis, sid, seq = int(csn[:16], 16), int(csn[16:20], 16), int(csn[20:], 16)
    except ValueError:
        return None
    when = datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC)
    return f"{when:%Y%m%d%H%M%S}.{when.microsecond:06d}Z#{seq:06x}#{sid:04x}#000000"


@dataclass(frozen=True)
class KeyUse:
    """Which key a listener presents: the alias in a key store OpenDJ opens with a PIN file
    (paths as configured: relative ones are under the install directory)."""
    listener: str  # "ldaps" or "admin"
    nickname: str  # "" when unset (OpenDJ then picks any key in the store)
    store_file: str
    store_type: str
    pin_file: str


@dataclass(frozen=True)
class OpenDJFacts:
    node: str
    suffix_uuid: str | None
    generation_id: str | None  # of the suffix's replicated data
    csns: tuple[str, ...]  # neutral form, one per server ID
    entries: int | None
    server_id: int | None  # this server's directory server in the suffix's domain
    connected_to: str | None  # the replication server it is connected to (host:port)
    replication_port: int | None  # its own replication server's, when it has one
    links: tuple[Link, ...]  # the peer replication servers its own one is connected to
    conflicts: tuple[str, ...] = ()  # DNs of entries carrying ds-sync-conflict
    # The peer replication servers (host:port) its replication server's configuration
    # names, and each replicated domain's (base DN -> servers).
    configured_peers: frozenset[str] = frozenset()
    domains: tuple[tuple[str, frozenset[str]], ...] = ()
    # The address its replication connections leave from ("" where OpenDJ chooses): its
    # replication server's (under the name "") and each domain's (by base DN).
    source_addresses: tuple[tuple[str, str], ...] = ()
    admin_cert: str | None = None  # PEM
    ldaps_cert: str | None = None  # PEM
    key_uses: tuple[KeyUse, ...] = ()
    backend_id: str | None = None  # the backend holding the suffix (import-ldif's -n)
    # cn=ads-truststore (replication's key and trust): alias -> certificate PEM, for the
    # aliases the cluster puts there.
    ads_keys: tuple[tuple[str, str], ...] = ()

    def ads_cert(self, alias: str) -> str | None:
        return dict(self.ads_keys).get(alias)
    # The general settings the guide's ldapGeneralConfigInstall.py makes: property -> value
    # (global configuration, default password policy, crypto manager).
    general: tuple[tuple[str, str], ...] = ()

    def setting(self, name: str) -> str | None:
        return dict(self.general).get(name)


def _entries(section: Section, what: str, node: str) -> list[Entry]:
    if section.exit_code == NO_SUCH_OBJECT:
        return []
    if not section.ok:
        raise LDAPCommandError(node, f"ldapsearch of {what} failed: {section.first_error_line()}; "
                               "check that OpenDJ runs and the directory manager password")
    return parse_entries(section.stdout)


def _norm(dn: str) -> str:
    return dn.replace(" ", "").lower()


def _same_dn(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def parse_facts(node: str, suffix: str, sections: Sections) -> OpenDJFacts:
    """Pure: the node's facts from the fact script's sections."""
    base = next(iter(_entries(sections["suffix"], suffix, node)), None)
    entries = backend_id = None
    for backend in _entries(sections["backends"], "cn=monitor", node):
        for value in backend.get("ds-base-dn-entry-count"):
            count, _, dn = value.partition(" ")
            if _same_dn(dn, suffix) and count.isdigit():
                entries = int(count)
                backend_id = backend.first("ds-backend-id") or None
    server_id = connected = rs_port = None
    links = []
    for e in _entries(sections["replication"], "cn=Replication,cn=monitor", node):
        if not _same_dn(e.first("domain-name", ""), suffix):
            continue
        rdn = e.dn.split(",", 1)[0]
        if rdn.startswith("cn=Directory server DS("):  # this server's own DS
            server_id = _int(e.first("server-id"))
            connected = e.first("connected-to") or None
        elif rdn.startswith("cn=Replication server RS("):  # its own replication server
            rs_port = _int(e.first("replication-server-port"))
        elif rdn.startswith("cn=Connected replication server RS("):
            peer = e.first("Replication-Server") or rdn.rsplit(" ", 1)[-1]
            links.append(Link(id=f"RS({e.first('server-id', '?')})", provider=peer,
                              phase="following" if e.first("following") == "true" else "",
                              connected=True, last_contact=""))
    configured: set[str] = set()
    domains: dict[str, frozenset[str]] = {}
    sources: dict[str, str] = {}
    for e in _entries(sections["servers"], "the replication server's configuration", node):
        servers = frozenset(v.lower() for v in e.get("ds-cfg-replication-server"))
        if "ds-cfg-replication-domain" in {c.lower() for c in e.get("objectClass")}:
            domains[e.first("ds-cfg-base-dn")] = servers
            sources[e.first("ds-cfg-base-dn")] = e.first("ds-cfg-source-address", "")
        else:
            configured.update(servers)
            sources[""] = e.first("ds-cfg-source-address", "")
    general: dict[str, str] = {}
    for e in _entries(sections["general"], "cn=config", node):
        for name, _values in e.attrs.items():
            if name.startswith("ds-cfg-"):
                general[name[len("ds-cfg-"):]] = e.first(name)
    conflicts = sections["conflicts"]
    # Exit 4: more than the 50 asked for (the first 50 are listed).
    found = parse_entries(conflicts.stdout) if conflicts.exit_code in (0, 4) else []
    cert = sections["admin-cert"]
    ldaps = sections["ldaps-cert"]
    csns = [c for c in (neutral_csn(v.split()[0]) for v in
                        (base.get("ds-sync-state") if base else [])) if c is not None]
    return OpenDJFacts(
        node=node,
        suffix_uuid=(base.first("entryUUID") or None) if base else None,
        generation_id=(base.first("ds-sync-generation-id") or None) if base else None,
        csns=tuple(sorted(csns)), entries=entries, backend_id=backend_id, server_id=server_id,
        connected_to=connected, replication_port=rs_port,
        links=tuple(sorted(links, key=lambda link: link.provider)),
        configured_peers=frozenset(configured),
        domains=tuple(sorted(domains.items())),
        source_addresses=tuple(sorted(sources.items())),
        admin_cert=cert.out if cert.ok and "BEGIN CERTIFICATE" in cert.out else None,
        ldaps_cert=ldaps.out if ldaps.ok and "BEGIN CERTIFICATE" in ldaps.out else None,
        key_uses=_key_uses(_entries(sections["key-stores"], "the key stores' configuration",
                                    node)),
        ads_keys=tuple(sorted(
            (e.first("ds-cfg-key-id"), pem(e.attrs.get("ds-cfg-public-key-certificate;binary",
                                                       [b""])[0]))
            for e in _entries(sections["ads-keys"], "cn=ads-truststore", node))),
        general=tuple(sorted(general.items())),
        conflicts=tuple(e.dn for e in found),
    )


def pem(der: bytes) -> str:
    """A DER certificate in PEM (as openssl and keytool -rfc write it)."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _key_uses(found: list[Entry]) -> tuple[KeyUse, ...]:
    providers = {_norm(e.dn): e for e in found if e.get("ds-cfg-key-store-file")}
    uses = []
    for e in found:
        rdn = e.dn.split(",", 1)[0].lower()
        listener = ("ldaps" if rdn == "cn=ldaps connection handler"
                    else "admin" if rdn == "cn=administration connector" else None)
        provider = providers.get(_norm(e.first("ds-cfg-key-manager-provider")))
        if listener and provider:
            uses.append(KeyUse(listener, e.first("ds-cfg-ssl-cert-nickname"),
                               provider.first("ds-cfg-key-store-file"),
                               provider.first("ds-cfg-key-store-type", "JKS"),
                               provider.first("ds-cfg-key-store-pin-file")))
    return tuple(sorted(uses, key=lambda u: u.listener))


def ldap_of(inventory: Inventory) -> LDAPSettings:
    """The LDAP settings: the engine's facts and steps exist only for an inventory with some."""
    assert inventory.ldap is not None, "OpenDJ is read only for an inventory with 'ldap'"
    return inventory.ldap


def _args(handle: NodeHandle, inventory: Inventory, _down: frozenset[str]) -> list[str]:
    settings = ldap_of(inventory)
    return [ldap_url(handle.node.address, settings), settings.suffix, settings.admin_dn,
            f"{handle.node.address}:{settings.opendj.admin_port}",
            f"{handle.node.address}:{settings.port}"]


def dm_password(inventory: Inventory) -> str:
    """The directory manager's password (for stdin or a 0600 file, never argv)."""
    return ldap_of(inventory).admin_password.resolve(inventory.base_dir).reveal()


OPENDJ_FACTS = ScriptArea(
    "ldap-opendj", FACT_SCRIPT, _args,
    lambda node, inventory, sections: parse_facts(node, ldap_of(inventory).suffix, sections),
    timeout=lambda _inventory: FACT_TIMEOUT,
    stdin=lambda inventory: dm_password(inventory).encode())
