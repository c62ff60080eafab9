"""What the OpenLDAP steps share: the settings, the replication secret, a node's slapd."""

from __future__ import annotations

from ...connection import NodeHandle
from ...errors import NodeCheckError
from ...inventory import Inventory, LDAPSettings
from .desired import check_credential
from .directory import NodeDirectory
from .facts import Database, LDAPFacts


def ldap_of(inventory: Inventory) -> LDAPSettings:
    """The LDAP settings; default_steps() only includes LDAP steps when there are some."""
    settings = inventory.ldap
    if settings is None:
        raise AssertionError("an LDAP step was planned for an inventory without 'ldap'")
    return settings


def replication_password(inventory: Inventory) -> str:
    ldap = ldap_of(inventory)
    if ldap.replication_password is None:
        raise NodeCheckError(
            inventory.primary_node.name,
            "ldap.replication_password is not set in the inventory: add a secret reference "
            "for the replicator account ({file: ...} or {env: ...})",
        )
    secret = ldap.replication_password.resolve(inventory.base_dir)
    try:
        check_credential(secret.reveal())
    except ValueError as exc:
        raise NodeCheckError(inventory.primary_node.name, str(exc)) from None
    return secret.reveal()


def directory_of(handle: NodeHandle, settings: LDAPSettings) -> NodeDirectory:
    return NodeDirectory(handle.container, settings.ldapi_socket)


def main_db_or_fail(facts: LDAPFacts, suffix: str) -> Database:
    db = facts.database(suffix)
    if db is None:
        raise NodeCheckError(facts.node, f"slapd has no database for suffix '{suffix}'")
    return db
