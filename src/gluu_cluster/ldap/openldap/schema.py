"""The schema must be the same everywhere: replicated entries are checked against it.

We do not replicate cn=schema (the seed's OpenDJ did); instead every node's schema is
proven identical before replication is set up, and a difference stops the plan with
the nodes named, since an entry valid on one node could be refused by another.
"""

from __future__ import annotations

import hashlib

from ...connection import ClusterConnection, NodeHandle
from ...errors import NodeCheckError
from ...plan import Change, NoOp, Outcome, Step
from .common import directory_of, ldap_of
from .directory import Entry

SCHEMA_ATTRS = ("olcAttributeTypes", "olcObjectClasses", "olcObjectIdentifier", "olcLdapSyntaxes",
                "olcDitContentRules")


def schema_digest(entries: list[Entry]) -> str:
    """A digest of the schema definitions, independent of entry names and ordering prefixes."""
    definitions: list[str] = []
    for entry in entries:
        for attr in SCHEMA_ATTRS:
            definitions += [" ".join(v.split("}", 1)[-1].split()) for v in entry.get(attr)]
    return hashlib.sha256("\n".join(sorted(definitions)).encode()).hexdigest()[:16]


class LDAPSchemaStep(Step):
    name = "ldap-schema"
    title = "identical LDAP schema"

    def __init__(self) -> None:
        self._digests: dict[str, str] = {}

    async def prepare(self, cluster: ClusterConnection) -> None:
        settings = ldap_of(cluster)
        for handle in cluster.nodes:
            # The loaded schema files only: cn=schema itself also lists what slapd and its
            # modules define in code, which differs as soon as syncprov/accesslog load.
            found = await directory_of(handle, settings).search(
                "cn=schema,cn=config", "one", attrs=list(SCHEMA_ATTRS))
            self._digests[handle.name] = schema_digest(found)

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        primary = cluster.inventory.primary_node.name
        mine, theirs = self._digests[handle.name], self._digests[primary]
        if mine != theirs:
            raise NodeCheckError(
                handle.name,
                f"its LDAP schema differs from {primary}'s (digest {mine} vs {theirs}); "
                f"install the same Gluu version and custom schema on both, then run again",
            )
        return NoOp(handle.name, self.name, f"schema identical to {primary}'s ({mine})")

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        raise AssertionError("a read-only check never plans a change")
