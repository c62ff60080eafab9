"""The lab's record of itself (lab.json): nodes, addresses, namespaces, process PID files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .layout import LabLayout, LabNode


@dataclass
class LabState:
    base_address: str
    entries: int
    inventory: str
    ssh_port: int = 22
    nodes: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    complete: bool = False
    engine: str = "openldap"  # the nodes' LDAP server (lab/servers.py)
    # The hosts in front of the nodes (load balancer, cache), when the lab has them:
    # [name, address] each.
    front: list[list[str]] = field(default_factory=list)

    def front_hosts(self, layout: LabLayout) -> list[LabNode]:
        return [LabNode(name, address, layout.dir / "nodes" / name)
                for name, address in self.front]

    def lab_nodes(self, layout: LabLayout) -> list[LabNode]:
        return [
            LabNode(name, address, layout.dir / "nodes" / name)
            for name, address in zip(self.nodes, self.addresses, strict=True)
        ]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LabState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
