"""The cluster CA: made once beside the inventory (key 0600), it issues node certificates.

One CA for the whole cluster: LDAP replication TLS uses it now, csync2 TLS will too.
Node certificates carry the node's name and address in subjectAltName, so every peer
can verify every other with ``tls_reqcert=demand`` and no trust-all anywhere.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import SecretError
from ..inventory import Inventory
from ..secrets import write_secret_file

CA_KEY, CA_CERT = "cluster-ca.key", "cluster-ca.crt"
CA_DAYS, NODE_DAYS, RENEW_BEFORE_DAYS = 3650, 397, 30


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class IssuedCert:
    key_pem: bytes
    cert_pem: bytes


class ClusterCA:
    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self.key = key
        self.cert = cert

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def load_or_create(cls, directory: Path, cluster: str) -> ClusterCA:
        key_path, cert_path = directory / CA_KEY, directory / CA_CERT
        if key_path.exists() and cert_path.exists():
            return cls.load(directory)
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gluu-cluster"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{cluster} cluster CA"),
        ])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                              content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False,
                              encipher_only=False, decipher_only=False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        write_secret_file(key_path, key_pem.decode().rstrip("\n"))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert)

    @classmethod
    def load(cls, directory: Path) -> ClusterCA:
        key_path = directory / CA_KEY
        mode = key_path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretError(f"cluster CA key {key_path} has mode {mode:04o}; run 'chmod 600 {key_path}'")
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SecretError(f"{key_path} is not an EC private key")
        cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
        return cls(key, cert)

    def issue(self, name: str, address: str) -> IssuedCert:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gluu-cluster"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=NODE_DAYS))
            .add_extension(x509.SubjectAlternativeName(_sans(name, address)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                       ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return IssuedCert(key_pem, cert.public_bytes(serialization.Encoding.PEM))

    def check_node_cert(self, cert_pem: bytes | None, name: str, address: str) -> str | None:
        """None when the node's certificate is ours, right and not near expiry; else why not."""
        if not cert_pem:
            return "no certificate yet"
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except ValueError:
            return "the certificate file is not a PEM certificate"
        try:
            cert.verify_directly_issued_by(self.cert)
        except (ValueError, TypeError, InvalidSignature):
            return "the certificate was not issued by the cluster CA"
        try:
            sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return "the certificate has no subjectAltName"
        wanted = set(_sans(name, address))
        if not wanted <= set(sans):
            return f"the certificate does not name {name} and {address}"
        left = cert.not_valid_after_utc - _now()
        if left < datetime.timedelta(days=RENEW_BEFORE_DAYS):
            return f"the certificate expires in {left.days} days"
        return None


def _sans(name: str, address: str) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = [x509.DNSName(name)]
    try:
        out.append(x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        if address != name:
            out.append(x509.DNSName(address))
    return out


def cluster_ca(directory: Path, cluster: str, create: bool) -> ClusterCA | None:
    """The CA if it exists (or made now when ``create``); planning never creates it."""
    if create:
        return ClusterCA.load_or_create(directory, cluster)
    if (directory / CA_KEY).exists():
        return ClusterCA.load(directory)
    return None


def inventory_ca(inventory: Inventory, create: bool) -> ClusterCA | None:
    """The inventory's cluster CA (in pki.directory beside it); made now only when
    ``create`` (apply), never while planning."""
    return cluster_ca(inventory.local_path(inventory.pki.directory), inventory.cluster, create)


def cluster_ca_pem(inventory: Inventory) -> bytes | None:
    """The cluster CA certificate when LDAP TLS uses one (Java clients of slapd trust it)."""
    if inventory.ldap is None:
        return None
    path = inventory.local_path(inventory.pki.directory) / CA_CERT
    return path.read_bytes() if path.exists() else None
