"""Keys and certificates the lab makes for its fake hosts (as separate installs would)."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class SSHKeyPair:
    private_openssh: bytes
    public_line: str


def ssh_keypair(comment: str) -> SSHKeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return SSHKeyPair(private, f"{public.decode()} {comment}")


@dataclass(frozen=True)
class CertPair:
    key_pem: bytes
    cert_pem: bytes
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    def pkcs12(self, alias: str, password: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            alias.encode(),
            self.key,
            self.cert,
            None,
            serialization.BestAvailableEncryption(password.encode()),
        )


def self_signed(common_name: str, hostname: str, address: str, days: int = 365) -> CertPair:
    """A self-signed RSA certificate, as Gluu's setup makes for each component."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gluu Lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address(address))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return CertPair(key_pem, cert.public_bytes(serialization.Encoding.PEM), key, cert)
