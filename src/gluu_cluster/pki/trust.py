"""What a node's Java truststore must hold for a certificate set, and the edits to get there."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from ..inventory import CertificateSet
from .certset import SetFile, fingerprint, load_certificate
from .keytool import TrustOp

CLUSTER_CA_STEM = "gluu-cluster-ca"


@dataclass(frozen=True)
class TrustEntry:
    alias: str  # lower case: JKS stores aliases that way
    pem: bytes
    fingerprint: str
    origin: str  # the set's file name, or the cluster CA


def alias_for(cert_set: CertificateSet, node: str, stem: str) -> str:
    assert cert_set.truststore is not None
    return cert_set.truststore.alias.format(node=node, stem=stem, set=cert_set.name).lower()


def desired_entries(cert_set: CertificateSet, node: str, files: dict[str, SetFile],
                    ca_pem: bytes | None) -> list[TrustEntry]:
    """Every certificate of the set (and the cluster CA, when LDAP TLS uses it)."""
    entries = []
    for item in sorted(files.values(), key=lambda f: f.name):
        cert = None if item.is_keystore else load_certificate(item.data)
        if cert is None:
            continue
        pem = cert.public_bytes(serialization.Encoding.PEM)
        entries.append(TrustEntry(alias_for(cert_set, node, item.stem), pem, fingerprint(cert),
                                  item.name))
    if ca_pem is not None:
        ca = load_certificate(ca_pem)
        assert ca is not None
        entries.append(TrustEntry(alias_for(cert_set, node, CLUSTER_CA_STEM), ca_pem,
                                  fingerprint(ca), "cluster CA"))
    return entries


def trust_ops(current: dict[str, str], desired: list[TrustEntry]) -> tuple[list[TrustOp], list[str]]:
    """Edits (replace an alias whose fingerprint changed, add missing ones) and why.

    Aliases not in ``desired`` are someone else's: they are left alone.
    """
    ops: list[TrustOp] = []
    why: list[str] = []
    for entry in desired:
        have = current.get(entry.alias)
        if have == entry.fingerprint:
            continue
        if have is not None:
            ops.append(TrustOp(entry.alias))
            why.append(f"replace truststore alias {entry.alias} ({entry.origin}: fingerprint changed)")
        else:
            why.append(f"import {entry.origin} as truststore alias {entry.alias}")
        ops.append(TrustOp(entry.alias, entry.pem))
    return ops, why
