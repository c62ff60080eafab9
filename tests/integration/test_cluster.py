"""One command to a converged cluster: check, apply (killed and resumed), status, serve.

A 4-node lab; the inventory starts with three nodes, the fourth is added and removed;
every test that needs a converged cluster asks for one (``converged``), so no test
depends on another having run. The killed applies and the fresh-lab check have labs of
their own.
"""

from __future__ import annotations

import fcntl
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.inventory import load_inventory
from gluu_cluster.journal import journal_path
from gluu_cluster.pki.javastore import read_store
from tests.helpers import run_cli

from .conftest import RunningLab, running_lab
from .ldap_helpers import directory, eventually, has, person, run

BASE = "127.0.14.11"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, BASE, nodes=4, entries=300) as running:
        yield running


def inventory_with(lab: RunningLab, names: list[str], name: str, **ssh: object) -> Path:
    data = yaml.safe_load(lab.inventory_path.read_text())
    data["nodes"] = [n for n in data["nodes"] if n["name"] in names]
    data.setdefault("ssh", {}).update(ssh)
    # Beside the lab's inventory: relative paths (keys, pki, the journal) stay valid.
    path = lab.inventory_path.with_name(name)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def three(lab: RunningLab) -> Path:
    return inventory_with(lab, ["node1", "node2", "node3"], "three.yaml")


@pytest.fixture
def converged(three: Path) -> Path:
    """The three-node inventory, applied (nothing to do when it already is)."""
    applied = run_cli(["apply", "-i", str(three), "--yes"])
    assert applied.returncode == 0, applied.stderr + applied.stdout
    return three


def cli_json(args: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli([*args, "--format", "json"])
    try:
        return result.returncode, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(result.stdout + result.stderr) from None


def codes(problems: list[dict]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(p["code"], p["node"]) for p in problems}


def test_check_passes_on_a_fresh_lab_with_every_port_verified(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_lab(tmp_path_factory, "127.0.15.11", nodes=2, entries=0) as fresh:
        code, report = cli_json(["check", "-i", str(fresh.inventory_path)])
        # Nothing listened on 30865 before apply: check's own listeners were there and are gone.
        probe = subprocess.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.15.12/30865"],
                               capture_output=True, check=False)
    assert code == 0, report
    by = {(c["node"], c["requirement"]): c for c in report["checks"]}
    for node in ("node1", "node2"):
        for requirement in ("CPUs", "RAM", "root partition", "software", "names", "clock",
                            "container root", "setup properties", "Gluu version", "ports"):
            assert by[(node, requirement)]["state"] == "pass", by[(node, requirement)]
        assert "1636, 30865" in by[(node, "ports")]["detail"]
    assert probe.returncode != 0


def _journal_events(path: Path) -> list[dict]:  # type: ignore[type-arg]
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def apply_killed_at(inventory: Path, event: str, step: str,
                    then: Callable[[str], bool] | None = None) -> list[str]:
    """Start apply, SIGKILL it when the journal shows ``event`` for ``step`` and, when
    given, ``then(node)`` has been seen true for that change's node (polled until that
    change is done: seeing it done first fails the test); return the steps done."""
    journal = journal_path(load_inventory(inventory))
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "gluu_cluster.cli.main", "apply", "-i",
                             str(inventory), "--yes"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            events = [e for e in _journal_events(journal) if e.get("at", 0) >= started]
            hit = next((e for e in events if e["event"] == event and e.get("step") == step), None)
            if hit is not None:
                if then is not None:
                    _wait_for(then, hit["node"], step, journal, started)
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                return [e["step"] for e in events if e["event"] == "change-done"]
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"apply ended ({proc.returncode}) before {event} {step}: "
                                     f"{err[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no {event} {step} within 600 s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def _wait_for(seen: Callable[[str], bool], node: str, step: str, journal: Path,
              started: float) -> None:
    deadline = time.monotonic() + 120
    while not seen(node):
        done = [e for e in _journal_events(journal) if e.get("at", 0) >= started
                and e["event"] == "change-done" and e.get("step") == step and e.get("node") == node]
        assert not done, f"{step} on {node} was done before the event to kill at was seen"
        assert time.monotonic() < deadline, f"the event to kill at was not seen on {node}"
        time.sleep(0.002)


def syncrepl_values(lab: RunningLab, node: str) -> list[str]:
    out = subprocess.run(
        ["nsenter", f"--mount={lab.dir / 'ns' / node}", "chroot", "/opt/gluu-server-lab",
         "slapcat", "-F", "/etc/openldap/slapd.d", "-n", "0", "-o", "ldif-wrap=no"],
        capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("olcSyncrepl:")]


def truststore_aliases(lab: RunningLab, node: str) -> list[str]:
    password = (lab.dir / "secrets" / "truststore-password").read_text().strip()
    data = (lab.root(node) / "etc/ssl/certs/java/cacerts").read_bytes()
    return [e.alias for e in read_store(data, password)]


@pytest.fixture
def killable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLab, Path]]:
    """A fresh three-node lab of its own: the kills need changes to cut."""
    with running_lab(tmp_path_factory, "127.0.13.11", nodes=3, entries=300) as fresh:
        yield fresh, fresh.inventory_path


def slapd_stopped(lab: RunningLab) -> Callable[[str], bool]:
    """The import's cut: the node's slapd stopped (its pid file gone), its data not yet in."""
    return lambda node: not (lab.root(node) / "run/slapd/slapd.pid").exists()


def test_apply_killed_four_times_is_completed_by_the_next_run(
        killable: tuple[RunningLab, Path]) -> None:
    lab, three = killable
    done = apply_killed_at(three, "change-done", "certs-gluu")
    assert "certs-gluu" in done and "ldap-consumers" not in done
    # Killed inside an LDAP import, slapd stopped: the journal makes the next run redo it.
    apply_killed_at(three, "change-start", "ldap-init", then=slapd_stopped(lab))
    plan = run_cli(["plan", "-i", str(three)])
    cut = re.search(r"did not finish \(ldap-init on (node\d) cut off\)", plan.stdout)
    assert cut, plan.stdout + plan.stderr
    # The cut left that node's slapd stopped: plan (which changes nothing) cannot read it
    # and names it, after the note that apply starts it and redoes the import.
    assert plan.returncode == 1 and f"error: {cut.group(1)}:" in plan.stderr, plan.stderr
    apply_killed_at(three, "change-start", "ldap-consumers")
    apply_killed_at(three, "change-start", "csync2-first-sync")

    final = run_cli(["apply", "-i", str(three), "--yes"])
    assert final.returncode == 0, final.stderr + final.stdout
    assert "converged" in final.stdout
    code, status = cli_json(["status", "-i", str(three)])
    assert code == 0, status["problems"]
    rows = {r["node"]: r for r in status["nodes"]}
    assert {r["replication"] for r in rows.values()} == {"in sync"}
    assert {r["file_sync"] for r in rows.values()} == {"in sync"}
    assert len({r["entries"] for r in rows.values()}) == 1 and rows["node1"]["entries"] >= 300
    # The replica whose import was cut holds every entry, each identical to node1's.
    verified = run_cli(["ldap", "verify", "-i", str(three)])
    assert verified.returncode == 0 and "all identical" in verified.stdout, verified.stdout
    for node in ("node1", "node2", "node3"):
        values = syncrepl_values(lab, node)
        assert len(values) == 2, values  # one per peer, none twice
        aliases = truststore_aliases(lab, node)
        assert len(aliases) == len(set(aliases))
        wanted = {f"{node}_{stem}" for stem in ("httpd", "asimba", "shibidp", "asimbaidp",
                                                 "gluu-cluster-ca")}
        assert wanted <= set(aliases), aliases
    again = run_cli(["apply", "-i", str(three), "--yes"])
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr


@contextmanager
def dropped(address: str) -> Iterator[None]:
    rule = ["INPUT", "-d", address, "-j", "DROP"]
    subprocess.run(["iptables", "-I", *rule], check=True)
    try:
        yield
    finally:
        subprocess.run(["iptables", "-D", *rule], check=False)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except urllib.error.URLError as exc:  # not listening yet
        return 0, str(exc)


@contextmanager
def serving(inventory: Path, listen: str) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "gluu_cluster.cli.main", "serve", "-i",
                             str(inventory), "--listen", listen, "--interval", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield f"http://{listen}"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_a_node_down_is_a_problem_in_status_and_health(lab: RunningLab, converged: Path) -> None:
    three = converged
    quick = inventory_with(lab, ["node1", "node2", "node3"], "three-quick.yaml", connect_timeout=3)
    with serving(quick, "127.0.14.200:8990") as url:
        eventually_ok = time.monotonic() + 60
        while time.monotonic() < eventually_ok and get(f"{url}/health")[0] != 200:
            time.sleep(0.5)
        assert get(f"{url}/health")[0] == 200
        with dropped("127.0.14.13"):
            code, status = cli_json(["status", "-i", str(quick)])
            assert code == 1
            assert ("NODE-UNREACHABLE", "node3") in codes(status["problems"])
            rows = {r["node"]: r for r in status["nodes"]}
            assert not rows["node3"]["reachable"]
            assert rows["node1"]["entries"] and rows["node2"]["server_id"] == 2

            def node3_seen_down() -> bool:
                code, body = get(f"{url}/health")
                nodes = json.loads(body).get("nodes", []) if code else []
                return code == 503 and len(nodes) == 3 and not nodes[2]["reachable"]

            deadline = time.monotonic() + 180  # a read begun before the drop may hang
            while time.monotonic() < deadline and not node3_seen_down():
                time.sleep(0.5)
            health_code, body = get(f"{url}/health")
            assert health_code == 503 and not json.loads(body)["healthy"]
            node1 = get(f"{url}/nodes/node1/health")
            assert node1[0] == 200, node1[1]
            assert get(f"{url}/nodes/node3/health")[0] == 503
            metrics = get(f"{url}/metrics")[1]
            assert 'gluu_cluster_node_up{node="node3"} 0' in metrics
            assert 'gluu_cluster_node_up{node="node1"} 1' in metrics
            assert 'gluu_cluster_ldap_entries{node="node1"}' in metrics
            assert "gluu_cluster_certificate_expiry_days{" in metrics
        assert get(f"{url}/nodes/nodeX/health")[0] == 404
    deadline = time.monotonic() + 120
    while True:
        code, status = cli_json(["status", "-i", str(three)])
        if code == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert code == 0, status["problems"]


@contextmanager
def clock_ahead(lab: RunningLab, node: str, seconds: int) -> Iterator[None]:
    """The node's `date` (what check reads over SSH) runs `seconds` ahead, in its own mount
    namespace only: the lab's nodes share one kernel clock."""
    real = lab.dir / "date.real"
    if not real.exists():
        real.write_bytes(Path("/usr/bin/date").read_bytes())
        real.chmod(0o755)
    fake = lab.dir / f"date.{node}"
    fake.write_text(f'#!/bin/sh\nexec {real} -d "@$(( $({real} +%s) + {seconds} ))" "$@"\n')
    fake.chmod(0o755)
    ns = f"--mount={lab.dir / 'ns' / node}"
    subprocess.run(["nsenter", ns, "mount", "--bind", str(fake), "/usr/bin/date"], check=True)
    try:
        yield
    finally:
        subprocess.run(["nsenter", ns, "umount", "/usr/bin/date"], check=True)


@contextmanager
def property_changed(lab: RunningLab, node: str, key: str, value: str) -> Iterator[None]:
    path = lab.root(node) / "install/community-edition-setup/setup.properties.last"
    before = path.read_bytes()
    lines = [f"{key}={value}" if line.startswith(f"{key}=") else line
             for line in before.decode().splitlines()]
    path.write_text("\n".join(lines) + "\n")
    try:
        yield
    finally:
        path.write_bytes(before)


def test_check_finds_clock_skew_and_differing_setup_properties(lab: RunningLab, three: Path) -> None:
    with clock_ahead(lab, "node2", 5), property_changed(lab, "node3", "asimbaJksPass", "other"):
        code, report = cli_json(["check", "-i", str(three)])
        assert code == 1
        found = codes(report["problems"])
        assert ("PRE-CLOCK-SKEW", "node2") in found and ("PRE-CLOCK-SKEW", "node3") not in found
        assert ("PRE-PROPERTIES-DIFFER", "node3") in found
        detail = next(p["detail"] for p in report["problems"] if p["code"] == "PRE-PROPERTIES-DIFFER")
        assert "asimbaJksPass" in detail and "other" not in detail  # never the value
        applied = run_cli(["apply", "-i", str(three), "--yes"])
        assert applied.returncode == 1 and "PRE-CLOCK-SKEW" in applied.stderr
        assert "applied" not in applied.stdout  # stopped before any step
        ignored = run_cli(["check", "-i", str(three), "--ignore-check", "PRE-CLOCK-SKEW",
                           "--ignore-check", "PRE-PROPERTIES-DIFFER"])
        assert ignored.returncode == 0, ignored.stdout
    assert run_cli(["check", "-i", str(three)]).returncode == 0


def test_a_fourth_node_is_added_then_removed(lab: RunningLab, converged: Path) -> None:
    three = converged
    four = inventory_with(lab, ["node1", "node2", "node3", "node4"], "four.yaml")
    # The journal and node list live beside the inventory per cluster: share three's.
    applied = run_cli(["apply", "-i", str(four), "--yes"])
    assert applied.returncode == 0, applied.stderr + applied.stdout
    code, status = cli_json(["status", "-i", str(four)])
    assert code == 0 and len(status["nodes"]) == 4, status["problems"]
    assert len(syncrepl_values(lab, "node4")) == 3

    async def write_and_read(cluster: ClusterConnection) -> None:
        await directory(cluster, "node4").modify(person("from-node4"), add=True)
        await eventually(lambda: has(cluster, "node1", "uid=from-node4,ou=people,o=gluu"), 20,
                         "node4's entry on node1")

    run(load_inventory(four), write_and_read)
    plan = run_cli(["plan", "-i", str(three)])
    assert "node4 is no longer in the inventory" in plan.stdout, plan.stdout
    removed = run_cli(["apply", "-i", str(three), "--yes"])
    assert removed.returncode == 0, removed.stderr + removed.stdout
    for node in ("node1", "node2", "node3"):
        assert len(syncrepl_values(lab, node)) == 2
    code, status = cli_json(["status", "-i", str(three)])
    assert code == 0 and len(status["nodes"]) == 3


def test_exit_codes(lab: RunningLab, three: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster: x\nnodes: []\n")
    for command in (["status"], ["check"], ["apply", "--yes"], ["serve"]):
        result = run_cli([*command, "-i", str(bad)])
        assert result.returncode == 2 and result.stderr.startswith("error: "), (command, result.stderr)
    assert run_cli(["status", "-i", str(three), "--format", "xml"]).returncode == 2
    with socket.socket() as held:
        held.bind(("127.0.14.201", 0))
        held.listen()
        taken = f"127.0.14.201:{held.getsockname()[1]}"
        busy = run_cli(["serve", "-i", str(three), "--listen", taken])
    assert busy.returncode == 2 and "cannot listen" in busy.stderr
    assert run_cli(["serve", "-i", str(three), "--listen", "nowhere"]).returncode == 2
    # --watch prints one JSON document per read; SIGINT ends it with the last verdict.
    proc = subprocess.Popen([sys.executable, "-m", "gluu_cluster.cli.main", "status", "-i",
                             str(three), "--format", "json", "--watch", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first, second = json.loads(proc.stdout.readline()), json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0 and first["healthy"] and second["taken_at"] > first["taken_at"]
    # One apply at a time per cluster.
    with open(journal_path(load_inventory(three)).with_suffix(".lock"), "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        blocked = run_cli(["apply", "-i", str(three)])
    assert blocked.returncode == 1 and "another apply is running" in blocked.stderr
