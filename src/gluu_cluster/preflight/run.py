"""Gather the preflight facts from every node in parallel and judge them."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError
from ..facts.script import SCRIPT_TOOLS
from ..filesync.facts import TOOLS as SYNC_TOOLS
from ..inventory import Inventory
from ..ldap.engines import engine_for
from ..plan import required_tools
from ..problems import Problem
from ..steps import default_steps
from . import evaluate
from .evaluate import Verdict
from .facts import NodeFacts, read_facts
from .ports import PortsOf, all_open, check_ports, guarded, targets_of


@dataclass
class CheckReport:
    cluster: str
    verdicts: list[Verdict]

    @property
    def problems(self) -> list[Problem]:
        return [v.problem for v in self.verdicts if v.problem is not None]

    @property
    def failed(self) -> bool:
        return any(v.state == "fail" for v in self.verdicts)

    def without(self, ignored: set[str]) -> CheckReport:
        """The report with the operator's --ignore-check codes turned into warnings."""
        kept = [v if v.problem is None or v.problem.code not in ignored or v.state != "fail"
                else Verdict(v.node, v.requirement, "warn", v.detail + " (ignored)", v.problem)
                for v in self.verdicts]
        return CheckReport(self.cluster, kept)

    def to_dict(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "ok": not self.failed,
                "checks": [{k: v for k, v in asdict(x).items() if k != "problem"}
                           | {"code": x.problem.code if x.problem else None,
                              "fix": x.problem.fix if x.problem else None}
                           for x in self.verdicts],
                "problems": [asdict(p) for p in self.problems]}


def tools_needed(inventory: Inventory) -> list[str]:
    """What the fact scripts and apply's steps run inside the container (the steps say)."""
    return list(dict.fromkeys([*SCRIPT_TOOLS, *required_tools(default_steps(inventory))]))


def cluster_ports(inventory: Inventory) -> PortsOf:
    """The ports each node's peers must reach it on: LDAP(S), file sync, and for OpenDJ the
    guide's administration (4444) and replication (8989, or the node's own) ports."""
    ports: PortsOf = {}
    for node in inventory.nodes:
        mine = []
        if inventory.ldap is not None:
            mine += engine_for(inventory.ldap).ports(node, inventory.ldap)
        if inventory.file_sync.groups:
            mine.append(inventory.file_sync.port)
        ports[node.name] = mine
    return ports


async def run_check(cluster: ClusterConnection) -> CheckReport:
    inventory = cluster.inventory
    pre = inventory.preflight
    down = await cluster.probe()
    verdicts = [evaluate.verdict(name, "reachable", evaluate.UNREACHABLE.at(name, err.detail), "")
                for name, err in down.items()]
    up = [h for h in cluster.nodes if h.name not in down]
    names = [n.name for n in inventory.nodes]
    tools = tools_needed(inventory)

    wanted = cluster_ports(inventory)
    ldap = inventory.ldap
    opendj_dir = ldap.opendj.install_dir if ldap is not None and ldap.engine == "opendj" else ""

    async def facts_of(handle: NodeHandle) -> NodeFacts:
        return await read_facts(handle, names, tools, pre.properties_file,
                                targets_of(handle, up, wanted), pre.port_timeout,
                                pre.max_clock_skew, opendj_dir)

    gathered = await asyncio.gather(*(guarded(facts_of(h)) for h in up))
    facts: list[NodeFacts] = []
    for handle, got in zip(up, gathered, strict=True):
        if isinstance(got, GluuClusterError):
            verdicts.append(evaluate.verdict(handle.name, "reachable",
                                        evaluate.UNREACHABLE.at(handle.name, str(got)), ""))
        else:
            facts.append(got)
    failed = {h.name for h in up} - {f.node for f in facts}
    # The fact scripts probed every peer; only where one did not answer are listeners
    # started (on a port nothing holds yet) and the probes sent again.
    ports = all_open(up, wanted, {f.node: f.ports for f in facts})
    if ports is None:
        ports = await check_ports(up, wanted, pre.port_timeout)
    ports = [p for p in ports if p.source not in failed and p.target not in failed]
    installable = list(SYNC_TOOLS)  # what the csync2-install step installs
    for f in facts:
        verdicts += evaluate.resources(inventory, f)
        verdicts.append(evaluate.software(inventory, f, installable))
        verdicts += evaluate.opendj(inventory, f)
        verdicts.append(evaluate.names(inventory, f))
    verdicts += evaluate.clocks(inventory, facts)
    verdicts += evaluate.container_roots(inventory, facts)
    verdicts += evaluate.properties(inventory, facts)
    verdicts += evaluate.ports(ports, [f.node for f in facts])
    order = {n: i for i, n in enumerate(names)}
    verdicts.sort(key=lambda v: order.get(v.node, 0))
    return CheckReport(inventory.cluster, verdicts)
