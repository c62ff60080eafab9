"""Read Java key stores (JKS and PKCS12) in Python: aliases, fingerprints, password check.

Reading needs no JVM: a status run over five nodes would otherwise start fifteen of
them on a small machine. Writing stays with the node's own ``keytool`` (keytool.py).
A JKS store ends with SHA-1(password as UTF-16BE + "Mighty Aphrodite" + the store's
bytes): that is the check ``keytool -list`` makes with a store password.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

JKS_MAGIC = 0xFEEDFEED
JCEKS_MAGIC = 0xCECECECE
_WHITENER = b"Mighty Aphrodite"


class StoreFormatError(ValueError):
    """Not a store this module reads (e.g. BKS): ask keytool instead."""


class StorePasswordError(ValueError):
    """The password does not open the store (or the store was tampered with)."""


@dataclass(frozen=True)
class StoreEntry:
    alias: str
    fingerprint: str  # SHA-256 of the entry's (first) certificate, as keytool prints it
    private_key: bool


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).digest().hex(":").upper()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise StoreFormatError("truncated key store")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def utf(self) -> str:
        return self.take(self.u16()).decode("utf-8", "replace")

    def certificate(self) -> bytes:
        self.utf()  # certificate type, "X.509"
        return self.take(self.u32())


def _jks_entries(data: bytes, password: str | None) -> list[StoreEntry]:
    r = _Reader(data)
    magic, version = r.u32(), r.u32()
    if magic not in (JKS_MAGIC, JCEKS_MAGIC) or version not in (1, 2):
        raise StoreFormatError("not a JKS store")
    entries = []
    for _ in range(r.u32()):
        tag, alias = r.u32(), r.utf()
        r.take(8)  # creation time
        if tag == 1:  # private key: protected key, then its certificate chain
            r.take(r.u32())
            chain = [r.certificate() for _ in range(r.u32())]
            entries.append(StoreEntry(alias.lower(), _fingerprint(chain[0]) if chain else "", True))
        elif tag == 2:
            entries.append(StoreEntry(alias.lower(), _fingerprint(r.certificate()), False))
        else:  # JCEKS secret key entries: serialized Java objects
            raise StoreFormatError(f"entry type {tag} is not read here")
    body_end = r.pos
    digest = r.take(20)
    if password is not None:
        want = hashlib.sha1(password.encode("utf-16-be") + _WHITENER + data[:body_end]).digest()
        if not hmac.compare_digest(want, digest):
            raise StorePasswordError("the password does not open the key store")
    return entries


def _pkcs12_entries(data: bytes, password: str) -> list[StoreEntry]:
    try:
        store = pkcs12.load_pkcs12(data, password.encode())
    except ValueError as exc:
        if "password" in str(exc).lower() or "mac" in str(exc).lower():
            raise StorePasswordError("the password does not open the key store") from exc
        raise StoreFormatError(f"not a PKCS12 store: {exc}") from exc
    entries = []
    if store.cert is not None:
        name = (store.cert.friendly_name or b"1").decode("utf-8", "replace")
        entries.append(StoreEntry(name.lower(), _fingerprint(store.cert.certificate.public_bytes(
            Encoding.DER)), store.key is not None))
    for cert in store.additional_certs:
        name = (cert.friendly_name or b"").decode("utf-8", "replace")
        entries.append(StoreEntry(name.lower(), _fingerprint(cert.certificate.public_bytes(Encoding.DER)),
                                  False))
    return entries


def read_store(data: bytes, password: str) -> list[StoreEntry]:
    """Every entry of a JKS or PKCS12 store; StorePasswordError if the password is wrong,
    StoreFormatError for another format."""
    if len(data) >= 4 and struct.unpack(">I", data[:4])[0] in (JKS_MAGIC, JCEKS_MAGIC):
        return _jks_entries(data, password)
    if data[:1] == b"\x30":  # DER SEQUENCE: PKCS12
        return _pkcs12_entries(data, password)
    raise StoreFormatError("neither JKS nor PKCS12")


# (digest of password and store) -> opens: every node holds the same synced key store,
# and a PKCS12 store takes ~70 ms to open (its key derivation). In memory only.
_OPENS: dict[bytes, bool] = {}


def opens(data: bytes, password: str) -> bool:
    key = hashlib.sha256(password.encode() + b"\0" + data).digest()
    if key not in _OPENS:
        try:
            read_store(data, password)
            _OPENS[key] = True
        except StorePasswordError:
            _OPENS[key] = False
    return _OPENS[key]
