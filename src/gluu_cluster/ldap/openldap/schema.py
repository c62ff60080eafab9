"""The schema must be the same everywhere: replicated entries are checked against it.

We do not replicate cn=schema (the seed's OpenDJ did); instead every node's schema is
proven identical before replication is set up, and a difference stops the plan with
the nodes named, since an entry valid on one node could be refused by another.
"""

from __future__ import annotations

from ...connection import NodeHandle
from ...errors import NodeCheckError
from ...plan import Change, NoOp, Outcome, Run, Step
from .facts import SCHEMA_FACTS


class LDAPSchemaStep(Step):
    name = "ldap-schema"
    title = "identical LDAP schema"
    tools = ("ldapsearch",)
    reads = (SCHEMA_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        primary = run.inventory.primary_node.name
        digests = await run.facts.every(SCHEMA_FACTS)  # read once, in parallel
        mine, theirs = digests[handle.name], digests[primary]
        if mine != theirs:
            raise NodeCheckError(
                handle.name,
                f"its LDAP schema differs from {primary}'s (digest {mine} vs {theirs}); "
                f"install the same Gluu version and custom schema on both, then run again",
            )
        return NoOp(handle.name, self.name, f"schema identical to {primary}'s ({mine})")

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        raise AssertionError("a read-only check never plans a change")
