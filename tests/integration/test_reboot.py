"""A cluster that heals itself (OpenLDAP lab): services enabled at boot, each node
rebooted in turn with writes and edits meanwhile, and a node dropping packets.

One lab for the module; the tests run in order (the first one applies).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.helpers import run_cli

from .conftest import RunningLab, running_lab
from .reboot_helpers import reboot_with_traffic, status_json


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, "127.0.14.11", entries=20) as running:
        yield running


def test_apply_enables_the_services_at_boot_and_mends_a_disabled_one(lab: RunningLab) -> None:
    applied = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"], timeout=600)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for node in ("node1", "node2", "node3"):
        for level in (2, 3, 4, 5):
            rc = lab.root(node) / f"etc/rc{level}.d"
            assert (rc / "S99gluu-csync2d").resolve() == lab.root(node) / "etc/init.d/gluu-csync2d"
            assert (rc / "S20solserver").exists()
    # An operator (or a package upgrade) disables the LDAP server at boot on node2.
    for level in (2, 3, 4, 5):
        (lab.root("node2") / f"etc/rc{level}.d/S20solserver").unlink()
    plan = run_cli(["plan", "-i", str(lab.inventory_path)])
    assert plan.returncode == 0, plan.stderr
    assert "node2" in plan.stdout and "the LDAP server" in plan.stdout, plan.stdout
    again = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"], timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert all((lab.root("node2") / f"etc/rc{level}.d").glob("S??solserver")
               for level in (2, 3, 4, 5))
    third = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"], timeout=600)
    assert third.returncode == 0 and "nothing to do" in third.stdout, third.stdout


@pytest.mark.parametrize("node", ["node1", "node2", "node3"])
def test_each_node_rebooted_in_turn_rejoins_with_no_apply(lab: RunningLab, node: str) -> None:
    result = reboot_with_traffic(lab, node)
    print(f"\n{node}: converged {result.converge_s:.1f} s after its boot")


@contextmanager
def dropping(address: str) -> Iterator[None]:
    rules = [["INPUT", "-d", address, "-j", "DROP"], ["INPUT", "-s", address, "-j", "DROP"]]
    for rule in rules:
        subprocess.run(["iptables", "-I", *rule], check=True)
    try:
        yield
    finally:
        for rule in rules:
            subprocess.run(["iptables", "-D", *rule], check=False)


def test_a_node_dropping_packets_costs_status_one_connect_timeout(lab: RunningLab) -> None:
    connect = lab.inventory.ssh_for(lab.inventory.node("node3")).connect_timeout
    with dropping(lab.inventory.node("node3").address):
        started = time.monotonic()
        code, status = status_json(lab)
        took = time.monotonic() - started
    problems = status["problems"]
    assert isinstance(problems, list)
    assert code == 1
    assert [(p["code"], p["node"]) for p in problems if p["node"] == "node3"] == [
        ("NODE-UNREACHABLE", "node3")], problems
    # The others did not wait on node3 (csync2 -T skips a peer found down): one connect
    # timeout, plus the reads themselves and the CLI's start.
    assert took < connect + 5, f"status took {took:.1f} s with node3 dropping packets"
    assert not [p for p in problems if "did not finish" in str(p.get("detail"))], problems
