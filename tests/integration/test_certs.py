"""Certificate sets on the lab: real files, real keytool, nodes that start different.

The tests run in order on one lab: the refused node first (before anything is synced),
then the converged set, backups, expiry warnings and rotation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gluu_cluster.pki.certset import certificates, parse_set_tar
from gluu_cluster.pki.keytool import parse_rfc_listing
from tests.helpers import run_cli, scan_command_lines

from .conftest import RunningLab, running_lab

CERTS = "etc/certs"
CACERTS = "etc/ssl/certs/java/cacerts"
SETUP = "install/community-edition-setup/setup.properties.last"
MASKS = ("httpd.", "asimba.", "asimbaIDP.", "shibIDP.")
NODES = ("node1", "node2", "node3")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, "127.0.11.11", entries=50) as running:
        yield running


def set_files(lab: RunningLab, node: str) -> dict[str, tuple[bytes, int]]:
    directory = lab.root(node) / CERTS
    return {p.name: (p.read_bytes(), p.stat().st_mode & 0o7777) for p in directory.iterdir()
            if p.is_file() and p.name.startswith(MASKS)}


def truststore(lab: RunningLab, node: str) -> dict[str, str]:
    """The node's truststore as the real keytool lists it (password from the 0600 file)."""
    listing = subprocess.run(
        ["keytool", "-J-Duser.language=en", "-list", "-rfc", "-keystore",
         str(lab.root(node) / CACERTS), "-storepass:file",
         str(lab.dir / "secrets" / "truststore-password")],
        capture_output=True, text=True, timeout=120, check=True)
    return parse_rfc_listing(listing.stdout)


def fingerprints(lab: RunningLab, node: str) -> dict[str, str]:
    directory = lab.root(node) / CERTS
    files = parse_set_tar(_tar_of(directory), ["httpd.*", "asimba.*", "asimbaIDP.*", "shibIDP.*"])
    return {name: info.fingerprint for name, info in certificates(files).items()}


def _tar_of(directory: Path) -> bytes:
    names = sorted(p.name for p in directory.iterdir() if p.is_file())
    return subprocess.run(["tar", "-C", str(directory), "-cf", "-", *names],
                          capture_output=True, check=True).stdout


def set_property(lab: RunningLab, node: str, key: str, value: str) -> str:
    path = lab.root(node) / SETUP
    lines = path.read_text().splitlines()
    old = next(line.split("=", 1)[1] for line in lines if line.startswith(f"{key}="))
    path.write_text("\n".join(f"{key}={value}" if line.startswith(f"{key}=") else line
                              for line in lines) + "\n")
    return old


def restarts(lab: RunningLab, node: str) -> int:
    log = lab.root(node) / "var/log/tomcat-restarts.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_node_whose_config_expects_another_keystore_password_is_refused(lab: RunningLab) -> None:
    before = {n: set_files(lab, n) for n in NODES}
    store_before = (lab.root("node3") / CACERTS).read_bytes()
    original = set_property(lab, "node3", "shibJksPass", "not-the-password-of-node1")
    try:
        # The preflight sees the differing setup.properties.last first and changes nothing...
        checked = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
        assert checked.returncode == 1 and "PRE-PROPERTIES-DIFFER" in checked.stderr
        assert "shibJksPass" in checked.stderr
        assert "not-the-password-of-node1" not in checked.stdout + checked.stderr
        assert set_files(lab, "node2") == before["node2"]
        # ...and with that check overridden, the step refuses node3 on its own.
        result = run_cli(["apply", "-i", str(lab.inventory_path), "--yes",
                          "--ignore-check", "PRE-PROPERTIES-DIFFER"])
        assert result.returncode == 1, result.stdout + result.stderr
        refused = [line for line in result.stderr.splitlines() if "refused" in line]
        assert len(refused) == 1 and refused[0].startswith("error: node3: certs-gluu refused")
        assert "shibIDP.jks" in refused[0] and "shibJksPass" in refused[0]
        assert "Traceback" not in result.stderr
        assert "not-the-password-of-node1" not in result.stdout + result.stderr
        # node3 untouched: its own files and truststore; the others converged.
        assert set_files(lab, "node3") == before["node3"]
        assert (lab.root("node3") / CACERTS).read_bytes() == store_before
        assert set_files(lab, "node2") == set_files(lab, "node1") == before["node1"]
    finally:
        set_property(lab, "node3", "shibJksPass", original)


def test_apply_gives_every_node_the_primary_set_and_trusts_it(lab: RunningLab) -> None:
    restarts_before = restarts(lab, "node3")
    seen: list[str] = []
    stop = threading.Event()
    scanner = threading.Thread(target=scan_command_lines, args=(stop, seen))
    scanner.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gluu_cluster.cli.main", "-vv", "apply", "-i",
             str(lab.inventory_path), "--yes"],
            capture_output=True, text=True, timeout=900, check=False)
    finally:
        stop.set()
        scanner.join()
    assert result.returncode == 0, result.stdout + result.stderr
    primary = set_files(lab, "node1")
    assert set_files(lab, "node2") == primary and set_files(lab, "node3") == primary
    assert primary["httpd.key"][1] == 0o600  # keys stay private
    prints = fingerprints(lab, "node1")
    assert len(prints) == 4
    for node in NODES:
        assert fingerprints(lab, node) == prints
        store = truststore(lab, node)
        for name, print_ in prints.items():
            assert store[f"{node}_{name.rsplit('.', 1)[0].lower()}"] == print_
        assert f"{node}_gluu-cluster-ca" in store  # slapd's issuer, for Java clients of LDAP
        assert len(store) > 100  # Debian's CA certificates left alone
    assert restarts(lab, "node3") == restarts_before + 1  # the set's action ran once
    # The store password went to keytool through the environment, never the command line.
    keytool_lines = [line for line in seen if "keytool" in line and "storepass" in line]
    assert keytool_lines, "the process scan never caught keytool running"
    password = (lab.dir / "secrets" / "truststore-password").read_text().strip()
    assert all(password not in line for line in seen)
    assert password not in result.stdout + result.stderr and "DEBUG" in result.stderr

    again = run_cli(["apply", "-i", str(lab.inventory_path), "--format", "json"])
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changed"] == 0
    status = run_cli(["certs", "status", "-i", str(lab.inventory_path), "--format", "json"])
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["sets"][0]["problems"] == []


def test_backups_restore_a_node_and_sync_heals_it(lab: RunningLab) -> None:
    listing = run_cli(["certs", "backups", "-i", str(lab.inventory_path), "node2",
                       "--format", "json"])
    assert listing.returncode == 0, listing.stderr
    first = json.loads(listing.stdout)["backups"][0]
    assert any(p.endswith("/httpd.key") for p in first["paths"])
    synced = set_files(lab, "node2")
    restored = run_cli(["certs", "restore", "-i", str(lab.inventory_path), "node2",
                        "--backup", first["id"]])
    assert restored.returncode == 0, restored.stderr
    own = set_files(lab, "node2")
    assert own != synced and own["httpd.key"][1] == 0o600
    assert fingerprints(lab, "node2")["httpd.crt"] != fingerprints(lab, "node1")["httpd.crt"]
    status = run_cli(["certs", "status", "-i", str(lab.inventory_path), "--format", "json"])
    assert status.returncode == 1
    codes = {(p["code"], p["node"]) for p in json.loads(status.stdout)["sets"][0]["problems"]}
    assert ("CERT-FILE-DIFFERS", "node2") in codes
    missing = run_cli(["certs", "restore", "-i", str(lab.inventory_path), "node2",
                       "--backup", "no-such-backup"])
    assert missing.returncode == 2 and "certs backups" in missing.stderr
    healed = run_cli(["certs", "sync", "-i", str(lab.inventory_path)])
    assert healed.returncode == 0, healed.stderr
    assert set_files(lab, "node2") == synced


def test_expiring_certificate_warns(lab: RunningLab) -> None:
    from gluu_cluster.lab.keys import self_signed

    pair = self_signed("node1 asimba", "node1", "127.0.11.11", days=10)
    directory = lab.root("node1") / CERTS
    (directory / "asimba.crt").write_bytes(pair.cert_pem)
    (directory / "asimba.key").write_bytes(pair.key_pem)
    synced = run_cli(["certs", "sync", "-i", str(lab.inventory_path)])
    assert synced.returncode == 0, synced.stderr
    status = run_cli(["certs", "status", "-i", str(lab.inventory_path), "--format", "json"])
    assert status.returncode == 0, status.stdout + status.stderr  # a warning does not fail
    problems = json.loads(status.stdout)["sets"][0]["problems"]
    assert {(p["code"], p["severity"], p["node"]) for p in problems} == {
        ("CERT-EXPIRING", "warning", n) for n in NODES}
    assert all("asimba.crt expires in 9 days" in p["detail"] for p in problems)


def test_rotate_refuses_weak_keys_and_changes_fingerprints_everywhere(lab: RunningLab) -> None:
    weak = run_cli(["certs", "rotate", "-i", str(lab.inventory_path), "--set", "gluu",
                    "--key-type", "rsa:1024"])
    assert weak.returncode == 2 and "too weak" in weak.stderr
    old = fingerprints(lab, "node1")
    restarts_before = {n: restarts(lab, n) for n in NODES}
    rotated = run_cli(["certs", "rotate", "-i", str(lab.inventory_path), "--set", "gluu",
                       "--key-type", "ec:p256"])
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    new = fingerprints(lab, "node1")
    assert set(new) == set(old) and all(new[name] != old[name] for name in old)
    for node in NODES:
        assert fingerprints(lab, node) == new
        store = truststore(lab, node)
        assert all(store[f"{node}_{n.rsplit('.', 1)[0].lower()}"] == fp for n, fp in new.items())
        assert restarts(lab, node) == restarts_before[node] + 1
    status = run_cli(["certs", "status", "-i", str(lab.inventory_path), "--format", "json"])
    assert status.returncode == 0, status.stdout
    rows = json.loads(status.stdout)["sets"][0]["nodes"][0]["files"]
    assert all(r["key"] == "ECDSA secp256r1" and r["key_matches"] for r in rows if r["fingerprint"])
    # The key stores were rebuilt with the passwords the configuration holds, in their type.
    stores = set_files(lab, "node2")
    assert stores["shibIDP.jks"][0].startswith(b"\xfe\xed\xfe\xed")  # still a real JKS
    assert not stores["asimbaIDP.jks"][0].startswith(b"\xfe\xed\xfe\xed")  # still PKCS12
    assert json.loads(status.stdout)["sets"][0]["problems"] == []
    listing = run_cli(["certs", "backups", "-i", str(lab.inventory_path), "node1",
                       "--format", "json"])
    assert any(b["reason"] == "before rotate" for b in json.loads(listing.stdout)["backups"])
