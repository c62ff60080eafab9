"""A node rebooted as its boot would start it, with writes and edits while it is down:
shared by the OpenLDAP and the OpenDJ suites (the engine's own add/exists)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.lab.manager import Lab
from gluu_cluster.ldap.engines import engine_for
from tests.helpers import run_cli

from .conftest import RunningLab
from .ldap_helpers import person, run

CONF = "opt/idp/conf"


@dataclass(frozen=True)
class Rebooted:
    node: str
    converge_s: float  # from the boot's end until `status` exits 0


def status_json(lab: RunningLab) -> tuple[int, dict[str, object]]:
    done = run_cli(["status", "-i", str(lab.inventory_path), "--format", "json"], timeout=120)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else {})


def converged_within(lab: RunningLab, deadline_s: float) -> float:
    started = time.monotonic()
    last: dict[str, object] = {}
    while time.monotonic() - started < deadline_s:
        code, last = status_json(lab)
        if code == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"not converged within {deadline_s:g} s: {last.get('problems')}")


def reboot_with_traffic(lab: RunningLab, node: str, writes: int = 5,
                        deadline_s: float = 240) -> Rebooted:
    """An edit on ``node`` just before it is killed (power cut), writes and edits on every
    other node while it is down, a boot from its init scripts, then: converged with no
    apply, every write on every node, every edit on every node."""
    others = [n.name for n in lab.inventory.nodes if n.name != node]
    every = [n.name for n in lab.inventory.nodes]
    before = lab.root(node) / CONF / f"before-reboot-{node}.txt"
    before.write_text(f"written on {node} just before it went down\n")
    the_lab = Lab(lab.dir)
    the_lab.halt(node, hard=True)
    dns = []

    async def write(cluster: ClusterConnection) -> None:
        assert cluster.inventory.ldap is not None
        engine = engine_for(cluster.inventory.ldap)
        for other in others:
            for i in range(writes):
                uid = f"reboot-{node}-{other}-{i}"
                await engine.add(cluster.handle(other), cluster.inventory, person(uid))
                dns.append(f"uid={uid},ou=people,o=gluu")

    run(lab.inventory, write)
    for other in others:
        (lab.root(other) / CONF / f"during-reboot-{node}-{other}.txt").write_text(
            f"written on {other} while {node} was down\n")
    the_lab.boot(node)
    took = converged_within(lab, deadline_s)

    async def check(cluster: ClusterConnection) -> None:
        assert cluster.inventory.ldap is not None
        engine = engine_for(cluster.inventory.ldap)
        for name in every:
            for dn in dns:
                assert await engine.exists(cluster.handle(name), cluster.inventory, dn), (name, dn)

    run(lab.inventory, check)
    edits = [before.relative_to(lab.root(node))] + [
        (lab.root(o) / CONF / f"during-reboot-{node}-{o}.txt").relative_to(lab.root(o))
        for o in others]
    for rel in edits:
        wanted = None
        for name in every:
            path = lab.root(name) / rel
            assert path.exists(), f"{rel} is not on {name}"
            wanted = wanted or path.read_bytes()
            assert path.read_bytes() == wanted, f"{rel} differs on {name}"
    return Rebooted(node, took)
