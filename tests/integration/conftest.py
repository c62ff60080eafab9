"""The lab for integration tests: real sshd and slapd on loopback, in mount namespaces.

These tests never skip in CI (CI=true): missing root or engines is a failure there.
Elsewhere they skip with the reason, so a developer without root can run the unit tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from gluu_cluster.inventory import Inventory, load_inventory
from tests.helpers import run_cli

ENGINES = ("sshd", "slapd", "slapadd", "ldapsearch", "ldapwhoami", "keytool", "unshare", "nsenter",
           "java", "unzip", "openssl", "nginx", "redis-server", "redis-cli")
LAB_BASE = "127.0.1.11"  # away from the demo lab's default 127.0.0.11


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "integration tests need root (mount namespaces, port 22 on loopback)"
    for tool in ENGINES:
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"'{tool}' is not installed: run scripts/install.sh"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if reason and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass(frozen=True)
class RunningLab:
    dir: Path
    inventory_path: Path
    inventory: Inventory
    nodes: int
    entries: int

    def root(self, node: str) -> Path:
        """The node's Gluu container root as seen from this machine."""
        return self.dir / "nodes" / node / "root"


@contextmanager
def running_lab(tmp_path_factory: pytest.TempPathFactory, base: str, nodes: int = 3,
                entries: int = 500, engine: str = "openldap",
                front: bool = False) -> Iterator[RunningLab]:
    """A lab of its own for a test module: lab up, yield, lab down (checked)."""
    reason = _missing()
    if reason:
        pytest.fail(reason)
    lab_dir = tmp_path_factory.mktemp("lab") / "gluu-lab"
    up = run_cli(["lab", "up", "--nodes", str(nodes), "--entries", str(entries),
                  "--base-address", base, "--lab-dir", str(lab_dir), "--engine", engine,
                  *(["--front"] if front else [])],
                 timeout=1200)
    assert up.returncode == 0, up.stderr + up.stdout
    inventory_path = lab_dir / "cluster.yaml"
    try:
        yield RunningLab(lab_dir, inventory_path, load_inventory(inventory_path), nodes, entries)
    finally:
        down = run_cli(["lab", "down", "--lab-dir", str(lab_dir)])
        assert down.returncode == 0, down.stderr + down.stdout


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """A lab nothing is applied to: for the lab's own shape and the transport."""
    with running_lab(tmp_path_factory, LAB_BASE) as running:
        yield running
