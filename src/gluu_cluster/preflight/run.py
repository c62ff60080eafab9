"""Gather the preflight facts from every node in parallel and judge them."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError
from ..filesync.steps import TOOLS as SYNC_TOOLS
from ..inventory import Inventory
from ..problems import Problem
from . import evaluate
from .evaluate import Verdict
from .facts import NodeFacts, read_facts
from .ports import check_ports

LDAP_TOOLS = ("slapd", "slapcat", "slapadd", "ldapsearch", "ldapmodify")


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
    tools = ["sh", "tar"]
    if inventory.ldap is not None:
        tools += LDAP_TOOLS
    if any(s.truststore is not None for s in inventory.certificates.sets):
        tools.append("keytool")
    if inventory.file_sync.groups:
        tools += [t for t in SYNC_TOOLS if t not in tools]
    return tools


def cluster_ports(inventory: Inventory) -> list[int]:
    ports = []
    if inventory.ldap is not None:
        ports.append(inventory.ldap.port)
    if inventory.file_sync.groups:
        ports.append(inventory.file_sync.port)
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

    async def facts_of(handle: NodeHandle) -> NodeFacts:
        return await read_facts(handle, names, tools, pre.properties_file)

    gathered = await asyncio.gather(*(facts_of(h) for h in up), return_exceptions=True)
    facts: list[NodeFacts] = []
    for handle, got in zip(up, gathered, strict=True):
        if isinstance(got, GluuClusterError):
            verdicts.append(evaluate.verdict(handle.name, "reachable",
                                        evaluate.UNREACHABLE.at(handle.name, str(got)), ""))
        elif isinstance(got, BaseException):
            raise got
        else:
            facts.append(got)
    ok_handles = [h for h in up if any(f.node == h.name for f in facts)]
    ports = await check_ports(ok_handles, cluster_ports(inventory), pre.port_timeout,
                              {f.node: "python3" not in f.host_missing for f in facts})
    installable = list(SYNC_TOOLS)
    for f in facts:
        verdicts += evaluate.resources(inventory, f)
        verdicts.append(evaluate.software(inventory, f, installable))
        verdicts.append(evaluate.names(inventory, f))
    verdicts += evaluate.clocks(inventory, facts)
    verdicts += evaluate.container_roots(inventory, facts)
    verdicts += evaluate.properties(inventory, facts)
    verdicts += evaluate.ports(ports, [f.node for f in facts])
    order = {n: i for i, n in enumerate(names)}
    verdicts.sort(key=lambda v: order.get(v.node, 0))
    return CheckReport(inventory.cluster, verdicts)
