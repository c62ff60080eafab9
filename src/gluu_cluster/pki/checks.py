"""Certificate sets across the cluster: per node and file, and the problems found.

Facts are read from all nodes in parallel; an unreachable node is a problem in the
report, not a crash.  The same facts feed ``certs status`` and the cluster ``status``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError, NodeCheckError
from ..facts.cache import FactCache
from ..inventory import CertificateSet, Inventory
from ..problems import Problem, define
from ..secrets import Secret
from ..transport import Transport
from .certset import WEAK_RSA_BITS, CertInfo, SetFile, certificates
from .facts import PKI_FACTS, PKIFacts
from .keystores import keystore_problems
from .keytool import list_truststore
from .trust import TrustEntry, desired_entries

UNREACHABLE = define("CERT-NODE-UNREACHABLE", "error",
                     "check that the node is up and reachable over SSH, then run 'certs status' again")
EMPTY_SET = define("CERT-SET-EMPTY", "error",
                   "check the set's directory and masks in the inventory, or its source node")
MISSING = define("CERT-FILE-MISSING", "error", "run 'gluu-cluster apply' (or 'certs sync')")
DIFFERS = define("CERT-FILE-DIFFERS", "error", "run 'gluu-cluster apply' (or 'certs sync')")
EXTRA = define("CERT-FILE-EXTRA", "warning",
               "remove the file from the node, or add it on the source so it is synced")
EXPIRING = define("CERT-EXPIRING", "warning", "run 'gluu-cluster certs rotate --set SET'")
EXPIRED = define("CERT-EXPIRED", "error", "run 'gluu-cluster certs rotate --set SET' now")
KEY_MISMATCH = define("CERT-KEY-MISMATCH", "error",
                      "the key file does not belong to the certificate: restore a backup "
                      "('certs backups NODE') or rotate the set")
WEAK_KEY = define("CERT-WEAK-KEY", "warning",
                  "rotate with a stronger key: 'certs rotate --set SET --key-type rsa:3072'")
TRUST_MISSING = define("CERT-TRUST-MISSING", "error", "run 'gluu-cluster apply' (or 'certs sync')")
TRUST_STALE = define("CERT-TRUST-STALE", "error", "run 'gluu-cluster apply' (or 'certs sync')")
TRUST_UNREADABLE = define("CERT-TRUSTSTORE-UNREADABLE", "error",
                          "check the truststore path and password reference in the inventory")
KEYSTORE_PASSWORD = define("CERT-KEYSTORE-PASSWORD", "error",
                           "make the node's configuration hold the key store's password "
                           "(or sync that configuration from the source)")


@dataclass(frozen=True)
class FileRow:
    file: str
    sha256: str
    mode: str
    owner: str
    same_as_source: bool
    fingerprint: str | None = None
    subject: str | None = None
    not_after: str | None = None
    days_left: int | None = None
    key: str | None = None
    key_matches: bool | None = None
    in_truststore: bool | None = None


@dataclass
class NodeCertStatus:
    node: str
    files: list[FileRow] = field(default_factory=list)
    error: str | None = None


@dataclass
class SetStatus:
    set: str
    source: str
    nodes: list[NodeCertStatus]
    problems: list[Problem]

    @property
    def consistent(self) -> bool:
        return not any(p.code in (MISSING.code, DIFFERS.code, TRUST_MISSING.code,
                                  TRUST_STALE.code, UNREACHABLE.code) for p in self.problems)


@dataclass
class _NodeFacts:
    files: dict[str, SetFile]
    trust: dict[str, str] | None  # None: no truststore configured (or it does not exist)
    keystore_problems: list[str]
    trust_error: str | None = None


async def node_set_facts(container: Transport, facts: PKIFacts, cert_set: CertificateSet,
                         store_password: Secret | None) -> _NodeFacts:
    """One set's view of a node's PKI facts; key stores opened here (keytool only for a
    store format Python cannot read)."""
    files = facts.set_files(cert_set)
    trust, trust_error = None, None
    if cert_set.truststore is not None and store_password is not None:
        path = cert_set.truststore.path
        try:
            trust = await list_truststore(container, path, store_password, facts.files.get(path))
        except NodeCheckError as exc:  # a wrong password or a broken store: report it
            trust_error = exc.detail
    refused = [f"{ref.file}: {why}" for ref, why in await keystore_problems(
        container, cert_set.keystores, files, facts.files)]
    return _NodeFacts(files, trust, refused, trust_error)


def _certificate_problems(node: str, info: CertInfo, warn_days: int, now: datetime.datetime,
                     set_name: str) -> list[Problem]:
    out = []
    days = info.days_left(now)
    if info.not_after <= now:
        out.append(EXPIRED.at(node, f"{info.file} expired on {info.not_after:%Y-%m-%d}",
                              EXPIRED.fix.replace("SET", set_name)))
    elif days < warn_days:
        out.append(EXPIRING.at(node, f"{info.file} expires in {days} days "
                               f"({info.not_after:%Y-%m-%d})", EXPIRING.fix.replace("SET", set_name)))
    if info.key_matches is False:
        out.append(KEY_MISMATCH.at(node, f"{info.file} and its key file do not match"))
    if info.rsa_bits is not None and info.rsa_bits < WEAK_RSA_BITS:
        out.append(WEAK_KEY.at(node, f"{info.file} has a {info.rsa_bits}-bit RSA key",
                               WEAK_KEY.fix.replace("SET", set_name)))
    return out


def evaluate(inventory: Inventory, cert_set: CertificateSet, source: str,
             facts: dict[str, _NodeFacts | GluuClusterError], ca_pem: bytes | None,
             now: datetime.datetime | None = None) -> SetStatus:
    """Pure: the rows and problems of one set from every node's facts."""
    now = now or datetime.datetime.now(datetime.UTC)
    problems: list[Problem] = []
    rows: list[NodeCertStatus] = []
    source_facts = facts.get(source)
    reference = source_facts.files if isinstance(source_facts, _NodeFacts) else {}
    if isinstance(source_facts, _NodeFacts) and not reference:
        problems.append(EMPTY_SET.at(source, f"no file in {cert_set.directory} matches "
                                     f"{', '.join(cert_set.masks)}"))
    for node in (n.name for n in inventory.nodes):
        got = facts[node]
        if isinstance(got, GluuClusterError):
            rows.append(NodeCertStatus(node, error=str(got)))
            problems.append(UNREACHABLE.at(node, str(got)))
            continue
        status = NodeCertStatus(node)
        rows.append(status)
        infos = certificates(got.files)
        desired = {e.origin: e for e in desired_entries(cert_set, node, reference, ca_pem)} \
            if cert_set.truststore is not None else {}
        for name, item in sorted(got.files.items()):
            want = reference.get(name)
            info = infos.get(name)
            in_trust = None
            if info is not None and name in desired and got.trust is not None:
                in_trust = got.trust.get(desired[name].alias) == info.fingerprint
            status.files.append(FileRow(
                file=name, sha256=item.sha256, mode=f"{item.mode:04o}", owner=item.owner,
                same_as_source=want is not None and want.same_as(item),
                fingerprint=info.fingerprint if info else None,
                subject=info.subject if info else None,
                not_after=info.not_after.isoformat() if info else None,
                days_left=info.days_left(now) if info else None,
                key=info.key if info else None,
                key_matches=info.key_matches if info else None,
                in_truststore=in_trust,
            ))
            if want is None:
                problems.append(EXTRA.at(node, f"{name} is not in {source}'s set"))
            if info is not None:
                problems += _certificate_problems(node, info, inventory.certificates.warn_days, now,
                                             cert_set.name)
        differing = [n for n, f in sorted(got.files.items())
                     if n in reference and not reference[n].same_as(f)]
        if differing:
            problems.append(DIFFERS.at(node, f"{len(differing)} file(s) differ from {source}'s: "
                                       + ", ".join(differing)))
        missing = sorted(set(reference) - set(got.files))
        if missing:
            problems.append(MISSING.at(node, f"{len(missing)} file(s) of {source}'s set missing: "
                                       + ", ".join(missing)))
        problems += [KEYSTORE_PASSWORD.at(node, text) for text in got.keystore_problems]
        if cert_set.truststore is not None:
            problems += _trust_problems(node, cert_set, got, list(desired.values()))
    return SetStatus(cert_set.name, source, rows, problems)


def _trust_problems(node: str, cert_set: CertificateSet, got: _NodeFacts,
                    desired: list[TrustEntry]) -> list[Problem]:
    assert cert_set.truststore is not None
    trust = got.trust
    if got.trust_error is not None:
        return [TRUST_UNREADABLE.at(node, got.trust_error)]
    if trust is None:
        return [TRUST_MISSING.at(node, f"truststore {cert_set.truststore.path} does not exist")]
    out = []
    for entry in desired:
        have = trust.get(entry.alias)
        if have is None:
            out.append(TRUST_MISSING.at(node, f"alias {entry.alias} ({entry.origin}) is not in "
                                        f"{cert_set.truststore.path}"))
        elif have != entry.fingerprint:
            out.append(TRUST_STALE.at(node, f"alias {entry.alias} holds another certificate than "
                                      f"{entry.origin}"))
    return out


async def cluster_cert_status(cluster: ClusterConnection, facts_of: FactCache,
                              ca_pem: bytes | None) -> list[SetStatus]:
    """Every set on every node: each node's PKI facts read once, then judged per set."""
    inventory = cluster.inventory
    passwords = {s.name: s.truststore.password.resolve(inventory.base_dir)
                 for s in inventory.certificates.sets if s.truststore is not None}

    async def one(handle: NodeHandle) -> dict[str, _NodeFacts]:
        facts = await facts_of.of(PKI_FACTS, handle)
        return {s.name: await node_set_facts(handle.container, facts, s, passwords.get(s.name))
                for s in inventory.certificates.sets}

    results = await cluster.each(one)
    out = []
    for cert_set in inventory.certificates.sets:
        facts: dict[str, _NodeFacts | GluuClusterError] = {
            h.name: (r if isinstance(r, GluuClusterError) else r[cert_set.name]) for h, r in results}
        out.append(evaluate(inventory, cert_set, inventory.source_of(cert_set).name, facts, ca_pem))
    return out
