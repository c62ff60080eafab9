"""Every step planned against the fake transport, from facts recorded on the lab's real
engines (fixtures/record.py): a fresh two-node lab and a converged three-node one."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.facts.script import FACT_PREFIX, render_section
from gluu_cluster.plan import Blocked, Change, NoOp, Plan, Run, build_plan
from gluu_cluster.steps import default_steps
from gluu_cluster.transport.fake import FakeTransport
from tests.unit.fixtures.record import ADMIN_PASSWORD, REPLICATION_PASSWORD
from tests.unit.recorded import recorded_cluster

SCRIPTS = ("hosts", "ldap", "ldap-schema", "pki", "filesync", "boot", "apps", "gluu-config")


def plan_of(cluster: ClusterConnection) -> Plan:
    return asyncio.run(build_plan(default_steps(cluster.inventory), Run.start(cluster)))


def fakes(cluster: ClusterConnection) -> list[FakeTransport]:
    return [h.host for h in cluster.nodes if isinstance(h.host, FakeTransport)]


def test_a_converged_cluster_plans_nothing_reading_each_area_once(tmp_path: Path) -> None:
    cluster = recorded_cluster("converged", tmp_path)
    plan = plan_of(cluster)
    assert plan.is_empty and not plan.blocked, [o for o in plan.outcomes if not isinstance(o, NoOp)]
    assert len(plan.outcomes) == 3 * len(default_steps(cluster.inventory))
    reasons = {(o.node, o.step): o.reason for o in plan.outcomes if isinstance(o, NoOp)}
    assert reasons[("node2", "ldap-consumers")] == "consumes from node1, node3"
    assert reasons[("node3", "ldap-provider")].startswith("server ID 3, syncprov, accesslog")
    for fake in fakes(cluster):
        # The directory manager's bind everywhere; the replicator's on the primary only.
        binds = ["ldap-admin-bind", "ldap-replicator-bind"][:2 if fake.node == "node1" else 1]
        assert Counter(fake.fact_reads) == Counter([*SCRIPTS, *binds]), fake.node
        # The passwords travel on stdin only: the directory manager's for its bind and for
        # the read of Gluu's configuration entry, the replicator's for its bind.
        secrets = [ADMIN_PASSWORD.encode(), REPLICATION_PASSWORD.encode()]
        assert fake.stdin_seen == [secrets[0], *secrets[:len(binds)]]
        assert all(p.decode() not in a for p in secrets for c in fake.calls for a in c)
        # ... every area the plan reads, in one round trip (the replicator's is asked later).
        assert len([c for c in fake.calls if any(a.startswith(FACT_PREFIX) for a in c)]) == len(binds)


def test_a_fresh_cluster_plans_the_guides_steps_and_writes_nothing(tmp_path: Path) -> None:
    cluster = recorded_cluster("fresh", tmp_path)
    plan = plan_of(cluster)
    changes = {(c.node, c.step): c for c in plan.changes}
    assert not plan.blocked
    for node in ("node1", "node2"):
        for step in ("ldap-tls", "ldap-general", "ldap-provider", "csync2-config",
                     "csync2-daemon", "csync2-first-sync"):
            assert (node, step) in changes, (node, step)
    init = changes[("node2", "ldap-init")]
    assert init.destructive and "different entryUUID" in init.details[0]
    assert ("node1", "ldap-init") not in changes  # the primary is the source
    assert changes[("node2", "csync2-first-sync")].destructive
    assert not changes[("node1", "csync2-first-sync")].destructive
    assert any("create the cluster CA" in d for d in changes[("node1", "ldap-tls")].details)
    assert any("pre-shared key" in d for d in changes[("node1", "csync2-config")].details)
    # Planning writes nothing: no CA, no group key here, no file written on a node.
    assert list((tmp_path / "fresh" / "pki").iterdir()) == []
    for fake in fakes(cluster):
        assert not any("gluu-write" in c or "ldapmodify" in c for c in fake.calls)


def test_every_change_carries_a_typed_payload(tmp_path: Path) -> None:
    plan = plan_of(recorded_cluster("fresh", tmp_path))
    for change in plan.changes:
        assert change.payload is not None, change
        with pytest.raises(AttributeError):
            change.payload.x = 1  # type: ignore[attr-defined]  # frozen


def test_a_node_refused_by_a_step_leaves_the_others_planned(tmp_path: Path) -> None:
    cluster = recorded_cluster("fresh", tmp_path)
    node2 = fakes(cluster)[1]
    # node2's container lacks csync2 and has no package manager: refused, with the fix.
    from gluu_cluster.facts.script import parse_sections

    sections = parse_sections(node2.facts["filesync"])  # type: ignore[arg-type]
    edited = b"".join(
        render_section(n, s.exit_code, b"csync2\n" if n == "missing" else
                       b"" if n == "manager" else s.stdout, s.stderr)
        for n, s in sections.items())
    node2.facts["filesync"] = edited
    plan = plan_of(cluster)
    refused = [o for o in plan.outcomes if isinstance(o, Blocked)]
    assert [(b.node, b.step) for b in refused] == [("node2", "csync2-install")]
    assert "apt-get install csync2" in refused[0].fix
    assert any(isinstance(o, Change) and o.node == "node1" for o in plan.outcomes)


def test_an_import_a_killed_run_cut_off_is_planned_again(tmp_path: Path) -> None:
    cluster = recorded_cluster("converged", tmp_path)
    run = Run.start(cluster, [("node2", "ldap-init")])
    plan = asyncio.run(build_plan(default_steps(cluster.inventory), run))
    [redo] = plan.changes
    assert (redo.node, redo.step, redo.destructive) == ("node2", "ldap-init", True)
    assert "killed during this node's initialisation" in redo.details[0]
