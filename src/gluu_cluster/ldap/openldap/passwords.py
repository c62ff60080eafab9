"""Password hashes for LDAP entries: slapd stores pre-hashed values as given."""

from __future__ import annotations

import base64
import hashlib
import os


def ssha(password: str) -> str:
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()
