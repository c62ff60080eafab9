"""csync2 without nodes: rendering, output parsing, history ordering, key generation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gluu_cluster.errors import UsageError
from gluu_cluster.filesync.checks import NodeSyncStatus, problems_of
from gluu_cluster.filesync.csync2 import peer_problems
from gluu_cluster.filesync.facts import FileSyncFacts, parse_conflicts, parse_dirty
from gluu_cluster.filesync.first_sync import differences
from gluu_cluster.filesync.history import group_of, parse_versions
from gluu_cluster.filesync.node import group_key, supervisor_script
from gluu_cluster.filesync.render import csync2_cfg, supervisor_env
from gluu_cluster.inventory import load_inventory

INVENTORY = """\
cluster: lab
nodes:
  - {name: idp1.gluu.org, address: 192.168.6.1}
  - {name: idp2.gluu.org, address: 192.168.6.2}
file_sync:
  groups:
    - name: cluster_group
      paths: [/opt/idp/conf, /opt/tomcat/conf]
      exclude: ["*~", ".*"]
      actions:
        - pattern: /opt/tomcat/conf/*
          exec: /sbin/service tomcat restart
"""


@pytest.fixture
def inventory(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "cluster.yaml"
    path.write_text(INVENTORY)
    return load_inventory(path)


def test_csync2_cfg_has_the_seeds_settings_and_tls(inventory) -> None:  # type: ignore[no-untyped-def]
    cfg = csync2_cfg(inventory)
    assert "group cluster_group\n{" in cfg
    assert "host idp1.gluu.org idp2.gluu.org;" in cfg
    assert "key /etc/csync2/cluster_group.key;" in cfg
    assert "include /opt/idp/conf;" in cfg and "include /opt/tomcat/conf;" in cfg
    assert "exclude *~ .*;" in cfg
    assert 'exec "/sbin/service tomcat restart";' in cfg and "do-local;" in cfg
    assert "pattern /opt/tomcat/conf/*;" in cfg
    # 10 versions kept: csync2 keeps one fewer than backup-generations says.
    assert "backup-generations 11;" in cfg and "auto younger;" in cfg
    assert "nossl" not in cfg.replace("(no nossl)", "")


def test_supervisor_env_is_shell_safe(inventory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = tmp_path / "env"
    env.write_text(supervisor_env(inventory, "idp1.gluu.org"))
    shown = subprocess.run(["bash", "-c", '. "$1"; printf "%s|%s|%s|%s" "$NODE" "$PEERS" '
                            '"$WATCH" "$TIMEOUT"', "x", str(env)],
                           capture_output=True, text=True, check=True).stdout
    assert shown == "idp1.gluu.org|idp2.gluu.org|/opt/idp/conf\n/opt/tomcat/conf|30"


def test_supervisor_script_is_valid_bash() -> None:
    checked = subprocess.run(["bash", "-n"], input=supervisor_script(), text=True,
                             capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_test_output_lists_differences() -> None:
    out = "R\tnode1\tnode2\t/opt/a b.txt\nX\tnode1\tnode3\t/opt/c\nnoise\n"
    assert differences(out) == [("R", "node2", "/opt/a b.txt"), ("X", "node3", "/opt/c")]


def test_peer_problems_name_the_peer() -> None:
    out = ("Connecting to host node3 (SSL) ...\nResponse from peer(node3): Identification failed!\n"
           "Connecting to host node2 (SSL) ...\nCan't connect to remote host.\n")
    problems = peer_problems(out)
    assert "node3 refused this node's pre-shared key (the keys differ)" in problems
    assert "node2 is not reachable on the csync2 port" in problems
    trace = ("Connecting to host node3 (SSL) ...\n"
             "response from peer(/f): node3 [15] <- Permission denied!\n"
             "Connecting to host node2 (SSL) ...\nConfig command failed.\n")
    problems = peer_problems(trace)
    assert any(p.startswith("node3 refused the update") and "pre-shared key" in p for p in problems)
    assert any(p.startswith("node2 closed the connection") and "cluster CA" in p for p in problems)


def test_dirty_conflicts_and_problems() -> None:
    assert parse_dirty("dirty: /opt/idp/conf/x (node2)\nnothing\n") == [
        "dirty: /opt/idp/conf/x (node2)"]
    log = ("100\tnode2\t/opt/f\tAuto-resolving conflict: Won 'younger/older' test.\n"
           "200\tnode2\t/opt/g\tFile stays in dirty state. Do not auto-resolve conflict: none\n")
    conflicts = parse_conflicts(log, since=50)
    assert [c.resolved for c in conflicts] == [True, False]
    assert parse_conflicts(log, since=150)[0].path == "/opt/g"
    facts = FileSyncFacts("n1", daemon_pid=None, initialised=True, last_ok=None,
                          conflicts=tuple(conflicts), missing_tools=(), package_manager="apt-get",
                          certificate=None, pins={}, managed={},
                          dirty=("dirty: /opt/g (node2)",), test=None)
    status = NodeSyncStatus("n1", facts)
    codes = [p.code for p in problems_of([status, NodeSyncStatus("n2", error="unreachable")])]
    assert codes == ["SYNC-DAEMON-DOWN", "SYNC-DIRTY", "SYNC-NODE-UNREACHABLE", "SYNC-CONFLICT",
                     "SYNC-CONFLICT-RESOLVED"]


def test_a_conflict_is_said_once_and_a_decided_one_is_only_a_warning() -> None:
    from dataclasses import replace

    from gluu_cluster.problems import has_errors

    # Two nodes edited one file at once, several runs logged it on both: node1's version
    # won the 'younger' test, node2's went to node2's history.
    won = "Auto-resolving conflict: Won 'younger/older' test."
    lost = "Auto-resolving conflict: Lost 'younger/older' test."
    f = "/opt/idp/conf/idp.properties"

    def node(name: str, log: str, dirty: tuple[str, ...] = ()) -> NodeSyncStatus:
        return NodeSyncStatus(name, FileSyncFacts(
            name, daemon_pid=1, initialised=True, last_ok=1, missing_tools=(),
            conflicts=tuple(parse_conflicts(log)), package_manager="apt-get", certificate=None,
            pins={}, managed={}, dirty=dirty, test=None))

    one = node("node1", "".join(f"{t}\tnode2\t{f}\t{won}\n" for t in (100, 101, 102, 103)))
    two = node("node2", "".join(f"{t}\tnode1\t{f}\t{lost}\n" for t in (100, 101, 102, 103)))
    found = problems_of([one, two])
    assert [(p.code, p.node) for p in found] == [("SYNC-CONFLICT-RESOLVED", "node1")]
    assert not has_errors(found)
    assert "node2's is in its history: gluu-cluster sync history node2 " + f in found[0].detail
    # Undecided (policy none) and still dirty on node2: one error there, however many lines.
    none = "File stays in dirty state. Do not auto-resolve conflict: none"
    stuck = node("node2", f"100\tnode1\t{f}\t{none}\n200\tnode1\t{f}\t{none}\n",
                 dirty=(f"dirty: {f} (node1)",))
    assert [(p.code, p.node) for p in problems_of([stuck])] == [("SYNC-DIRTY", "node2"),
                                                                 ("SYNC-CONFLICT", "node2")]
    # Settled since (nothing dirty any more): nothing left to say about it.
    assert problems_of([replace(stuck, facts=replace(stuck.facts, dirty=()))]) == []  # type: ignore[type-var]


def test_history_newest_first_and_groups(inventory) -> None:  # type: ignore[no-untyped-def]
    out = ("100\t5\taaa\t/var/backups/csync2/opt/idp/conf/x.2\n"
           "300\t6\tbbb\t/var/backups/csync2/opt/idp/conf/x\n"
           "200\t7\tccc\t/var/backups/csync2/opt/idp/conf/x.restore-200\n")
    versions = parse_versions(out)
    assert [(v.number, v.saved_at) for v in versions] == [(1, 300), (2, 200), (3, 100)]
    assert group_of(inventory.file_sync, "/opt/idp/conf/sub/file").name == "cluster_group"
    with pytest.raises(UsageError, match="not in a synced directory"):
        group_of(inventory.file_sync, "/opt/idp/confidential")


def test_group_key_is_made_once_private_and_csync2_shaped(inventory) -> None:  # type: ignore[no-untyped-def]
    assert group_key(inventory, "cluster_group", create=False) is None  # planning makes none
    key = group_key(inventory, "cluster_group", create=True)
    assert key is not None and len(key) == 64 and all(c.isalnum() or c in "._" for c in key)
    path = inventory.local_path("pki") / "csync2-cluster_group.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert group_key(inventory, "cluster_group", create=False) == key


def test_exit_137_is_a_timeout_only_when_the_limit_passed(inventory) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from gluu_cluster.filesync.csync2 import Csync2
    from gluu_cluster.transport.fake import FakeTransport

    fake = FakeTransport(node="idp1.gluu.org")
    fake.answer(["timeout"], stdout="Connecting to host idp2.gluu.org (SSL) ...\n", exit_code=137)
    result = asyncio.run(Csync2(fake, inventory.file_sync).run("-u", timeout=5))
    assert result.killed and not result.timed_out and not result.ok
    assert result.problems == ["csync2 -u was killed by signal 9"]
