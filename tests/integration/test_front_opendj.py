"""The Gluu layer on the guide's own LDAP server: OpenDJ nodes behind nginx, sharing Redis
(lab up --engine opendj --front). The OpenLDAP module (test_front.py) covers the rest."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator

import pytest

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.lab.opendj import PID_FILE
from gluu_cluster.lab.proc import alive, read_pid
from gluu_cluster.ldap.engines import engine_for
from gluu_cluster.ldap.entry import Entry
from tests.helpers import eventually, run_cli

from .conftest import RunningLab, running_lab
from .front_helpers import Front

BASE = "127.0.23.11"  # nodes .11-.12, front .13, cache .14


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, BASE, nodes=2, entries=50, engine="opendj",
                     front=True) as running:
        applied = run_cli(["apply", "-i", str(running.inventory_path), "--yes"], timeout=1200)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        yield running


def config_on(lab: RunningLab, node: str) -> Entry:
    async def go() -> Entry:
        async with ClusterConnection(lab.inventory) as cluster:
            assert lab.inventory.ldap is not None
            entries = await engine_for(lab.inventory.ldap).entries(cluster.handle(node),
                                                                   lab.inventory)
        return next(e for e in entries if e.dn.lower() == "ou=configuration,o=gluu")
    return asyncio.run(go())


def test_converged_once_and_gluus_configuration_replicated(lab: RunningLab) -> None:
    again = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    entry = config_on(lab, "node2")  # written on node1, the primary
    idp = json.loads(entry.first("oxIDPAuthentication"))
    assert idp["config"]["servers"] == ["node1:1636", "node2:1636"]
    cache = json.loads(entry.first("oxCacheConfiguration"))
    assert cache["cacheProviderType"] == "REDIS"
    assert cache["redisConfiguration"]["servers"] == "127.0.23.14:16379"
    assert entry.first("oxTrustCacheRefreshServerIpAddress") == "127.0.23.11"


def test_a_session_started_on_one_node_continues_on_the_other(lab: RunningLab) -> None:
    front = Front(lab)
    sid = front.until_on("node1", "/oxauth/session/new")["session"]
    code, body = front.direct("node2", f"/oxauth/session/{sid}")
    assert code == 200 and body["data"]["created_on"] == "node1"


def test_with_opendj_down_on_node1_its_application_reads_node2(lab: RunningLab) -> None:
    front = Front(lab)
    assert front.direct("node1", "/ldap")[1]["ldap_server"] == "node1:1636"
    pid = read_pid(lab.root("node1") / PID_FILE.lstrip("/"))
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: not alive(pid), "node1's OpenDJ to end", timeout=30)
    try:
        code, body = front.direct("node1", "/ldap")
        assert (code, body["ldap_server"], body["tried"]) == (200, "node2:1636", ["node1:1636"])
        # Through the balancer too: whichever node serves, the login still reads LDAP.
        for _ in range(4):
            code, body = front.via("/ldap")
            assert code == 200 and body["ldap_server"] == "node2:1636", body
    finally:
        booted = run_cli(["lab", "reboot", "node1", "--lab-dir", str(lab.dir)], timeout=600)
        assert booted.returncode == 0, booted.stderr
    eventually(lambda: run_cli(["status", "-i", str(lab.inventory_path)]).returncode == 0,
               "the cluster to converge after node1's boot", timeout=180)
    assert front.direct("node1", "/ldap")[1]["ldap_server"] == "node1:1636"
