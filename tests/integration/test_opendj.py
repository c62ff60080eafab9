"""The OpenDJ engine on a real 3-node lab: each node's own OpenDJ 5.0.3 set up apart,
then one apply makes them one replicated cluster (dsreplication enable + initialize)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.ldap.checks import wait_in_sync
from gluu_cluster.ldap.service import start_server
from tests.helpers import run_cli, scan_command_lines
from tests.integration.conftest import RunningLab, running_lab
from tests.integration.reboot_helpers import reboot_with_traffic

BASE = "127.0.20.11"
ADDRESSES = {"node1": "127.0.20.11", "node2": "127.0.20.12", "node3": "127.0.20.13"}
LDAP_PORT = 1389


@dataclass(frozen=True)
class Converged:
    lab: RunningLab
    first: subprocess.CompletedProcess[str]
    command_lines: list[str]
    password_file: Path  # the directory manager's password, no newline, 0600

    def password(self) -> str:
        return self.password_file.read_text()


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Converged]:
    with running_lab(tmp_path_factory, BASE, nodes=3, entries=200, engine="opendj") as lab:
        password = (lab.dir / "secrets" / "ldap-admin-password").read_text().strip()
        password_file = tmp_path_factory.mktemp("opendj") / "dm-password"
        password_file.write_text(password)
        password_file.chmod(0o600)
        stop, seen = threading.Event(), []
        scanner = threading.Thread(target=scan_command_lines, args=(stop, seen))
        scanner.start()
        try:
            first = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"], timeout=1200)
        finally:
            stop.set()
            scanner.join()
        yield Converged(lab, first, seen, password_file)


def ldap(tool: str, converged: Converged, node: str, *args: str,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "-x", "-H", f"ldap://{ADDRESSES[node]}:{LDAP_PORT}", "-D", "cn=directory manager",
         "-y", str(converged.password_file), *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=False)


def test_one_apply_replicates_the_separately_made_nodes(converged: Converged) -> None:
    first = converged.first
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    progress = first.stderr.splitlines()
    for node in ("node2", "node3"):
        for what in ("enable replication of o=gluu and cn=schema with node1",
                     "replace this node's o=gluu with node1's (dsreplication initialize)"):
            assert any(f"] {node} " in line and what in line for line in progress), what
    assert "LDAP in sync on all 3 nodes" in first.stdout
    assert "converged" in first.stdout
    again = run_cli(["apply", "-i", str(converged.lab.inventory_path), "--yes"])
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to do" in again.stdout


def test_status_shows_every_opendj_node_in_sync(converged: Converged) -> None:
    result = run_cli(["status", "-i", str(converged.lab.inventory_path), "--format", "json"])
    assert result.returncode == 0, result.stdout + result.stderr
    status = yaml.safe_load(result.stdout)
    rows = {row["node"]: row for row in status["nodes"]}
    assert set(rows) == set(ADDRESSES)
    ids = {row["server_id"] for row in rows.values()}
    assert len(ids) == 3 and None not in ids
    entries = {row["entries"] for row in rows.values()}
    assert len(entries) == 1 and entries.pop() > 200
    assert {row["replication"] for row in rows.values()} == {"in sync"}


def test_replication_sessions_are_encrypted_and_the_guides_settings_hold(
        converged: Converged) -> None:
    for node in ADDRESSES:
        monitor = ldap("ldapsearch", converged, node, "-LLL", "-o", "ldif-wrap=no", "-b",
                       "cn=o_gluu,cn=Replication,cn=monitor", "(ssl-encryption=*)",
                       "ssl-encryption")
        assert monitor.returncode == 0, monitor.stderr
        values = [ln.split(": ", 1)[1] for ln in monitor.stdout.splitlines()
                  if ln.startswith("ssl-encryption: ")]
        assert values and set(values) == {"true"}, (node, monitor.stdout)
        config = ldap("ldapsearch", converged, node, "-LLL", "-b", "cn=config", "-s", "base",
                      "(objectClass=*)", "ds-cfg-size-limit",
                      "ds-cfg-single-structural-objectclass-behavior")
        assert "ds-cfg-size-limit: 0" in config.stdout, config.stdout
        assert "ds-cfg-single-structural-objectclass-behavior: accept" in config.stdout


def test_a_write_on_each_node_is_seen_on_every_node(converged: Converged) -> None:
    for node in ADDRESSES:
        add = ldap("ldapadd", converged, node,
                   stdin=f"dn: ou=written-on-{node},o=gluu\nobjectClass: top\n"
                         f"objectClass: organizationalUnit\nou: written-on-{node}\n")
        assert add.returncode == 0, add.stderr
    deadline = time.monotonic() + 60
    missing = {(reader, writer) for reader in ADDRESSES for writer in ADDRESSES}
    while missing and time.monotonic() < deadline:
        for reader, writer in sorted(missing):
            found = ldap("ldapsearch", converged, reader, "-LLL", "-b",
                         f"ou=written-on-{writer},o=gluu", "-s", "base", "1.1")
            if found.returncode == 0:
                missing.discard((reader, writer))
        time.sleep(0.2)
    assert not missing, f"not replicated (reader, writer): {sorted(missing)}"


def _count(converged: Converged, node: str, prefix: str) -> int:
    found = ldap("ldapsearch", converged, node, "-LLL", "-b", "ou=people,o=gluu", "-s", "one",
                 f"(uid={prefix}*)", "1.1")
    assert found.returncode == 0, found.stderr
    return sum(1 for line in found.stdout.splitlines() if line.startswith("dn:"))


def test_an_opendj_killed_during_1000_writes_catches_up_after_restart(
        converged: Converged) -> None:
    lab = converged.lab
    records = "".join(f"dn: uid=bulk{i:04d},ou=people,o=gluu\nobjectClass: inetOrgPerson\n"
                      f"uid: bulk{i:04d}\ncn: Bulk {i}\nsn: Bulk\n\n" for i in range(1000))
    writer = subprocess.Popen(
        ["ldapadd", "-x", "-H", f"ldap://{ADDRESSES['node1']}:{LDAP_PORT}", "-D",
         "cn=directory manager", "-y", str(converged.password_file)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert writer.stdin is not None
    feeder = threading.Thread(target=lambda: (writer.stdin.write(records),  # type: ignore[union-attr]
                                              writer.stdin.close()))  # type: ignore[union-attr]
    feeder.start()
    deadline = time.monotonic() + 60
    # Killed once the writes are seen flowing into node2 (an observed event, not a delay).
    while ldap("ldapsearch", converged, "node2", "-LLL", "-b", "uid=bulk0050,ou=people,o=gluu",
               "-s", "base", "1.1").returncode != 0:
        assert time.monotonic() < deadline, "the first writes never reached node2"
        time.sleep(0.1)
    pid_file = lab.root("node2") / "opt/opendj/logs/server.pid"
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    feeder.join(timeout=300)
    assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
    assert _count(converged, "node1", "bulk") == 1000

    async def restart_and_wait() -> None:
        async with ClusterConnection(lab.inventory) as cluster:
            assert lab.inventory.ldap is not None
            await start_server(cluster.handle("node2"), lab.inventory.ldap)
            await wait_in_sync(cluster, deadline_s=300)

    asyncio.run(restart_and_wait())
    for node in ADDRESSES:
        assert _count(converged, node, "bulk") == 1000, node


def test_no_password_on_any_command_line_while_apply_ran(converged: Converged) -> None:
    assert len(converged.command_lines) > 100  # the scanner saw the apply's processes
    secrets = converged.lab.dir / "secrets"
    for name in ("ldap-admin-password", "ldap-replication-password"):
        value = (secrets / name).read_text().strip()
        leaked = [line for line in converged.command_lines if value in line]
        assert not leaked, f"{name} on a command line: {leaked[:1]}"


def test_a_wrong_directory_manager_password_is_one_line_per_node_and_changes_nothing(
        converged: Converged, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password")
    wrong.chmod(0o600)
    data = yaml.safe_load(converged.lab.inventory_path.read_text())
    data["ldap"]["admin_password"] = {"file": str(wrong)}
    inventory = tmp_path / "cluster.yaml"
    inventory.write_text(yaml.safe_dump(data))
    result = run_cli(["apply", "-i", str(inventory), "--yes"])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    for line, node in zip(lines, ADDRESSES, strict=True):
        assert line.startswith(f"error: {node}: the LDAP server refused the directory manager "
                               "password"), result.stderr
    assert "not-the-password" not in result.stderr + result.stdout
    status = run_cli(["status", "-i", str(converged.lab.inventory_path)])
    assert status.returncode == 0, status.stdout + status.stderr


def _partition(node: str, on: bool) -> None:
    """Cut every packet between the node's address and its peers' (both directions; the
    replication connections leave from each node's address: source-address)."""
    for peer, address in ADDRESSES.items():
        if peer == node:
            continue
        for src, dst in ((ADDRESSES[node], address), (address, ADDRESSES[node])):
            subprocess.run(["iptables", "-I" if on else "-D", "INPUT", "-s", src, "-d", dst,
                            "-j", "DROP"], check=on)


def _add(converged: Converged, node: str, uid: str, cn: str) -> None:
    added = ldap("ldapadd", converged, node,
                 stdin=f"dn: uid={uid},ou=people,o=gluu\nobjectClass: inetOrgPerson\n"
                       f"uid: {uid}\ncn: {cn}\nsn: Test\n")
    assert added.returncode == 0, added.stderr


def _wait_in_sync(converged: Converged) -> None:
    async def wait() -> None:
        async with ClusterConnection(converged.lab.inventory) as cluster:
            await wait_in_sync(cluster, deadline_s=180)

    asyncio.run(wait())


def test_a_partition_with_writes_on_both_sides_heals_with_every_write_everywhere(
        converged: Converged) -> None:
    _partition("node3", True)
    try:
        for i in range(20):
            _add(converged, "node1", f"majority{i:02d}", "majority")
            _add(converged, "node3", f"minority{i:02d}", "minority")
        # Really cut: the last write on each side has reached the other side nowhere.
        assert ldap("ldapsearch", converged, "node1", "-LLL", "-b",
                    "uid=minority19,ou=people,o=gluu", "-s", "base", "1.1").returncode == 32
        assert ldap("ldapsearch", converged, "node3", "-LLL", "-b",
                    "uid=majority19,ou=people,o=gluu", "-s", "base", "1.1").returncode == 32
    finally:
        _partition("node3", False)
    _wait_in_sync(converged)
    for node in ADDRESSES:
        assert _count(converged, node, "majority") == 20, node
        assert _count(converged, node, "minority") == 20, node


def test_a_conflict_entry_made_on_purpose_is_reported_then_repaired(
        converged: Converged, tmp_path: Path) -> None:
    inventory = str(converged.lab.inventory_path)
    # Two entries renamed to one name on both sides of a partition: when it heals, OpenDJ
    # keeps one under the name and renames the other (ds-sync-conflict), not always the
    # same one on every node.
    _partition("node3", True)
    try:
        for node, side in (("node1", "left"), ("node3", "right")):
            _add(converged, node, f"clash-{side}", side)
            renamed = ldap("ldapmodify", converged, node,
                           stdin=f"dn: uid=clash-{side},ou=people,o=gluu\nchangetype: modrdn\n"
                                 "newrdn: uid=clash\ndeleteoldrdn: 1\n")
            assert renamed.returncode == 0, renamed.stderr
    finally:
        _partition("node3", False)
    _wait_in_sync(converged)
    deadline = time.monotonic() + 120
    while True:
        status = run_cli(["status", "-i", inventory, "--format", "json"])
        codes = [p["code"] for p in json.loads(status.stdout)["problems"]]
        if "LDAP-CONFLICT-ENTRY" in codes:
            break
        assert time.monotonic() < deadline, f"no conflict entry reported: {status.stdout}"
        time.sleep(0.5)
    assert status.returncode != 0
    on_primary = ldap("ldapsearch", converged, "node1", "-LLL", "-b",
                      "uid=clash,ou=people,o=gluu", "-s", "base", "cn").stdout
    winner = "left" if "cn: left" in on_primary else "right"
    loser = {"left": "right", "right": "left"}[winner]
    verify = run_cli(["ldap", "verify", "-i", inventory])
    assert verify.returncode == 1
    assert "conflict entry: entryuuid=" in verify.stdout, verify.stdout
    assert "(collided with uid=clash,ou=people,o=gluu" in verify.stdout, verify.stdout

    repaired = run_cli(["ldap", "repair", "-i", inventory, "--keep-dir", str(tmp_path / "kept")])
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "taken out on node1" in repaired.stdout and "all nodes identical" in repaired.stdout
    kept = list((tmp_path / "kept").iterdir())
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o777 == 0o600
    # The loser is in the file; the primary's winner holds the name on every node.
    assert f"cn: {loser}\n" in kept[0].read_text()
    for node in ADDRESSES:
        found = ldap("ldapsearch", converged, node, "-LLL", "-b", "uid=clash,ou=people,o=gluu",
                     "-s", "base", "cn")
        assert found.returncode == 0 and f"cn: {winner}" in found.stdout, (node, found.stdout)
    assert run_cli(["ldap", "verify", "-i", inventory]).returncode == 0
    _wait_in_sync(converged)
    final = run_cli(["status", "-i", inventory])
    assert final.returncode == 0, final.stdout + final.stderr


def test_ldaps_admin_and_replication_present_keys_from_the_cluster_ca_java_trusts(
        converged: Converged) -> None:
    from tests.integration.test_cluster import truststore_aliases

    lab = converged.lab
    ca = lab.dir / "pki" / "cluster-ca.crt"
    for index, (node, address) in enumerate(ADDRESSES.items()):
        # LDAPS, the administration connector and the replication server (which asks
        # for the peer's certificate too: s_client, having none, is refused after it).
        for port in (1636, 4444, 8989 + index):
            shown = subprocess.run(
                ["openssl", "s_client", "-connect", f"{address}:{port}", "-CAfile", str(ca),
                 "-verify_return_error", "-verify_ip", address],
                input="", capture_output=True, text=True, timeout=30, check=False)
            assert "Verify return code: 0 (ok)" in shown.stdout, (
                node, port, shown.stdout[-500:], shown.stderr[-500:])
            assert f"subject=O = gluu-cluster, CN = {node}" in shown.stdout, shown.stdout[-800:]
        # An LDAP client checking the certificate and the name: no --trustAll anywhere.
        found = subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-H", f"ldaps://{address}:1636", "-D",
             "cn=directory manager", "-y", str(converged.password_file), "-b", "o=gluu", "-s",
             "base", "1.1"], env={**os.environ, "LDAPTLS_CACERT": str(ca),
                                  "LDAPTLS_REQCERT": "demand"},
            capture_output=True, text=True, timeout=30, check=False)
        assert found.returncode == 0, (node, found.stderr)
        # The Gluu applications' Java truststore trusts every node's LDAPS through the CA.
        assert f"{node}_gluu-cluster-ca" in truststore_aliases(lab, node)


def test_ldap_init_replaces_a_replica_with_the_primarys_data(converged: Converged) -> None:
    inventory = str(converged.lab.inventory_path)
    _add(converged, "node1", "before-init", "before")
    refused = run_cli(["ldap", "init", "-i", inventory, "--from", "node1", "--to", "node3"])
    assert refused.returncode != 0 and "--yes" in refused.stderr
    done = run_cli(["ldap", "init", "-i", inventory, "--from", "node1", "--to", "node3", "--yes"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "node3: initialised from node1" in done.stdout
    _wait_in_sync(converged)
    # Replication resumed both ways: a write on the new replica reaches the primary.
    _add(converged, "node3", "after-init", "after")
    _wait_in_sync(converged)
    for node in ADDRESSES:
        assert _count(converged, node, "before-init") == 1, node
        assert _count(converged, node, "after-init") == 1, node
    # The LDIF way (an online export imported online): the same end state.
    by_ldif = run_cli(["ldap", "init", "-i", inventory, "--from", "node1", "--to", "node2",
                       "--ldif", "--yes"])
    assert by_ldif.returncode == 0, by_ldif.stdout + by_ldif.stderr
    _add(converged, "node2", "after-ldif", "after")
    _wait_in_sync(converged)
    for node in ADDRESSES:
        assert _count(converged, node, "after-ldif") == 1, node
    verified = run_cli(["ldap", "verify", "-i", inventory])
    assert verified.returncode == 0, verified.stdout


def test_a_rebooted_node_rejoins_with_no_apply(converged: Converged) -> None:
    """OpenDJ's own service and gluu-csync2d come back from the node's init scripts; the
    writes and edits made while it was down reach it, its last edit reaches the others."""
    for node in ("node1", "node2", "node3"):  # each in turn, the primary too
        result = reboot_with_traffic(converged.lab, node, deadline_s=300)
        print(f"\n{node}: converged {result.converge_s:.1f} s after its boot")
