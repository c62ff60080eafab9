"""LDAP multi-provider replication on the lab's real slapd: apply, TLS, failures, repair."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.ldap.checks import wait_in_sync
from gluu_cluster.ldap.openldap.desired import CERT_FILE, KEY_FILE
from gluu_cluster.ldap.openldap.service import start_slapd, stop_slapd
from gluu_cluster.pki.ca import ClusterCA
from tests.helpers import run_cli

from .conftest import RunningLab, running_lab
from .ldap_helpers import directory, eventually, has, person, run


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, "127.0.4.11", entries=300) as running:
        applied = run_cli(["apply", "-i", str(running.inventory_path), "--yes"])
        assert applied.returncode == 0, applied.stderr + applied.stdout
        yield running


def status(lab: RunningLab) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli(["ldap", "status", "-i", str(lab.inventory_path), "--format", "json"])
    return result.returncode, json.loads(result.stdout)


def test_apply_makes_a_converged_three_node_cluster(lab: RunningLab) -> None:
    code, data = status(lab)
    assert code == 0, data["problems"]
    assert data["in_sync"] is True
    assert sorted(n["server_id"] for n in data["nodes"]) == [1, 2, 3]
    for node in data["nodes"]:
        assert node["entries"] == data["nodes"][0]["entries"]
        assert len(node["consumers"]) == 2
        assert all(c["phase"] == "Persist" and c["connected"] for c in node["consumers"])

    async def check(cluster: ClusterConnection) -> None:
        uuids = set()
        for handle in cluster.nodes:
            d = directory(cluster, handle.name)
            uuids.add((await d.entry("o=gluu", ["entryUUID"])).first("entryUUID"))  # type: ignore[union-attr]
            db = (await d.search("cn=config", "one", "(olcSuffix=o=gluu)", ["olcSyncrepl"]))[0]
            lines = db.get("olcSyncrepl")
            assert len(lines) == 2
            assert all("tls_reqcert=demand" in v and "ldaps://" in v and "never" not in v
                       and "syncdata=accesslog" in v for v in lines)
        assert len(uuids) == 1  # one directory, initialised from the primary

    run(lab.inventory, check)
    again = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr


def test_write_on_any_node_is_visible_on_all(lab: RunningLab) -> None:
    async def go(cluster: ClusterConnection) -> None:
        for writer in ("node1", "node2", "node3"):
            dn = f"uid=from-{writer},ou=people,o=gluu"
            await directory(cluster, writer).modify(person(f"from-{writer}"), add=True)
            for reader in ("node1", "node2", "node3"):
                await eventually(lambda r=reader, d=dn: has(cluster, r, d), 15, f"{dn} on {reader}")

    run(lab.inventory, go)


def _slapd_pid(lab: RunningLab, node: str) -> int:
    return int((lab.root(node) / "run/slapd/slapd.pid").read_text().split()[0])


def test_sigkill_during_1000_writes_loses_nothing(lab: RunningLab) -> None:
    records = "".join(person(f"bulk{i:04d}") for i in range(1000))

    async def go(cluster: ClusterConnection) -> None:
        settings = cluster.inventory.ldap
        assert settings is not None
        writes = asyncio.create_task(directory(cluster, "node1").modify(records, add=True, timeout=600))
        await eventually(lambda: has(cluster, "node2", "uid=bulk0050,ou=people,o=gluu"), 30,
                         "the first writes reach node2")
        os.kill(_slapd_pid(lab, "node2"), signal.SIGKILL)
        await writes
        await start_slapd(cluster.handle("node2"), settings)
        await wait_in_sync(cluster, deadline_s=120)
        for node in ("node1", "node2", "node3"):
            found = await directory(cluster, node).search(
                "ou=people,o=gluu", "one", "(uid=bulk*)", ["1.1"])
            assert len(found) == 1000, (node, len(found))

    run(lab.inventory, go)


def _partition(address: str, on: bool) -> None:
    # Traffic to the node's LDAPS port, and from its consumers (they leave from its address).
    for rule in (["-d", address, "-p", "tcp", "--dport", "1636"],
                 ["-s", address, "-p", "tcp", "--dport", "1636"]):
        subprocess.run(["iptables", "-I" if on else "-D", "INPUT", *rule, "-j", "DROP"],
                       check=on)


def test_ten_second_partition_with_writes_on_both_sides_converges(lab: RunningLab) -> None:
    node3 = lab.inventory.node("node3").address

    async def go(cluster: ClusterConnection) -> None:
        settings = cluster.inventory.ldap
        assert settings is not None
        _partition(node3, True)
        try:
            for i in range(20):
                await directory(cluster, "node1").modify(person(f"majority{i:02d}"), add=True)
                await directory(cluster, "node3").modify(person(f"minority{i:02d}"), add=True)
                await asyncio.sleep(0.5)
            # Really partitioned: node3's writes have not reached node1.
            assert not await has(cluster, "node1", "uid=minority19,ou=people,o=gluu")
        finally:
            _partition(node3, False)
        await wait_in_sync(cluster, deadline_s=120)
        for node in ("node1", "node2", "node3"):
            found = await directory(cluster, node).search(
                "ou=people,o=gluu", "one", "(|(uid=majority*)(uid=minority*))", ["1.1"])
            assert len(found) == 40, (node, len(found))

    run(lab.inventory, go)


def test_tls_is_verified_a_foreign_certificate_is_refused_and_reported(
    lab: RunningLab, tmp_path: Path
) -> None:
    foreign = ClusterCA.load_or_create(tmp_path / "other-ca", "impostor")
    node3 = lab.inventory.node("node3")
    issued = foreign.issue(node3.name, node3.address)

    async def swap(cluster: ClusterConnection) -> None:
        settings = cluster.inventory.ldap
        assert settings is not None
        handle = cluster.handle("node3")
        await handle.container.write_file(KEY_FILE, issued.key_pem, mode=0o600)
        await handle.container.write_file(CERT_FILE, issued.cert_pem)
        await stop_slapd(handle, settings)
        await start_slapd(handle, settings)

    run(lab.inventory, swap)

    async def reported() -> bool:
        code, data = status(lab)
        return code == 1 and any(
            p["code"] == "LDAP-CONSUMER-DISCONNECTED" and p["node"] in ("node1", "node2")
            and node3.address in p["detail"] for p in data["problems"])

    asyncio.run(eventually(reported, 60, "the foreign certificate is reported"))
    fixed = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
    assert fixed.returncode == 0, fixed.stderr
    assert "node3 replication TLS" in fixed.stderr

    async def healthy() -> bool:
        return status(lab)[0] == 0

    asyncio.run(eventually(healthy, 90, "replication healthy again after apply"))


def test_concurrent_same_entry_writes_verify_and_repair(lab: RunningLab) -> None:
    dn = "uid=contested,ou=people,o=gluu"

    async def rounds(cluster: ClusterConnection) -> int:
        settings = cluster.inventory.ldap
        assert settings is not None
        await directory(cluster, "node1").modify(person("contested"), add=True)
        await wait_in_sync(cluster, deadline_s=60)
        for attempt in range(1, 16):
            await asyncio.gather(*(
                directory(cluster, n).modify(
                    f"dn: {dn}\nchangetype: modify\nreplace: description\n"
                    f"description: round {attempt} from {n}\n-\nreplace: sn\nsn: {n}-{attempt}\n")
                for n in ("node1", "node2", "node3")))
            await wait_in_sync(cluster, deadline_s=60)
            verify = run_cli(["ldap", "verify", "-i", str(lab.inventory_path), "--format", "json"])
            if verify.returncode == 1:
                return attempt
            assert verify.returncode == 0, verify.stderr
        return 0

    diverged_at = run(lab.inventory, rounds)
    if not diverged_at:
        # Divergence is probabilistic (13-25 % of rounds were measured for this issue);
        # when none came, make one for certain: an offline edit on node3 that never
        # enters its accesslog, so no peer ever hears of it.
        run(lab.inventory, lambda cluster: _offline_edit(cluster, "node3", dn))
    report = json.loads(run_cli(["ldap", "verify", "-i", str(lab.inventory_path),
                                 "--format", "json"]).stdout)
    differing = [d["dn"] for d in report["differences"]]
    assert dn in differing, report
    # Known, not understood (seen in about one CI run in three, never alone): the replicator
    # account differs between nodes after the earlier tests of this module. Repair must
    # mend it too; it is said as a warning in the run's summary, not hidden.
    others = [d for d in differing if d != dn]
    assert all(d == "cn=replicator,o=gluu" for d in others), report
    if others:
        warnings.warn(f"cn=replicator,o=gluu differed between nodes: {report}", stacklevel=1)
    repaired = run_cli(["ldap", "repair", "-i", str(lab.inventory_path)])
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"{dn}: rewrote" in repaired.stdout and "all nodes identical" in repaired.stdout
    clean = run_cli(["ldap", "verify", "-i", str(lab.inventory_path)])
    assert clean.returncode == 0 and "all identical" in clean.stdout


async def _offline_edit(cluster: ClusterConnection, node: str, dn: str) -> None:
    settings = cluster.inventory.ldap
    assert settings is not None
    handle = cluster.handle(node)
    current = await directory(cluster, node).entry(dn, ["entryCSN"])
    assert current is not None
    await stop_slapd(handle, settings)
    try:
        # Same entryCSN and no accesslog record: nothing tells the peers it changed.
        await handle.container.run(
            ["slapmodify", "-F", settings.config_dir, "-b", settings.suffix],
            stdin=f"dn: {dn}\nchangetype: modify\nreplace: description\ndescription: offline edit\n-\n"
                  f"replace: entryCSN\nentryCSN: {current.first('entryCSN')}\n-\n")
    finally:
        await start_slapd(handle, settings)
