"""Planning and applying with the fake transport: rendering, no-ops, errors, idempotence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rich.console import Console

from gluu_cluster.apply import apply_steps
from gluu_cluster.cli.converge import render_plan
from gluu_cluster.connection import ClusterConnection, NodeHandle
from gluu_cluster.errors import PlanError, StepError, UnreachableError, UsageError
from gluu_cluster.hosts.steps import HostsFileStep
from gluu_cluster.inventory import load_inventory
from gluu_cluster.plan import Change, NoOp, Outcome, Plan, Run, Step, build_plan
from gluu_cluster.transport.chroot import ChrootTransport
from gluu_cluster.transport.fake import FakeFile, FakeTransport

INVENTORY = """\
cluster: lab
container_root: /opt/gluu
nodes:
  - {name: n1, address: 10.9.0.1}
  - {name: n2, address: 10.9.0.2}
"""


@pytest.fixture
def cluster(tmp_path: Path) -> ClusterConnection:
    path = tmp_path / "cluster.yaml"
    path.write_text(INVENTORY)
    conn = ClusterConnection(load_inventory(path))
    for handle in conn.nodes:
        fake = FakeTransport(node=handle.name)
        fake.files["/etc/hosts"] = FakeFile(b"127.0.0.1 localhost\n")
        handle.host = fake
        handle.container = ChrootTransport(fake, handle.container_root)
    return conn


def fake_of(handle: NodeHandle) -> FakeTransport:
    assert isinstance(handle.host, FakeTransport)
    return handle.host


def test_plan_lists_a_change_per_node_and_changes_nothing(cluster: ClusterConnection) -> None:
    plan = asyncio.run(build_plan([HostsFileStep()], Run.start(cluster)))
    assert [c.node for c in plan.changes] == ["n1", "n2"]
    assert plan.changes[0].details == (
        "host: /etc/hosts gets entries for 2 nodes",
        "container /opt/gluu: /etc/hosts gets entries for 2 nodes",
    )
    for handle in cluster.nodes:
        assert fake_of(handle).files["/etc/hosts"].data == b"127.0.0.1 localhost\n"
        assert "/opt/gluu/etc/hosts" not in fake_of(handle).files
    # One fact script reads both hosts files; the container's through chroot.
    calls = fake_of(cluster.nodes[0]).calls
    assert len(calls) == 1 and calls[0][3] == "gluu-facts-hosts" and "/opt/gluu" in calls[0]


def test_apply_then_second_apply_is_a_no_op(cluster: ClusterConnection) -> None:
    first = asyncio.run(apply_steps([HostsFileStep()], Run.start(cluster)))
    assert len(first.applied) == 2 and not first.nothing_to_do
    hosts = fake_of(cluster.nodes[1]).files["/etc/hosts"]
    assert b"10.9.0.1\tn1" in hosts.data and hosts.mode == 0o644
    assert b"10.9.0.2\tn2" in fake_of(cluster.nodes[1]).files["/opt/gluu/etc/hosts"].data
    second = asyncio.run(apply_steps([HostsFileStep()], Run.start(cluster)))
    assert second.nothing_to_do
    assert all(isinstance(o, NoOp) for o in second.unchanged)


def test_plan_json_and_table_rendering() -> None:
    plan = Plan(
        cluster="lab",
        nodes=("n1", "n2"),
        outcomes=(
            Change("n1", "hosts-file", "write entries", ("host: 2 nodes",)),
            NoOp("n2", "hosts-file", "already lists all 2 nodes"),
        ),
    )
    data = plan.to_dict()
    assert data["changes"] == 1
    assert data["nodes"][0]["steps"][0] == {
        "step": "hosts-file", "action": "change", "summary": "write entries",
        "details": ["host: 2 nodes"], "destructive": False,
    }
    assert data["nodes"][1]["steps"][0] == {
        "step": "hosts-file", "action": "none", "reason": "already lists all 2 nodes"
    }
    json.dumps(data)
    console = Console(width=120, record=True)
    console.print(render_plan(plan))
    text = console.export_text()
    assert "n1" in text and "write entries" in text and "already lists all 2 nodes" in text


def test_unreachable_node_fails_the_plan_naming_every_such_node(cluster: ClusterConnection) -> None:
    for handle in cluster.nodes:
        fake_of(handle).fail_with = UnreachableError(handle.name, "cannot connect to 10.9.0.x:22")
    with pytest.raises(PlanError) as info:
        asyncio.run(build_plan([HostsFileStep()], Run.start(cluster)))
    assert [str(f).split(":")[0] for f in info.value.failures] == ["n1", "n2"]


class _Destructive(Step):
    name = "wipe"
    title = "wipe"

    def __init__(self) -> None:
        self.applied: list[str] = []

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        return Change(handle.name, self.name, "erase the directory", destructive=True)

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        self.applied.append(handle.name)


def test_destructive_change_needs_confirmation(cluster: ClusterConnection) -> None:
    step = _Destructive()
    with pytest.raises(UsageError, match="n1: step 'wipe' is destructive .* --yes"):
        asyncio.run(apply_steps([step], Run.start(cluster), confirm=lambda c: False))
    assert step.applied == []
    asyncio.run(apply_steps([step], Run.start(cluster), confirm=lambda c: True))
    assert step.applied == ["n1", "n2"]


def test_apply_stops_on_first_error_naming_node_and_step(cluster: ClusterConnection) -> None:
    fake = fake_of(cluster.nodes[0])
    # The write script fails on n1; n2 must not be touched.
    reported: list[tuple[str, str]] = []
    original_exec = fake._exec

    async def failing_write(argv, stdin, timeout):  # type: ignore[no-untyped-def]
        if "gluu-write" in argv:
            from gluu_cluster.transport.base import CommandResult

            return CommandResult(tuple(argv), 1, b"", b"sh: /etc/hosts: Read-only file system")
        return await original_exec(argv, stdin, timeout)

    fake._exec = failing_write  # type: ignore[method-assign]
    with pytest.raises(StepError) as info:
        asyncio.run(apply_steps([HostsFileStep()], Run.start(cluster),
                                report=lambda t, c, s: reported.append((c.node, s))))
    assert str(info.value).startswith("n1: step 'hosts-file' failed: cannot write /etc/hosts")
    assert "Read-only file system" in str(info.value)
    assert reported == [("n1", "start"), ("n1", "failed")]
    assert b"n1" not in fake_of(cluster.nodes[1]).files["/etc/hosts"].data
