"""Key store passwords as a node's own configuration references them, and whether they fit.

The seed's warning: key stores are protected by passwords written into other
configuration files; a node whose configuration expects another password than the
incoming key store uses cannot decrypt it. We ask the node's own keytool.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..inventory import KeystoreRef
from ..secrets import Secret, secret_from
from ..transport import Transport
from .certset import SetFile, parse_properties
from .keytool import password_opens


@dataclass(frozen=True)
class KeystoreVerdict:
    file: str
    reference: str  # "<config file>: <key>"
    problem: str | None  # None: the configured password opens the key store


def describe(ref: KeystoreRef) -> str:
    return f"{ref.password_from.file}: {ref.password_from.key}"


async def configured_password(container: Transport, ref: KeystoreRef) -> Secret | str:
    """The password the node's configuration gives the key store, or why there is none."""
    text = await container.read_file(ref.password_from.file)
    if text is None:
        return f"{ref.password_from.file} does not exist"
    value = parse_properties(text.decode("utf-8", "replace")).get(ref.password_from.key)
    if not value:
        return f"{ref.password_from.file} has no '{ref.password_from.key}'"
    return secret_from(f"{container.node}:{describe(ref)}", value)


async def check_keystore(container: Transport, ref: KeystoreRef, store: SetFile) -> KeystoreVerdict:
    """Does the node's configured password open ``store`` (its own or an incoming one)?"""
    password = await configured_password(container, ref)
    if isinstance(password, str):
        return KeystoreVerdict(store.name, describe(ref), password)
    if await password_opens(container, store.data, password):
        return KeystoreVerdict(store.name, describe(ref), None)
    return KeystoreVerdict(store.name, describe(ref),
                           f"the password in {describe(ref)} does not open it")
