"""Key store passwords as a node's own configuration references them, and whether they fit.

The seed's warning: key stores are protected by passwords written into other
configuration files; a node whose configuration expects another password than the
incoming key store uses cannot decrypt it. We ask the node's own keytool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def configured_password(node: str, ref: KeystoreRef, text: bytes | None) -> Secret | str:
    """The password the node's configuration (``text``: the file named by the reference)
    gives the key store, or why there is none."""
    if text is None:
        return f"{ref.password_from.file} does not exist"
    value = parse_properties(text.decode("utf-8", "replace")).get(ref.password_from.key)
    if not value:
        return f"{ref.password_from.file} has no '{ref.password_from.key}'"
    return secret_from(f"{node}:{describe(ref)}", value)


async def check_keystore(container: Transport, ref: KeystoreRef, store: SetFile,
                         config: bytes | None) -> KeystoreVerdict:
    """Does the node's configured password (in ``config``, the referenced file's bytes)
    open ``store`` (its own or an incoming one)?"""
    password = configured_password(container.node, ref, config)
    if isinstance(password, str):
        return KeystoreVerdict(store.name, describe(ref), password)
    if await password_opens(container, store.data, password):
        return KeystoreVerdict(store.name, describe(ref), None)
    return KeystoreVerdict(store.name, describe(ref),
                           f"the password in {describe(ref)} does not open it")


async def keystore_problems(container: Transport, refs: Sequence[KeystoreRef],
                            stores: Mapping[str, SetFile],
                            configs: Mapping[str, bytes | None]) -> list[tuple[KeystoreRef, str]]:
    """Each key store among ``stores`` that the node's configured password (``configs``:
    the referenced files' bytes) would not open, with why."""
    found = []
    for ref in refs:
        if ref.file in stores:
            verdict = await check_keystore(container, ref, stores[ref.file],
                                           configs.get(ref.password_from.file))
            if verdict.problem is not None:
                found.append((ref, verdict.problem))
    return found
