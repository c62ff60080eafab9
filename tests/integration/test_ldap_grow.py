"""A 2-node cluster grown to 3 and shrunk back by editing the inventory; ldap init live."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.inventory import load_inventory
from tests.helpers import run_cli

from .conftest import RunningLab, running_lab
from .ldap_helpers import directory, eventually, has, person, run


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, "127.0.7.11", entries=200) as running:
        yield running


def inventory_with(lab: RunningLab, names: list[str], path: Path) -> Path:
    data = yaml.safe_load(lab.inventory_path.read_text())
    data["nodes"] = [n for n in data["nodes"] if n["name"] in names]
    path.write_text(yaml.safe_dump(data))
    return path


def ldap_status(path: Path) -> dict:  # type: ignore[type-arg]
    result = run_cli(["ldap", "status", "-i", str(path), "--format", "json"])
    data = json.loads(result.stdout)
    data["exit"] = result.returncode
    return data


def replicates(path: Path, writer: str, reader: str, uid: str) -> None:
    inventory = load_inventory(path)

    async def go(cluster: ClusterConnection) -> None:
        await directory(cluster, writer).modify(person(uid), add=True)
        dn = f"uid={uid},ou=people,o=gluu"
        await eventually(lambda: has(cluster, reader, dn), 20, f"{dn} on {reader}")

    run(inventory, go)


def test_two_nodes_then_grow_to_three_then_shrink(lab: RunningLab, tmp_path: Path) -> None:
    two = inventory_with(lab, ["node1", "node2"], tmp_path / "two.yaml")
    applied = run_cli(["apply", "-i", str(two), "--yes"])
    assert applied.returncode == 0, applied.stderr
    assert "LDAP in sync on all 2 nodes" in applied.stdout
    data = ldap_status(two)
    assert data["exit"] == 0 and [len(n["consumers"]) for n in data["nodes"]] == [1, 1]
    replicates(two, "node2", "node1", "two-nodes")

    three = inventory_with(lab, ["node1", "node2", "node3"], tmp_path / "three.yaml")
    planned = run_cli(["plan", "-i", str(three), "--format", "json"])
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    steps = {(n["name"], s["step"]): s for n in plan["nodes"] for s in n["steps"]}
    assert steps[("node3", "ldap-init")]["destructive"] is True
    assert steps[("node1", "ldap-consumers")]["action"] == "change"
    assert steps[("node1", "ldap-init")]["action"] == "none"
    grown = run_cli(["apply", "-i", str(three), "--yes"])
    assert grown.returncode == 0, grown.stderr
    data = ldap_status(three)
    assert data["exit"] == 0, data["problems"]
    assert [len(n["consumers"]) for n in data["nodes"]] == [2, 2, 2]
    replicates(three, "node3", "node1", "grown")
    replicates(three, "node1", "node3", "grown-back")

    shrunk = run_cli(["apply", "-i", str(two), "--yes"])
    assert shrunk.returncode == 0, shrunk.stderr
    data = ldap_status(two)
    assert data["exit"] == 0, data["problems"]
    assert [len(n["consumers"]) for n in data["nodes"]] == [1, 1]
    assert all("127.0.7.13" not in c["provider"] for n in data["nodes"] for c in n["consumers"])
    replicates(two, "node1", "node2", "after-shrink")
    again = run_cli(["apply", "-i", str(two), "--yes"])
    assert "nothing to do" in again.stdout


def test_ldap_init_keeps_writes_made_during_the_export(lab: RunningLab, tmp_path: Path) -> None:
    two = inventory_with(lab, ["node1", "node2"], tmp_path / "two.yaml")
    assert run_cli(["apply", "-i", str(two), "--yes"]).returncode == 0
    inventory = load_inventory(two)
    records = "".join(person(f"during-init-{i:03d}") for i in range(300))

    async def go(cluster: ClusterConnection) -> None:
        writes = asyncio.create_task(directory(cluster, "node1").modify(records, add=True, timeout=600))
        init = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gluu_cluster.cli.main", "ldap", "init", "-i", str(two),
            "--from", "node1", "--to", "node2", "--yes",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await init.communicate()
        assert init.returncode == 0, err.decode()
        assert b"node2: initialised from node1" in out
        await writes
        await eventually(lambda: has(cluster, "node2", "uid=during-init-299,ou=people,o=gluu"),
                         60, "the last write on node2")
        found = await directory(cluster, "node2").search(
            "ou=people,o=gluu", "one", "(uid=during-init-*)", ["1.1"])
        assert len(found) == 300

    run(inventory, go)
    verify = run_cli(["ldap", "verify", "-i", str(two)])
    assert verify.returncode == 0, verify.stdout
