"""The files of a certificate set as read from one node, and what each of them is.

Pure code: a node's set arrives as a tar stream (one command per node, with mode and
owner of every file); X.509 work is done with ``cryptography``, never by parsing
``openssl`` text.
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import io
import posixpath
import tarfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

KEYSTORE_SUFFIXES = (".jks", ".p12", ".pkcs12", ".pfx", ".keystore")

# Two RSA thresholds, one place: status warns about a key below WEAK_RSA_BITS (NIST's
# floor); a key rotate makes is never below NEW_RSA_BITS (the stronger bar for new keys).
WEAK_RSA_BITS = 2048
NEW_RSA_BITS = 3072


@dataclass(frozen=True)
class SetFile:
    name: str
    data: bytes
    mode: int
    owner: str  # "user:group" as the container names them

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.name)[0]

    @property
    def is_keystore(self) -> bool:
        return self.name.lower().endswith(KEYSTORE_SUFFIXES)

    def same_as(self, other: SetFile) -> bool:
        return (self.data, self.mode, self.owner) == (other.data, other.mode, other.owner)

    def __repr__(self) -> str:  # never the content: key files are secrets
        return f"SetFile({self.name!r}, mode={self.mode:04o}, owner={self.owner!r})"


def matches(name: str, masks: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, mask) for mask in masks)


def parse_set_tar(stream: bytes, masks: list[str]) -> dict[str, SetFile]:
    """The regular files of a tar stream whose names match the masks, by name."""
    files: dict[str, SetFile] = {}
    if not stream:
        return files
    with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as archive:
        for member in archive.getmembers():
            name = posixpath.basename(member.name)
            if not member.isfile() or not matches(name, masks):
                continue
            extracted = archive.extractfile(member)
            data = extracted.read() if extracted is not None else b""
            owner = f"{member.uname or member.uid}:{member.gname or member.gid}"
            files[name] = SetFile(name, data, member.mode & 0o7777, owner)
    return files


# --- certificates and keys ------------------------------------------------------------


def load_certificate(data: bytes) -> x509.Certificate | None:
    """The first certificate in a PEM or DER file, or None when it holds none."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return x509.load_pem_x509_certificates(data)[0]
        except ValueError:
            return None
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        return None


def load_private_key(data: bytes) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None:
    if b"PRIVATE KEY-----" not in data:
        return None
    try:
        # Only the public half is compared with the certificate and measured: the slow
        # RSA consistency check (~50 ms a key, every status read) tells us nothing more.
        key = serialization.load_pem_private_key(data, password=None,
                                                 unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else None


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def key_description(public_key: object) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"ECDSA {public_key.curve.name}"
    return type(public_key).__name__


def rsa_bits(cert: x509.Certificate) -> int | None:
    key = cert.public_key()
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


def public_bytes(key: object) -> bytes:
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class CertInfo:
    file: str
    fingerprint: str
    subject: str
    not_after: datetime.datetime
    key: str
    rsa_bits: int | None
    # None: no key file of the same stem in the set; else whether it is this cert's key.
    key_matches: bool | None

    def days_left(self, now: datetime.datetime | None = None) -> int:
        now = now or datetime.datetime.now(datetime.UTC)
        return (self.not_after - now).days


def certificates(files: dict[str, SetFile]) -> dict[str, CertInfo]:
    """Every file of the set that holds a certificate, with its key pairing checked."""
    keys = {f.stem: load_private_key(f.data) for f in files.values() if not f.is_keystore}
    infos: dict[str, CertInfo] = {}
    for item in sorted(files.values(), key=lambda f: f.name):
        if item.is_keystore:
            continue
        cert = load_certificate(item.data)
        if cert is None:
            continue
        key = keys.get(item.stem)
        matched = None if key is None else (
            public_bytes(key.public_key()) == public_bytes(cert.public_key()))
        infos[item.name] = CertInfo(
            file=item.name,
            fingerprint=fingerprint(cert),
            subject=cert.subject.rfc4514_string(),
            not_after=cert.not_valid_after_utc,
            key=key_description(cert.public_key()),
            rsa_bits=rsa_bits(cert),
            key_matches=matched,
        )
    return infos


def parse_properties(text: str) -> dict[str, str]:
    """key=value (or key: value) lines as Java properties files hold them; '#' comments."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut < 0:
            continue
        values[line[:cut].strip()] = _unescape(line[cut + 1:].strip())
    return values


def _unescape(value: str) -> str:
    # Java's store() escapes ':', '=' and '\\' with a backslash (e.g. 'https\://').
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            i += 1
        out.append(value[i])
        i += 1
    return "".join(out)
