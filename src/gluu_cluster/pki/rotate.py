"""Rotate a certificate set on its source: new keys, same subjects and SANs, key stores rebuilt.

Certificates stay self-signed, as Gluu's setup makes them; only their keys get stronger.
RSA below 3072 bits (the seed's openssl commands make 1024) is refused.
"""

from __future__ import annotations

import datetime
import posixpath
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ..connection import NodeHandle
from ..errors import NodeCheckError, UsageError
from ..inventory import CertificateSet
from .certset import NEW_RSA_BITS, SetFile, load_certificate, load_private_key
from .facts import read_facts
from .keystores import configured_password
from .keytool import list_truststore, pkcs12_to_jks
from .setfiles import backup, install_file

JKS_MAGIC = b"\xfe\xed\xfe\xed"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class KeyType:
    algorithm: str  # "rsa" or "ec"
    bits: int

    def generate(self) -> PrivateKey:
        if self.algorithm == "rsa":
            return rsa.generate_private_key(public_exponent=65537, key_size=self.bits)
        return ec.generate_private_key(ec.SECP256R1())

    def __str__(self) -> str:
        return f"rsa:{self.bits}" if self.algorithm == "rsa" else "ec:p256"


def parse_key_type(text: str) -> KeyType:
    value = text.strip().lower()
    if value in ("ec", "ec:p256", "ecdsa", "ecdsa:p256", "p256"):
        return KeyType("ec", 256)
    match = re.fullmatch(r"rsa(?::(\d+))?", value)
    if match is None:
        raise UsageError(f"--key-type '{text}': use rsa:3072, rsa:4096 or ec:p256")
    bits = int(match.group(1) or NEW_RSA_BITS)
    if bits < NEW_RSA_BITS:
        raise UsageError(f"--key-type '{text}': RSA {bits} is too weak; use rsa:3072, "
                         "rsa:4096 or ec:p256")
    if bits > 8192:
        raise UsageError(f"--key-type '{text}': RSA above 8192 bits is not supported")
    return KeyType("rsa", bits)


def renew(old: x509.Certificate, key: PrivateKey, days: int) -> x509.Certificate:
    """Same subject, SANs and usages as ``old``; a new key, serial and validity."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    for ext in old.extensions:
        if isinstance(ext.value, x509.SubjectKeyIdentifier | x509.AuthorityKeyIdentifier):
            continue  # they name the old key
        builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                    critical=False)
    return builder.sign(key, hashes.SHA256())


def _key_pem(key: PrivateKey, old_key_pem: bytes) -> bytes:
    # Keep the format the old file used (Gluu's openssl writes traditional RSA PEM).
    fmt = (serialization.PrivateFormat.TraditionalOpenSSL
           if b"BEGIN RSA PRIVATE KEY" in old_key_pem and isinstance(key, rsa.RSAPrivateKey)
           else serialization.PrivateFormat.PKCS8)
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


@dataclass(frozen=True)
class Rotated:
    stem: str
    files: tuple[SetFile, ...]
    key_type: str


async def _rebuild_keystore(handle: NodeHandle, cert_set: CertificateSet, store: SetFile,
                            key: PrivateKey, cert: x509.Certificate) -> SetFile:
    ref = next((r for r in cert_set.keystores if r.file == store.name), None)
    if ref is None:
        raise UsageError(f"{handle.name}: {store.name} cannot be rebuilt: its password is not "
                         f"known; add it to certificates.sets[{cert_set.name}].keystores")
    config = await handle.container.read_file(ref.password_from.file)
    password = configured_password(handle.name, ref, config)
    if isinstance(password, str):
        raise NodeCheckError(handle.name, f"{store.name} cannot be rebuilt: {password}")
    path = posixpath.join(cert_set.directory, store.name)
    try:
        aliases = await list_truststore(handle.container, path, password, store.data) or {}
    except NodeCheckError as exc:
        raise NodeCheckError(handle.name, f"{store.name} cannot be rebuilt: the password in "
                             f"{ref.password_from.file} ({ref.password_from.key}) does not open "
                             "it; fix that configuration first") from exc
    alias = next(iter(aliases), store.stem.lower())
    data = pkcs12.serialize_key_and_certificates(
        alias.encode(), key, cert, None,
        serialization.BestAvailableEncryption(password.reveal().encode()))
    if store.data.startswith(JKS_MAGIC):
        data = await pkcs12_to_jks(handle.container, data, password)
    return SetFile(store.name, data, store.mode, store.owner)


async def rotate_on_source(handle: NodeHandle, cert_set: CertificateSet, key_type: KeyType,
                           days: int, backup_root: str) -> list[Rotated]:
    """Replace every certificate that has its key in the set; old files kept as a backup."""
    files = (await read_facts(handle.container, [cert_set])).set_files(cert_set)
    plans: list[Rotated] = []
    for item in sorted(files.values(), key=lambda f: f.name):
        cert = None if item.is_keystore else load_certificate(item.data)
        key_file = next((f for f in files.values() if f.stem == item.stem and not f.is_keystore
                         and load_private_key(f.data) is not None), None)
        if cert is None or key_file is None:
            continue
        key = key_type.generate()
        new_cert = renew(cert, key, days)
        new_files = [
            SetFile(item.name, new_cert.public_bytes(
                serialization.Encoding.DER if b"-----BEGIN" not in item.data
                else serialization.Encoding.PEM), item.mode, item.owner),
            SetFile(key_file.name, _key_pem(key, key_file.data), key_file.mode, key_file.owner),
        ]
        for store in files.values():
            if store.is_keystore and store.stem == item.stem:
                new_files.append(await _rebuild_keystore(handle, cert_set, store, key, new_cert))
        plans.append(Rotated(item.stem, tuple(new_files), str(key_type)))
    if not plans:
        raise NodeCheckError(handle.name, f"set '{cert_set.name}' has no certificate with its "
                             "key beside it (same file stem): nothing to rotate")
    paths = [posixpath.join(cert_set.directory, f.name) for r in plans for f in r.files]
    await backup(handle.container, backup_root, cert_set.name, "before rotate", paths)
    for rotated in plans:
        for new in rotated.files:
            await install_file(handle.container, cert_set.directory, new)
    return plans
