"""The guide's replicationSetup.py for OpenDJ: ``dsreplication enable`` of every node with
the primary (N-way: each enable joins the node to the whole topology, for the suffix and
cn=schema), then ``dsreplication initialize`` of the nodes whose data was made apart.

Both run on the primary with OpenDJ's own tool; passwords only in 0600 files, admin
connections trusting the nodes' own administration certificates (tools.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ...connection import NodeHandle
from ...errors import NodeCheckError
from ...inventory import Inventory, LDAPSettings, Node
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from .facts import OPENDJ_FACTS, OpenDJFacts, ldap_of
from .general import restart_pending
from .tools import STEP_TOOLS, TRUST, connection, dsconfig_batch, restart, run_tool


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
class TopologyPayload(Payload):
    batch: str  # dsconfig lines: servers no longer in the inventory, source addresses
    restart: bool  # a source address changed: OpenDJ uses it for connections it makes


async def _topology(handle: NodeHandle, run: Run, facts: OpenDJFacts, batch: str,
                    restarts: bool) -> None:
    """Apply a replication-topology batch on the node; restart it when its connections
    must be made again (a restart, not a toggle of the provider: writes taken while
    replication is off would never be replicated; stopped, it takes none)."""
    await dsconfig_batch(handle, run.inventory, facts.admin_cert, batch)
    # ldap-general, next, restarts the node anyway when its crypto manager changes: one
    # restart then serves both (a fresh node's first apply restarts it once).
    if restarts and not restart_pending(facts):
        await restart(handle, run.inventory)
    run.facts.touched(handle.name, (OPENDJ_FACTS,))


PROVIDER = '--provider-name "Multimaster Synchronization"'


def prune_batch(facts: OpenDJFacts, wanted: set[str]) -> tuple[list[str], list[str]]:
    """(the replication servers this node still names that no node of the inventory has,
    the dsconfig lines that forget them in its replication server and every domain)."""
    lines = [f'set-replication-server-prop {PROVIDER} --remove "replication-server:{gone}"'
             for gone in sorted(facts.configured_peers - wanted)]
    for base, servers in facts.domains:
        lines += [f'set-replication-domain-prop {PROVIDER} --domain-name "{base}" '
                  f'--remove "replication-server:{gone}"' for gone in sorted(servers - wanted)]
    stale = sorted(facts.configured_peers.union(*(s for _b, s in facts.domains)) - wanted)
    return stale, lines


def source_batch(facts: OpenDJFacts, address: str) -> list[str]:
    """The dsconfig lines that make the node's replication connections leave from its
    cluster address (OpenDJ otherwise lets the kernel choose: on a multi-homed host, or
    the lab's loopback, not the address firewalls and peers know it by)."""
    lines = []
    for name, have in facts.source_addresses:
        if have == address:
            continue
        target = (f'set-replication-domain-prop {PROVIDER} --domain-name "{name}"' if name
                  else f"set-replication-server-prop {PROVIDER}")
        lines.append(f'{target} --set "source-address:{address}"')
    return lines


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
            stale, prune = prune_batch(facts, {rs_address(n, settings) for n in inventory.nodes})
            sources = source_batch(facts, handle.node.address)
            if not stale and not sources:
                return NoOp(handle.name, self.name,
                            f"replicates {settings.suffix} (enabled with {primary.name})")
            what, details = [], []
            if stale:
                what.append(f"stop replicating with {', '.join(stale)} (no inventory node)")
                details.append("the removed node itself is left as it is: stop its OpenDJ, "
                               "or run 'dsreplication disable --disableAll' there")
            if sources:
                what.append(f"send replication from {handle.node.address}")
                details.append(f"source-address of {len(sources)} replication "
                               "server/domain(s), then restart OpenDJ (connections it has "
                               "keep their address until made again; with ldap-general's "
                               "restart when that has one to make)")
            return Change(handle.name, self.name, "; ".join(what), tuple(details),
                          payload=TopologyPayload("\n".join(prune + sources), bool(sources)))
        if handle.name == primary.name:
            return NoOp(handle.name, self.name, "the other nodes enable replication with it")
        return Change(handle.name, self.name,
                      f"enable replication of {settings.suffix} and cn=schema with {primary.name}",
                      (f"replication server on port {replication_port(handle.node, settings)}",),
                      payload=EnablePayload(primary.name))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        inventory = run.inventory
        settings = ldap_of(inventory)
        if isinstance(change.payload, TopologyPayload):
            await _topology(handle, run, await run.facts.of(OPENDJ_FACTS, handle),
                            change.payload.batch, change.payload.restart)
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
        run.facts.touched(handle.name, self.touches)
        # The replication server and domains enable made: their connections leave from
        # each node's address (the primary's only the first time).
        for node in (source, handle):
            facts = await run.facts.of(OPENDJ_FACTS, node)
            if lines := source_batch(facts, node.node.address):
                await _topology(node, run, facts, "\n".join(lines), restarts=True)


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


# $1 the install directory: a 0700 folder inside it, owned by the user OpenDJ runs as
# (its tasks read and write there); prints the folder and that user.
_WORKDIR = r"""
owner=$(stat -c %U "$1/config") || exit 90
dir=$(mktemp -d "$1/gluu-init.XXXXXX") || exit 91
chmod 700 "$dir" && chown "$owner" "$dir" || exit 92
printf '%s %s\n' "$dir" "$owner"
"""


async def _workdir(handle: NodeHandle, settings: LDAPSettings) -> tuple[str, str]:
    result = await handle.container.run(["sh", "-c", _WORKDIR, "gluu-opendj-workdir",
                                         settings.opendj.install_dir], timeout=60)
    folder, owner = result.out.split()
    return folder, owner


async def initialise_from_ldif(source: NodeHandle, targets: list[NodeHandle],
                               inventory: Inventory, certs: list[str],
                               backend: str | None) -> None:
    """Export the suffix on source once (online, with its replication state and
    generation), then import it online on every target at once. Each target keeps the
    source's generation and resumes replication from the exported state: changes made
    on any node since the export reach it from the replication servers. The export holds
    password hashes: it lives in 0700 folders, removed at the end. ``backend``: the
    source's backend holding the suffix (its facts' backend_id)."""
    settings = ldap_of(inventory)
    if backend is None:
        raise NodeCheckError(source.name, f"no backend holds {settings.suffix}")
    tool = f"{settings.opendj.install_dir}/bin"
    made: list[tuple[NodeHandle, str]] = []
    try:
        folder, _owner = await _workdir(source, settings)
        made.append((source, folder))
        await run_tool(source, inventory, [
            f"{tool}/export-ldif", *connection(source, settings), "--backendID", backend,
            "--includeBranch", settings.suffix, "--ldifFile", f"{folder}/export.ldif"],
            certs, timeout=3600)
        data = (await source.container.run(["cat", f"{folder}/export.ldif"],
                                           timeout=600)).stdout

        async def load(target: NodeHandle) -> None:
            where, owner = await _workdir(target, settings)
            made.append((target, where))
            await target.container.write_file(f"{where}/import.ldif", data, mode=0o600,
                                              owner=owner)
            await run_tool(target, inventory, [
                f"{tool}/import-ldif", *connection(target, settings), "--backendID", backend,
                "--includeBranch", settings.suffix, "--ldifFile", f"{where}/import.ldif"],
                certs, timeout=3600)

        # Every import runs to its end before the folders go; the first failure is raised.
        failures = [r for r in await asyncio.gather(*(load(t) for t in targets),
                                                    return_exceptions=True)
                    if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
    finally:
        for handle, folder in made:
            await handle.container.run(["rm", "-rf", "--", folder], timeout=120, check=False)


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
