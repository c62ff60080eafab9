"""The lab itself: real sshd and slapd per fake host, each with its own files."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.lab.layout import LabLayout
from gluu_cluster.lab.manager import Lab
from gluu_cluster.lab.proc import alive, mounts_under, pids_in_mount_ns, read_pid
from tests.helpers import run_cli

from .conftest import RunningLab

LDAPI = "ldapi://%2Frun%2Fslapd%2Fldapi"


async def count_entries(cluster: ClusterConnection, node: str, base: str = "o=gluu") -> int:
    result = await cluster.handle(node).container.run(
        ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", LDAPI, "-b", base, "1.1"]
    )
    return result.out.count("dn: ")


def test_lab_status_lists_running_nodes(lab: RunningLab) -> None:
    result = run_cli(["lab", "status", "--lab-dir", str(lab.dir), "--format", "json"])
    assert result.returncode == 0, result.stderr
    assert '"running": true' in result.stdout
    for name, address in (("node1", "127.0.1.11"), ("node2", "127.0.1.12"), ("node3", "127.0.1.13")):
        assert f'"name": "{name}"' in result.stdout and f'"address": "{address}"' in result.stdout


def test_lab_up_on_a_running_lab_changes_nothing(lab: RunningLab) -> None:
    before = {s.name: (s.sshd_pid, s.ldap_pid) for s in Lab(lab.dir).status()}
    result = run_cli(["lab", "up", "--nodes", "3", "--base-address", "127.0.1.11",
                      "--lab-dir", str(lab.dir)])
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout and "nothing changed" in result.stdout
    assert {s.name: (s.sshd_pid, s.ldap_pid) for s in Lab(lab.dir).status()} == before


def test_each_node_sees_only_its_own_files(lab: RunningLab) -> None:
    marker = "/opt/gluu-server-lab/opt/idp/conf/only-on-node1.txt"

    async def go() -> dict[str, bytes | None]:
        async with ClusterConnection(lab.inventory) as cluster:
            await cluster.handle("node1").host.write_file(marker, "node1 was here\n")
            await cluster.handle("node2").host.write_file("/etc/csync2/which", "node2\n")
            seen = {}
            for handle in cluster.nodes:
                seen[handle.name] = await handle.host.read_file(marker)
                seen[handle.name + ":csync2"] = await handle.host.read_file("/etc/csync2/which")
                seen[handle.name + ":setup"] = await handle.container.read_file(
                    "/install/community-edition-setup/setup.properties.last")
            return seen

    seen = asyncio.run(go())
    assert seen["node1"] == b"node1 was here\n"
    assert seen["node2"] is None and seen["node3"] is None
    assert seen["node2:csync2"] == b"node2\n"
    assert seen["node1:csync2"] is None and seen["node3:csync2"] is None
    for name in ("node1", "node2", "node3"):
        assert f"hostname={name}".encode() in (seen[name + ":setup"] or b"")
    # Nothing leaks to the machine the lab runs on.
    assert not Path(marker).exists()


def test_each_node_runs_its_own_slapd_with_a_gluu_tree(lab: RunningLab) -> None:
    async def uuids() -> dict[str, str]:
        async with ClusterConnection(lab.inventory) as cluster:
            out = {}
            for handle in cluster.nodes:
                result = await handle.container.run(
                    ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", LDAPI,
                     "-b", "o=gluu", "-s", "base", "entryUUID"])
                out[handle.name] = re.search(r"entryUUID: (\S+)", result.out).group(1)  # type: ignore[union-attr]
            return out

    by_node = asyncio.run(uuids())
    # Same DNs, own entryUUIDs: as after three separate installs.
    assert len(set(by_node.values())) == 3

    async def counts() -> dict[str, int]:
        async with ClusterConnection(lab.inventory) as cluster:
            return {h.name: await count_entries(cluster, h.name) for h in cluster.nodes}

    base = 5 + 1 + 1 + 4 + 1  # suffix and 4 OUs, admin group, one client, 4 scopes, Gluu config
    found = asyncio.run(counts())
    assert found == {"node1": base + 1 + lab.entries, "node2": base, "node3": base}


def test_each_node_has_its_own_certificates_and_truststore(lab: RunningLab) -> None:
    layout = LabLayout(lab.dir)
    certs = [
        (layout.dir / "nodes" / name / "root/etc/certs/httpd.crt").read_bytes()
        for name in ("node1", "node2", "node3")
    ]
    assert len(set(certs)) == 3
    for name in ("node1", "node2", "node3"):
        key = layout.dir / "nodes" / name / "root/etc/certs/shibIDP.key"
        assert key.stat().st_mode & 0o777 == 0o600
        store = layout.dir / "nodes" / name / "root/etc/ssl/certs/java/cacerts"
        assert store.stat().st_size > 0
    result = run_keytool_list(layout.dir / "nodes/node2/root/etc/ssl/certs/java/cacerts",
                              layout.secret("truststore-password"))
    assert "node2_httpd" in result and "node2_openldap" in result and "node1_httpd" not in result


def run_keytool_list(store: Path, password_file: Path) -> str:
    import subprocess

    out = subprocess.run(
        ["keytool", "-list", "-keystore", str(store), "-storepass:file", str(password_file)],
        capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_lab_down_leaves_no_process_and_no_mount(tmp_path: Path) -> None:
    lab_dir = tmp_path / "small-lab"
    up = run_cli(["lab", "up", "--nodes", "2", "--entries", "0", "--base-address", "127.0.2.11",
                  "--lab-dir", str(lab_dir)])
    assert up.returncode == 0, up.stderr + up.stdout
    the_lab = Lab(lab_dir)
    layout = the_lab.layout
    # A process started over SSH inside a node must go too.
    inventory = the_lab.state()
    assert inventory is not None
    from gluu_cluster.inventory import load_inventory

    inv = load_inventory(inventory.inventory)

    async def start_background() -> None:
        async with ClusterConnection(inv) as cluster:
            await cluster.handle("node2").host.run(
                ["sh", "-c", "nohup sleep 600 >/dev/null 2>&1 & echo $! > /var/lib/csync2/bg.pid"])

    asyncio.run(start_background())
    pids = []
    for name in ("node1", "node2"):
        pids += pids_in_mount_ns(layout.ns_file(name))
        node_dir = lab_dir / "nodes" / name
        assert alive(read_pid(node_dir / "run/sshd.pid"))
    background = read_pid(lab_dir / "nodes/node2/var-lib-csync2/bg.pid")
    assert background in pids and len(pids) >= 5
    down = run_cli(["lab", "down", "--lab-dir", str(lab_dir)])
    assert down.returncode == 0, down.stderr
    assert [p for p in pids if alive(p)] == []
    assert mounts_under(lab_dir) == []
    assert not lab_dir.exists()
    again = run_cli(["lab", "down", "--lab-dir", str(lab_dir)])
    assert again.returncode == 0 and "nothing to do" in again.stdout
    status = run_cli(["lab", "status", "--lab-dir", str(lab_dir)])
    assert status.returncode == 1


def test_lab_needs_root(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = str(tmp_path / "x")
    code = (
        "import os; os.geteuid = lambda: 1000\n"
        "from gluu_cluster.cli.main import main\n"
        f"raise SystemExit(main(['lab', 'up', '--lab-dir', {target!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: the lab needs root")
    assert not (tmp_path / "x").exists()

