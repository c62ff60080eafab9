"""plan/apply against the lab: idempotence, preflight failure changes nothing, secrets stay hidden."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.hosts.facts import BEGIN
from tests.helpers import run_cli, scan_command_lines

from .conftest import RunningLab, running_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """This module applies to its lab, so it has one of its own."""
    with running_lab(tmp_path_factory, "127.0.3.11", entries=300) as running:
        yield running


def reset_hosts(lab: RunningLab, node: str) -> bytes:
    """Remove the managed block from a node's /etc/hosts; return the new content."""

    async def go() -> bytes:
        async with ClusterConnection(lab.inventory) as cluster:
            host = cluster.handle(node).host
            text = b"127.0.0.1\tlocalhost\n"
            await host.write_file("/etc/hosts", text)
            return await host.read_file("/etc/hosts") or b""

    return asyncio.run(go())


def read_hosts(lab: RunningLab, node: str) -> bytes:
    async def go() -> bytes:
        async with ClusterConnection(lab.inventory) as cluster:
            return await cluster.handle(node).host.read_file("/etc/hosts") or b""

    return asyncio.run(go())


def test_apply_twice_second_run_is_a_no_op(lab: RunningLab) -> None:
    reset_hosts(lab, "node2")
    plan = run_cli(["plan", "-i", str(lab.inventory_path), "--format", "json"])
    assert plan.returncode == 0, plan.stderr
    assert '"action": "change"' in plan.stdout
    refused = run_cli(["apply", "-i", str(lab.inventory_path)])
    assert refused.returncode == 2, refused.stderr
    assert "is destructive" in refused.stderr and "nothing was changed" in refused.stderr
    assert BEGIN.encode() not in read_hosts(lab, "node2")
    first = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout
    assert "LDAP in sync on all 3 nodes" in first.stdout
    assert BEGIN.encode() in read_hosts(lab, "node2")
    second = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    again = run_cli(["apply", "-i", str(lab.inventory_path), "--format", "json"])
    assert again.returncode == 0, again.stderr
    assert '"changed": 0' in again.stdout


def bad_password_inventory(lab: RunningLab, tmp_path: Path) -> Path:
    data = yaml.safe_load(lab.inventory_path.read_text())
    data["ldap"]["admin_password"] = {"env": "GLUU_TEST_WRONG_PW"}
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_wrong_directory_manager_password_changes_nothing(lab: RunningLab, tmp_path: Path) -> None:
    before = reset_hosts(lab, "node3")
    result = run_cli(["apply", "-i", str(bad_password_inventory(lab, tmp_path))],
                     env={"GLUU_TEST_WRONG_PW": "definitely-not-it"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    for line, node in zip(lines, ("node1", "node2", "node3"), strict=True):
        assert line.startswith(f"error: {node}: the LDAP server refused the directory manager password")
    assert "definitely-not-it" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert read_hosts(lab, "node3") == before


def test_secret_never_on_a_command_line_or_in_logs(lab: RunningLab) -> None:
    password_file = lab.dir / "secrets" / "ldap-admin-password"
    secret = password_file.read_text().strip()
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    seen: list[str] = []
    outputs = ""
    saw_bind = False
    for _attempt in range(20):
        stop = threading.Event()
        scanner = threading.Thread(target=scan_command_lines, args=(stop, seen))
        scanner.start()
        result = subprocess.run(
            [sys.executable, "-m", "gluu_cluster.cli.main", "-vv", "plan", "-i",
             str(lab.inventory_path), "--format", "json"],
            capture_output=True, text=True, timeout=300, check=False,
        )
        stop.set()
        scanner.join()
        assert result.returncode == 0, result.stderr
        outputs += result.stdout + result.stderr
        # The scan must have caught the bind itself, or it proves nothing.
        saw_bind = any("ldapwhoami" in line for line in seen)
        if saw_bind:
            break
    assert saw_bind, "the process scan never caught ldapwhoami running"
    assert "DEBUG" in outputs  # -vv logging really ran
    assert all(secret not in line for line in seen)
    assert secret not in outputs
    sshd_logs = "".join(p.read_text() for p in (lab.dir / "nodes").glob("*/run/sshd.log"))
    assert secret not in sshd_logs
