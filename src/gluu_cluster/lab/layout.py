"""Where a lab keeps its files, and the addresses and names of its nodes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

CONTAINER_ROOT = "/opt/gluu-server-lab"
# Host paths that are private per node inside its mount namespace (besides the container).
PRIVATE_HOST_DIRS = ("/etc/csync2", "/var/lib/csync2", "/var/backups/csync2")
MAX_NODES = 7
FRONT_HOSTS = ("front", "cache")  # lab up --front


@dataclass(frozen=True)
class LabNode:
    name: str
    address: str
    dir: Path

    @property
    def root(self) -> Path:
        """The node's container root as seen from the host (bound to CONTAINER_ROOT inside)."""
        return self.dir / "root"

    @property
    def ssh_dir(self) -> Path:
        return self.dir / "ssh"

    @property
    def run_dir(self) -> Path:
        return self.dir / "run"

    @property
    def hosts_file(self) -> Path:
        return self.dir / "etc-hosts"

    @property
    def bashrc(self) -> Path:
        return self.dir / "root-bashrc"

    def private_dir(self, host_path: str) -> Path:
        return self.dir / host_path.strip("/").replace("/", "-")

    @property
    def sshd_pid_file(self) -> Path:
        return self.run_dir / "sshd.pid"


@dataclass(frozen=True)
class LabLayout:
    dir: Path

    @property
    def state_file(self) -> Path:
        return self.dir / "lab.json"

    @property
    def ns_dir(self) -> Path:
        return self.dir / "ns"

    def ns_file(self, node: str) -> Path:
        return self.ns_dir / node

    @property
    def client_key(self) -> Path:
        return self.dir / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "ssh" / "known_hosts"

    def secret(self, name: str) -> Path:
        return self.dir / "secrets" / name

    def node(self, index: int, base_address: str) -> LabNode:
        address = str(ipaddress.IPv4Address(base_address) + index)
        name = f"node{index + 1}"
        return LabNode(name, address, self.dir / "nodes" / name)

    def front(self, nodes: int, base_address: str) -> list[LabNode]:
        """The hosts in front of the nodes, on the addresses after theirs: the load
        balancer's ("front") and the shared cache's ("cache")."""
        base = ipaddress.IPv4Address(base_address) + nodes
        return [LabNode(name, str(base + i), self.dir / "nodes" / name)
                for i, name in enumerate(FRONT_HOSTS)]


def node_addresses(base_address: str, count: int) -> list[str]:
    base = ipaddress.IPv4Address(base_address)
    if not base.is_loopback or not (base + count - 1).is_loopback:
        raise ValueError(f"lab addresses must be in 127.0.0.0/8; {base_address} + {count} is not")
    return [str(base + i) for i in range(count)]
