"""What the LDAP steps share within one run: settings, secrets, the CA, facts of every node."""

from __future__ import annotations

import asyncio

from ...connection import ClusterConnection, NodeHandle
from ...errors import NodeCheckError
from ...inventory import Inventory, LDAPSettings
from ...pki.ca import ClusterCA, cluster_ca
from ...secrets import Secret
from .desired import check_credential
from .directory import NodeDirectory
from .facts import Database, LDAPFacts, read_facts


class LDAPRun:
    """Created once per plan or apply and handed to every LDAP step."""

    def __init__(self) -> None:
        self._replication: Secret | None = None
        self._ca: ClusterCA | None = None
        # Facts are read once per node and read again only after a step changed the node.
        self._facts: dict[str, LDAPFacts] = {}

    async def facts(self, handle: NodeHandle, settings: LDAPSettings) -> LDAPFacts:
        if handle.name not in self._facts:
            self._facts[handle.name] = await node_facts(handle, settings)
        return self._facts[handle.name]

    async def all_facts(self, cluster: ClusterConnection, settings: LDAPSettings) -> dict[str, LDAPFacts]:
        results = await asyncio.gather(*(self.facts(h, settings) for h in cluster.nodes))
        return {h.name: f for h, f in zip(cluster.nodes, results, strict=True)}

    def changed(self, node: str) -> None:
        self._facts.pop(node, None)

    def replication_password(self, inventory: Inventory) -> str:
        ldap = inventory.ldap
        assert ldap is not None
        if ldap.replication_password is None:
            raise NodeCheckError(
                inventory.primary_node.name,
                "ldap.replication_password is not set in the inventory: add a secret reference "
                "for the replicator account ({file: ...} or {env: ...})",
            )
        if self._replication is None:
            self._replication = ldap.replication_password.resolve(inventory.base_dir)
            try:
                check_credential(self._replication.reveal())
            except ValueError as exc:
                raise NodeCheckError(inventory.primary_node.name, str(exc)) from None
        return self._replication.reveal()

    def ca(self, inventory: Inventory, create: bool) -> ClusterCA | None:
        if self._ca is None:
            self._ca = cluster_ca(inventory.local_path(inventory.pki.directory),
                                  inventory.cluster, create)
        return self._ca


def ldap_of(cluster: ClusterConnection) -> LDAPSettings:
    """The LDAP settings; default_steps() only includes LDAP steps when there are some."""
    settings = cluster.inventory.ldap
    if settings is None:
        raise AssertionError("an LDAP step was planned for an inventory without 'ldap'")
    return settings


def directory_of(handle: NodeHandle, settings: LDAPSettings) -> NodeDirectory:
    return NodeDirectory(handle.container, settings.ldapi_socket)


async def node_facts(handle: NodeHandle, settings: LDAPSettings) -> LDAPFacts:
    return await read_facts(handle.container, settings.ldapi_socket, settings.suffix,
                            settings.replicator)


def main_db_or_fail(facts: LDAPFacts, suffix: str) -> Database:
    db = facts.database(suffix)
    if db is None:
        raise NodeCheckError(facts.node, f"slapd has no database for suffix '{suffix}'")
    return db
