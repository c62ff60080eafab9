"""The Gluu layer on real daemons: nginx in front, Redis over TLS behind, and each node's
stand-in Gluu application reading LDAP through its failover list (lab up --front)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gluu_cluster.apps.encode import decode, parse_salt
from gluu_cluster.connection import ClusterConnection
from gluu_cluster.inventory import load_inventory
from gluu_cluster.lab.proc import alive, read_pid
from gluu_cluster.ldap.engines import engine_for
from gluu_cluster.ldap.entry import Entry
from gluu_cluster.ldap.openldap.directory import NodeDirectory
from gluu_cluster.status.gather import gather_status
from gluu_cluster.web.server import Latest, _node_body
from tests.helpers import eventually, run_cli, scan_command_lines

from .conftest import RunningLab, running_lab
from .front_helpers import Front

BASE = "127.0.19.11"  # nodes .11-.13, front .14, cache .15


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, BASE, nodes=3, entries=100, front=True) as running:
        seen: list[str] = []
        stop = threading.Event()
        scanner = threading.Thread(target=scan_command_lines, args=(stop, seen), daemon=True)
        scanner.start()
        try:
            applied = run_cli(["apply", "-i", str(running.inventory_path), "--yes"])
        finally:
            stop.set()
            scanner.join(timeout=30)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        (running.dir / "apply-command-lines.txt").write_text("\n".join(seen))
        yield running


@pytest.fixture()
def front(lab: RunningLab) -> Front:
    return Front(lab)


def status_json(path: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_cli(["status", "-i", str(path), "--format", "json"])
    return done.returncode, json.loads(done.stdout)


def test_apply_twice_changes_nothing_and_status_shows_the_services(lab: RunningLab) -> None:
    again = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    code, data = status_json(lab.inventory_path)
    assert code == 0, data["problems"]
    services = {s["role"]: s for s in data["services"]}
    assert services["load balancer"]["state"] == "up"
    assert services["cache"]["state"] == "up"
    assert "3 of 3 nodes reach it" in services["cache"]["detail"]
    assert [n["in_rotation"] for n in data["nodes"]] == [True, True, True]


def test_every_node_names_its_own_ldap_server_first_then_its_peers(lab: RunningLab) -> None:
    for me in ("node1", "node2", "node3"):
        text = (lab.root(me) / "etc/gluu/conf/ox-ldap.properties").read_text()
        servers = [line for line in text.splitlines() if line.startswith("servers:")]
        peers = [n for n in ("node1", "node2", "node3") if n != me]
        assert servers == [f"servers: {me}:1636, {peers[0]}:1636, {peers[1]}:1636"]
        assert "bindPassword:" in text  # the rest of the file kept as it was


def test_gluus_ldap_configuration_names_every_server_the_cache_and_one_refresh_node(
        lab: RunningLab) -> None:
    """Read on node3: the primary wrote it once, replication brought it."""
    inventory = load_inventory(lab.inventory_path)
    entry = read_config(lab, "node3")
    idp = json.loads(entry.first("oxIDPAuthentication"))
    assert idp["config"]["servers"] == ["node1:1636", "node2:1636", "node3:1636"]
    assert idp["config"]["bindDN"] == "cn=directory manager,o=gluu"  # the rest kept
    cache = json.loads(entry.first("oxCacheConfiguration"))
    redis = cache["redisConfiguration"]
    assert cache["cacheProviderType"] == "REDIS" and redis["useSSL"] is True
    assert redis["servers"] == "127.0.19.15:16379"
    salt = parse_salt((lab.root("node1") / "etc/gluu/conf/salt").read_text())
    assert inventory.cache.password is not None and salt is not None
    assert decode(salt, redis["password"]) == inventory.cache.password.resolve(
        inventory.base_dir).reveal()
    assert entry.first("oxTrustCacheRefreshServerIpAddress") == "127.0.19.11"

    # Put node2's view back to a single server: it replicates, status says so, apply mends.
    stale = Entry(entry.dn, {"oxidpauthentication": [
        json.dumps({**idp, "config": {**idp["config"], "servers": ["localhost:1636"]}}).encode()]})
    asyncio.run(_rewrite(lab, "node2", stale))
    eventually(lambda: "localhost:1636" in read_config(lab, "node1").first("oxIDPAuthentication"),
               "the edit to replicate to node1", timeout=30)
    code, data = status_json(lab.inventory_path)
    assert code == 0  # a warning
    assert [(p["code"], p["node"]) for p in data["problems"]] == [
        ("APPS-LDAP-CONFIG-STALE", "node1")]
    assert run_cli(["apply", "-i", str(lab.inventory_path), "--yes"]).returncode == 0
    eventually(lambda: "node3:1636" in read_config(lab, "node2").first("oxIDPAuthentication"),
               "the mended value on node2", timeout=30)
    assert status_json(lab.inventory_path)[1]["problems"] == []


def read_config(lab: RunningLab, node: str) -> Entry:
    async def go() -> Entry:
        async with ClusterConnection(lab.inventory) as cluster:
            found = await NodeDirectory(cluster.handle(node).container, "/run/slapd/ldapi").entry(
                "ou=configuration,o=gluu", ["*"])
            assert found is not None
            return found
    return asyncio.run(go())


async def _rewrite(lab: RunningLab, node: str, entry: Entry) -> None:
    async with ClusterConnection(lab.inventory) as cluster:
        await engine_for(lab.inventory.ldap).rewrite(cluster.handle(node), lab.inventory, entry)


def test_a_session_made_through_the_balancer_on_one_node_is_seen_on_another(
        front: Front) -> None:
    made = front.until_on("node1", "/oxauth/session/new")
    sid = made["session"]
    seen = front.direct("node2", f"/oxauth/session/{sid}")
    assert seen == (200, {"node": "node2", "session": sid,
                          "data": {"created_on": "node1", "at": seen[1]["data"]["at"]}})


def test_a_node_whose_ldap_server_is_down_reads_another_replica(front: Front,
                                                                 lab: RunningLab) -> None:
    assert front.direct("node1", "/ldap")[1]["ldap_server"] == "node1:1636"
    pid = read_pid(lab.root("node1") / "run/slapd/slapd.pid")
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    eventually(lambda: not alive(pid), "node1's slapd to stop", timeout=30)
    try:
        code, body = front.direct("node1", "/ldap")
        assert (code, body["ldap_server"], body["tried"]) == (200, "node2:1636", ["node1:1636"])
    finally:
        booted = run_cli(["lab", "reboot", "node1", "--lab-dir", str(lab.dir)])
        assert booted.returncode == 0, booted.stderr
    eventually(lambda: status_json(lab.inventory_path)[0] == 0, "the cluster to converge",
               timeout=120)
    assert front.direct("node1", "/ldap")[1]["ldap_server"] == "node1:1636"


def test_a_drained_node_gets_no_new_requests_and_answers_503_to_health(
        front: Front, lab: RunningLab) -> None:
    drained = run_cli(["drain", "node2", "-i", str(lab.inventory_path)])
    assert drained.returncode == 0 and "node2 drained" in drained.stdout, drained.stderr
    try:
        served = front.spread(90)
        assert served["node2"] == 0 and served["node1"] > 0 and served["node3"] > 0, served
        assert served["failed"] == 0, served
        status = asyncio.run(_status(lab))
        assert [r.in_rotation for r in status.nodes] == [True, False, True]
        latest = Latest(interval=10, status=status)
        assert _node_body(latest, "node2", status.taken_at)[0] == 503
        assert _node_body(latest, "node1", status.taken_at)[0] == 200
        assert status.healthy  # a drained node is a warning, not an error
        again = run_cli(["drain", "node2", "-i", str(lab.inventory_path)])
        assert again.returncode == 0 and "already drained" in again.stdout
    finally:
        back = run_cli(["undrain", "node2", "-i", str(lab.inventory_path)])
        assert back.returncode == 0, back.stderr
    assert front.spread(90)["node2"] > 0


def test_the_last_node_in_rotation_is_not_drained_without_force(lab: RunningLab) -> None:
    path = lab.inventory_path
    for node in ("node1", "node2"):
        assert run_cli(["drain", node, "-i", str(path)]).returncode == 0
    try:
        last = run_cli(["drain", "node3", "-i", str(path)])
        assert last.returncode == 2
        assert last.stderr.strip().splitlines() == [
            "error: node3: it is the last node in rotation; draining it stops all service "
            "(use --force if that is what you want)"]
    finally:
        for node in ("node1", "node2"):
            assert run_cli(["undrain", node, "-i", str(path)]).returncode == 0


def test_a_node_added_and_removed_reloads_the_balancer_dropping_no_request(
        front: Front, lab: RunningLab, tmp_path: Path) -> None:
    data = yaml.safe_load(lab.inventory_path.read_text())
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump({**data, "nodes": data["nodes"][:2]}))
    for path, wanted in ((two, 2), (lab.inventory_path, 3)):
        with front.loop() as outcome:
            applied = run_cli(["apply", "-i", str(path), "--yes"])
        assert applied.returncode == 0, applied.stdout + applied.stderr
        conf = (lab.root("front") / "etc/gluu-cluster/nginx/nginx.conf").read_text()
        assert conf.count("max_fails=") == 2 * wanted  # both upstreams list the nodes
        assert outcome["failed"] == 0 and outcome["ok"] > 20, outcome
        assert outcome["reloaded"] == 1, outcome


def test_cache_errors_are_one_line_naming_the_host(lab: RunningLab, front: Front) -> None:
    path = lab.inventory_path
    password_file = lab.root("node2") / "etc/gluu-cluster/cache/password"
    password_file.write_text("not-the-password")
    code, data = status_json(path)
    assert code == 1
    assert [(p["code"], p["node"]) for p in data["problems"]] == [
        ("CACHE-WRONG-PASSWORD", "node2")]
    assert "Redis on cache (127.0.19.15:16379)" in data["problems"][0]["detail"]
    pretty = run_cli(["status", "-i", str(path)])
    assert pretty.stdout.count("CACHE-WRONG-PASSWORD") == 1
    assert run_cli(["apply", "-i", str(path), "--yes"]).returncode == 0
    assert status_json(path)[0] == 0

    pid = read_pid(lab.root("cache") / "run/gluu-cluster-redis/redis.pid")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: not alive(pid), "Redis to end", timeout=30)
    code, data = status_json(path)
    assert code == 1
    assert [(p["code"], p["node"]) for p in data["problems"]] == [("CACHE-DOWN", "cache")]
    assert front.direct("node1", "/oxauth/session/new")[0] == 503
    assert run_cli(["apply", "-i", str(path), "--yes"]).returncode == 0
    assert status_json(path)[0] == 0
    assert front.direct("node1", "/oxauth/session/new")[0] == 200


def test_the_balancer_and_the_cache_come_back_after_their_hosts_reboot(
        lab: RunningLab, front: Front) -> None:
    """No apply: nginx and Redis are services the hosts' boot starts (the rc scripts of the
    lab's containers, as the Gluu container's start runs Gluu's own)."""
    sid = front.until_on("node2", "/oxauth/session/new")["session"]
    for host in ("front", "cache"):
        done = run_cli(["lab", "reboot", host, "--hard", "--lab-dir", str(lab.dir)])
        assert done.returncode == 0, done.stderr
    eventually(lambda: status_json(lab.inventory_path)[0] == 0, "status exit 0", timeout=60)
    code, data = status_json(lab.inventory_path)
    assert {s["role"]: s["state"] for s in data["services"]} == {"load balancer": "up",
                                                                 "cache": "up"}
    # The cache keeps nothing across a restart (no persistence): the session is gone,
    # and a new one works through the rebooted balancer.
    assert front.direct("node1", f"/oxauth/session/{sid}")[0] == 404
    made = front.until_on("node1", "/oxauth/session/new")
    assert front.direct("node2", f"/oxauth/session/{made['session']}")[0] == 200


def test_no_secret_in_process_lists_logs_or_world_readable_files(lab: RunningLab) -> None:
    inventory = load_inventory(lab.inventory_path)
    assert inventory.cache.password is not None
    password = inventory.cache.password.resolve(inventory.base_dir).reveal()
    seen = (lab.dir / "apply-command-lines.txt").read_text()
    assert seen and password not in seen
    for host in ("node1", "node2", "node3", "front", "cache"):
        root = lab.root(host)
        for item in root.rglob("*"):
            if item.is_file() and not item.is_symlink() and item.stat().st_mode & 0o004:
                try:
                    assert password not in item.read_text(errors="replace"), item
                except OSError:
                    continue
    assert (lab.root("cache") / "etc/gluu-cluster/redis/redis.conf").stat().st_mode & 0o777 == 0o600
    assert (lab.root("node1") / "etc/gluu-cluster/cache/password").stat().st_mode & 0o777 == 0o600
    assert (lab.root("front") / "etc/gluu-cluster/nginx/httpd.key").stat().st_mode & 0o777 == 0o600


async def _status(lab: RunningLab):  # type: ignore[no-untyped-def]
    async with ClusterConnection(lab.inventory) as cluster:
        return await gather_status(cluster)
