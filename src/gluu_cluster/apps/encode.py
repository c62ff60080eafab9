"""Gluu's own encoding of passwords it keeps in LDAP and properties files: 3DES (ECB,
PKCS#5 padding) keyed with the node's encodeSalt (/etc/gluu/conf/salt), base64."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes

SALT_FILE = "/etc/gluu/conf/salt"


def parse_salt(text: str) -> str | None:
    """``encodeSalt = XXXX`` (24 characters) -> the key; None when there is none."""
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "encodeSalt" and len(value.strip().encode()) == 24:
            return value.strip()
    return None


def encode(salt: str, plain: str) -> str:
    padder = padding.PKCS7(64).padder()
    data = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(TripleDES(salt.encode()), modes.ECB()).encryptor()  # noqa: S305 - Gluu's scheme
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decode(salt: str, encoded: str) -> str | None:
    """The plain text, or None when ``encoded`` is not this salt's encoding of anything."""
    try:
        data = base64.b64decode(encoded, validate=True)
        decryptor = Cipher(TripleDES(salt.encode()), modes.ECB()).decryptor()  # noqa: S305
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(64).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
