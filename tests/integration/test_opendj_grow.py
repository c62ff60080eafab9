"""A live OpenDJ cluster grows from 2 nodes to 3 and shrinks back to 2, each by editing the
inventory and running apply (a lab of its own: the shrink changes the survivors)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli
from tests.integration.conftest import running_lab

BASE = "127.0.21.11"


def ldap_search(address: str, password_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", f"ldap://{address}:1389", "-D",
         "cn=directory manager", "-y", str(password_file), *args],
        capture_output=True, text=True, timeout=60, check=False)


def test_two_to_three_to_two_nodes(tmp_path_factory: pytest.TempPathFactory,
                                   tmp_path: Path) -> None:
    with running_lab(tmp_path_factory, BASE, nodes=3, entries=100, engine="opendj") as lab:
        password = tmp_path / "dm-password"
        password.write_text((lab.dir / "secrets" / "ldap-admin-password").read_text().strip())
        password.chmod(0o600)
        full = yaml.safe_load(lab.inventory_path.read_text())
        two = tmp_path / "two.yaml"
        two.write_text(yaml.safe_dump(full | {"nodes": full["nodes"][:2]}))

        first = run_cli(["apply", "-i", str(two), "--yes"], timeout=1200)
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        assert "LDAP in sync on all 2 nodes" in first.stdout

        grown = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"], timeout=1200)
        assert grown.returncode == 0, grown.stdout[-2000:] + grown.stderr[-2000:]
        assert any("] node3 " in line and "enable replication" in line
                   for line in grown.stderr.splitlines()), grown.stderr
        assert "LDAP in sync on all 3 nodes" in grown.stdout
        add = subprocess.run(
            ["ldapadd", "-x", "-H", "ldap://127.0.21.11:1389", "-D", "cn=directory manager",
             "-y", str(password)],
            input="dn: ou=after-grow,o=gluu\nobjectClass: top\nobjectClass: organizationalUnit\n"
                  "ou: after-grow\n", capture_output=True, text=True, timeout=60, check=False)
        assert add.returncode == 0, add.stderr
        deadline = time.monotonic() + 60
        while ldap_search("127.0.21.13", password, "-b", "ou=after-grow,o=gluu", "-s", "base",
                          "1.1").returncode != 0:
            assert time.monotonic() < deadline, "a write on node1 never reached node3"
            time.sleep(0.2)

        shrunk = run_cli(["apply", "-i", str(two), "--yes"], timeout=1200)
        assert shrunk.returncode == 0, shrunk.stdout[-2000:] + shrunk.stderr[-2000:]
        # node3 was enabled with the primary: the primary's configuration named it (node2
        # knew it only by its connections).
        assert any("] node1 " in line and "stop replicating with 127.0.21.13:8991" in line
                   for line in shrunk.stderr.splitlines()), shrunk.stderr
        for address in ("127.0.21.11", "127.0.21.12"):
            config = ldap_search(
                address, password, "-b",
                "cn=Multimaster Synchronization,cn=Synchronization Providers,cn=config",
                "(ds-cfg-replication-server=*)", "ds-cfg-replication-server")
            assert config.returncode == 0, config.stderr
            assert "127.0.21.11:8989" in config.stdout
            assert "127.0.21.13" not in config.stdout, config.stdout
        again = run_cli(["apply", "-i", str(two), "--yes"])
        assert again.returncode == 0, again.stdout + again.stderr
        assert "nothing to do" in again.stdout
