"""The guide's replicationSetup.py for OpenDJ: ``dsreplication enable`` of every node with
the primary (N-way: each enable joins the node to the whole topology, for the suffix and
cn=schema), then ``dsreplication initialize`` of the nodes whose data was made apart.

Both run on the primary with OpenDJ's own tool; passwords only in 0600 files, admin
connections trusting the nodes' own administration certificates (tools.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...connection import NodeHandle
from ...errors import NodeCheckError
from ...inventory import Inventory, LDAPSettings, Node
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from .facts import OPENDJ_FACTS, OpenDJFacts, ldap_of
from .tools import STEP_TOOLS, TRUST, dsconfig_batch, run_tool


def replication_port(node: Node, settings: LDAPSettings) -> int:
    return node.replication_port or settings.opendj.replication_port


def rs_address(node: Node, settings: LDAPSettings) -> str:
    return f"{node.address}:{replication_port(node, settings)}".lower()


async def _certs(run: Run) -> list[str]:
    """Every node's administration certificate (the admin tools contact them all)."""
    every = await run.facts.every(OPENDJ_FACTS)
    missing = [n for n, f in every.items() if f.admin_cert is None]
    if missing:
        raise NodeCheckError(missing[0], "its OpenDJ administration connector did not present "
                             "a certificate: check that OpenDJ runs and listens on the admin port")
    return [f.admin_cert for f in every.values() if f.admin_cert is not None]


@dataclass(frozen=True)
class EnablePayload(Payload):
    primary: str


@dataclass(frozen=True)
class PrunePayload(Payload):
    batch: str  # dsconfig lines removing replication servers no longer in the inventory


def prune_batch(facts: OpenDJFacts, wanted: set[str]) -> tuple[list[str], str]:
    """(the replication servers this node still names that no node of the inventory has,
    the dsconfig batch that forgets them in its replication server and every domain)."""
    provider = '--provider-name "Multimaster Synchronization"'
    lines = [f'set-replication-server-prop {provider} --remove "replication-server:{gone}"'
             for gone in sorted(facts.configured_peers - wanted)]
    for base, servers in facts.domains:
        lines += [f'set-replication-domain-prop {provider} --domain-name "{base}" '
                  f'--remove "replication-server:{gone}"' for gone in sorted(servers - wanted)]
    stale = sorted(facts.configured_peers.union(*(s for _b, s in facts.domains)) - wanted)
    return stale, "\n".join(lines)


class OpenDJReplicationStep(Step):
    name = "ldap-replication"
    title = "OpenDJ replication (dsreplication enable)"
    tools = STEP_TOOLS
    reads = touches = (OPENDJ_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        settings = ldap_of(inventory)
        primary = inventory.primary_node
        facts: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
        if len(inventory.nodes) == 1:
            return NoOp(handle.name, self.name, "a single node: nothing to replicate with")
        # Enabled with the primary: its replication server names itself and the primary's
        # (a node enabled later is known to the earlier ones by its own connections: each
        # enable updates the two servers it names, as the guide's loop does).
        joined = {rs_address(handle.node, settings), rs_address(primary, settings)}
        if facts.server_id is not None and joined <= facts.configured_peers:
            stale, batch = prune_batch(facts, {rs_address(n, settings) for n in inventory.nodes})
            if stale:
                return Change(handle.name, self.name,
                              f"stop replicating with {', '.join(stale)} (no inventory node)",
                              ("the removed node itself is left as it is: stop its OpenDJ, or "
                               "run 'dsreplication disable --disableAll' there",),
                              payload=PrunePayload(batch))
            return NoOp(handle.name, self.name,
                        f"replicates {settings.suffix} (enabled with {primary.name})")
        if handle.name == primary.name:
            return NoOp(handle.name, self.name, "the other nodes enable replication with it")
        return Change(handle.name, self.name,
                      f"enable replication of {settings.suffix} and cn=schema with {primary.name}",
                      (f"replication server on port {replication_port(handle.node, settings)}",),
                      payload=EnablePayload(primary.name))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        inventory = run.inventory
        settings = ldap_of(inventory)
        if isinstance(change.payload, PrunePayload):
            facts: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
            await dsconfig_batch(handle, inventory, facts.admin_cert, change.payload.batch)
            return
        assert isinstance(change.payload, EnablePayload)
        source = run.cluster.handle(change.payload.primary)
        admin = str(settings.opendj.admin_port)
        argv = [
            f"{settings.opendj.install_dir}/bin/dsreplication", "enable", "--no-prompt",
            "--host1", source.node.address, "--port1", admin, "--bindDN1", settings.admin_dn,
            "--bindPasswordFile1", "@dm-password",
            "--replicationPort1", str(replication_port(source.node, settings)),
            # Encrypted replication on both (enable sets the crypto manager's ssl-encryption
            # from these: without them it turns off what the general step turned on).
            "--secureReplication1", "--secureReplication2",
            "--host2", handle.node.address, "--port2", admin, "--bindDN2", settings.admin_dn,
            "--bindPasswordFile2", "@dm-password",
            "--replicationPort2", str(replication_port(handle.node, settings)),
            "--adminUID", "admin", "--adminPasswordFile", "@admin-password",
            "--baseDN", settings.suffix, *TRUST,
        ]
        await run_tool(source, inventory, argv, await _certs(run))
        run.facts.touched(source.name, self.touches)  # the primary's topology changed too


@dataclass(frozen=True)
class InitPayload(Payload):
    primary: str


class OpenDJInitStep(Step):
    name = "ldap-init"
    title = "initialise replicas (dsreplication initialize)"
    tools = STEP_TOOLS
    reads = touches = (OPENDJ_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        settings = ldap_of(inventory)
        primary = inventory.primary_node
        if handle.name == primary.name:
            return NoOp(handle.name, self.name, "the primary: the others are made like it")
        mine: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
        theirs: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, run.cluster.handle(primary.name))
        if mine.generation_id is not None and mine.generation_id == theirs.generation_id:
            return NoOp(handle.name, self.name,
                        f"already a replica of {primary.name}'s {settings.suffix}")
        return Change(
            handle.name, self.name,
            f"replace this node's {settings.suffix} with {primary.name}'s "
            "(dsreplication initialize)",
            (f"{handle.name}'s {settings.suffix} was made apart (replication generation "
             f"{mine.generation_id or 'none'}, {primary.name}'s {theirs.generation_id or 'none'})",),
            destructive=True, payload=InitPayload(primary.name))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, InitPayload)
        await initialise(run.cluster.handle(change.payload.primary), handle, run.inventory,
                         await _certs(run))


async def initialise(source: NodeHandle, target: NodeHandle, inventory: Inventory,
                     certs: list[str]) -> None:
    """``dsreplication initialize`` of target from source (run on source; ``certs``: the
    two nodes' administration certificates at least)."""
    settings = ldap_of(inventory)
    admin = str(settings.opendj.admin_port)
    argv = [
        f"{settings.opendj.install_dir}/bin/dsreplication", "initialize", "--no-prompt",
        "--baseDN", settings.suffix, "--hostSource", source.node.address, "--portSource", admin,
        "--hostDestination", target.node.address, "--portDestination", admin,
        "--adminUID", "admin", "--adminPasswordFile", "@admin-password", *TRUST,
    ]
    await run_tool(source, inventory, argv, certs, timeout=3600)
