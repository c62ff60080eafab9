"""Faults under load on a lab cluster: does it heal itself, and is anything lost?

For ``--minutes`` (default 10), while LDAP writes flow to every node and files are edited
on every node, faults drawn from a seeded list are injected one at a time: SIGKILL of the
LDAP server (its init script starts it again once the process is seen gone: the stand-in
for systemd's restart-on-failure, as the lab has no systemd), SIGSTOP/SIGCONT of
gluu-csync2d or sshd, a partition of one node from its peers (both directions), a node
reboot (``Lab.halt`` + ``Lab.boot``: its init scripts), a full disk on one node's csync2
backup directory. During each fault one ``status`` is read and must name the faulted
node; after each, ``status`` is polled until it exits 0 (time to converge). At the end:
every acknowledged LDAP write must be on every node and every file's last edit on every
node (its earlier versions were overwritten by the same node, on purpose). Loopback only;
bounded in time and count; stops by itself.

    .venv/bin/python bench/chaos.py [--engine openldap|opendj] [--minutes 10] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from labtools import cli, lab

from gluu_cluster.lab.layout import CONTAINER_ROOT, LabLayout, LabNode
from gluu_cluster.lab.manager import Lab
from gluu_cluster.lab.proc import alive, in_namespace, read_pid
from gluu_cluster.lab.servers import LabServer, OpenDJServer, OpenLDAPServer
from gluu_cluster.lab.state import LabState

KINDS = ("ldap-kill", "sync-stop", "sshd-stop", "partition", "reboot", "disk-full")
CONF = "opt/idp/conf/chaos"
BACKUPS = f"{CONTAINER_ROOT}/var/backups/csync2"
CONVERGE_S = 240.0  # the bound stated for `status` exit 0 after a fault is healed
SETTLE_S = 60.0  # after that, until every write and edit is on every node
OPENDJ_LDAP_PORT = 1389


def status_cli(inventory: str) -> subprocess.CompletedProcess[str]:
    """`status` as a process: its exit code is the verdict (labtools.cli raises on 1)."""
    return subprocess.run([sys.executable, "-m", "gluu_cluster.cli.main", "status", "-i",
                           inventory, "--format", "json"],
                          capture_output=True, text=True, timeout=300, check=False)


@dataclass
class Cluster:
    layout: LabLayout
    engine: str
    nodes: dict[str, LabNode]
    password_file: Path
    down: set[str] = field(default_factory=set)  # nodes halted now (no edits on a dead disk)

    @property
    def inventory(self) -> str:
        return str(self.layout.dir / "cluster.yaml")

    def root(self, node: str) -> Path:
        return self.nodes[node].root

    def in_ns(self, node: str, argv: list[str]) -> list[str]:
        return in_namespace(self.layout.ns_file(node), argv)

    def in_container(self, node: str, argv: list[str]) -> list[str]:
        return self.in_ns(node, ["chroot", CONTAINER_ROOT, *argv])

    def ldap(self, node: str, tool: str, *args: str, stdin: str | None = None,
             timeout: float = 15) -> subprocess.CompletedProcess[str]:
        if self.engine == "opendj":
            argv = [tool, "-x", "-H", f"ldap://{self.nodes[node].address}:{OPENDJ_LDAP_PORT}",
                    "-D", "cn=directory manager", "-y", str(self.password_file), *args]
        else:
            argv = self.in_container(node, [tool, "-Q", "-Y", "EXTERNAL", "-H",
                                            "ldapi://%2Frun%2Fslapd%2Fldapi", *args])
        try:
            return subprocess.run(argv, input=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", "timed out")

    def uids(self, node: str) -> set[str]:
        found = self.ldap(node, "ldapsearch", "-LLL", "-E", "pr=500/noprompt", "-b",
                          "ou=people,o=gluu", "(uid=chaos-*)", "uid", timeout=120)
        if found.returncode != 0:
            raise RuntimeError(f"{node}: ldapsearch failed: {found.stderr.strip()}")
        return {line.split(": ", 1)[1] for line in found.stdout.splitlines()
                if line.startswith("uid: ")}

    def status(self) -> tuple[int, dict[str, object]]:
        done = status_cli(self.inventory)
        try:
            return done.returncode, json.loads(done.stdout)
        except json.JSONDecodeError:
            return done.returncode, {}


class Load:
    """One LDAP writer and one file editor per node, until stopped; paused while the
    cluster's convergence after a fault is measured (under a steady write load a cluster
    is never "converged": there is always a write on its way)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.busy = 0
        self.acked: dict[str, str] = {}  # uid -> node that acknowledged it
        self.attempted = 0
        self.edits = 0
        self.last: dict[Path, bytes] = {}  # relative path -> its last content
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=f, args=(n,), daemon=True)
                        for n in cluster.nodes for f in (self._writer, self._editor)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def pause(self) -> None:
        """No new operation starts; returns once none is under way."""
        self.running.clear()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self.lock:
                if self.busy == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the load did not pause within 60 s")

    def resume(self) -> None:
        self.running.set()

    def _turn(self) -> bool:
        """Wait while paused; True when an operation may start (and is counted busy)."""
        while not self.stop.is_set():
            self.running.wait()
            with self.lock:
                if self.running.is_set():
                    self.busy += 1
                    return True
        return False

    def _done(self) -> None:
        with self.lock:
            self.busy -= 1

    def _writer(self, node: str) -> None:
        n = 0
        while self._turn():
            if node in self.cluster.down:  # a halted node runs nothing, ldapadd included
                self._done()
                self.stop.wait(0.2)
                continue
            uid = f"chaos-{node}-{n}"
            n += 1
            ldif = (f"dn: uid={uid},ou=people,o=gluu\nobjectClass: inetOrgPerson\nuid: {uid}\n"
                    f"cn: {uid}\nsn: chaos\n")
            done = self.cluster.ldap(node, "ldapadd", stdin=ldif)
            with self.lock:
                self.attempted += 1
                if done.returncode == 0:
                    self.acked[uid] = node
            self._done()
            self.stop.wait(0.2)

    def _editor(self, node: str) -> None:
        n = 0
        rng = random.Random(node)
        while self._turn():
            if node not in self.cluster.down:
                rel = Path(CONF) / f"{node}-{rng.randrange(5)}.txt"
                path = self.cluster.root(node) / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                data = f"{node} edit {n} at {time.time():.3f}\n".encode()
                path.write_bytes(data)
                n += 1
                with self.lock:
                    self.last[rel] = data
                    self.edits += 1
            self._done()
            self.stop.wait(1.0)


@dataclass(frozen=True)
class Fault:
    kind: str
    node: str
    seconds: float


class Injector:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.lab = Lab(cluster.layout.dir)
        self.server: type[LabServer] = OpenDJServer if cluster.engine == "opendj" else OpenLDAPServer

    def _ldap_pid(self, node: str) -> int | None:
        return read_pid(self.cluster.root(node) / self.server.pid_file.lstrip("/"))

    def begin(self, fault: Fault) -> None:
        c, node = self.cluster, fault.node
        if fault.kind == "ldap-kill":
            pid = self._ldap_pid(node)
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 30
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
        elif fault.kind == "sync-stop":
            os.killpg(self._sync_pid(node), signal.SIGSTOP)
        elif fault.kind == "sshd-stop":
            pid = read_pid(c.nodes[node].sshd_pid_file)
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
        elif fault.kind == "partition":
            for rule in self._partition_rules(node):
                subprocess.run(["iptables", "-I", *rule], check=True)
        elif fault.kind == "reboot":
            c.down.add(node)
            self.lab.halt(node, hard=True)
        elif fault.kind == "disk-full":
            subprocess.run(c.in_ns(node, ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs",
                                          BACKUPS]), check=True)
            subprocess.run(c.in_ns(node, ["sh", "-c", f"cat /dev/zero > {BACKUPS}/fill"]),
                           check=False, capture_output=True)

    def end(self, fault: Fault) -> None:
        c, node = self.cluster, fault.node
        if fault.kind == "ldap-kill":  # the init system's restart of a failed service
            subprocess.run(c.in_container(node, [self.server.init_script, "start"]), check=False,
                           capture_output=True, timeout=300)
        elif fault.kind == "sync-stop":
            os.killpg(self._sync_pid(node), signal.SIGCONT)
        elif fault.kind == "sshd-stop":
            pid = read_pid(c.nodes[node].sshd_pid_file)
            assert pid is not None
            os.kill(pid, signal.SIGCONT)
        elif fault.kind == "partition":
            for rule in self._partition_rules(node):
                subprocess.run(["iptables", "-D", *rule], check=False)
        elif fault.kind == "reboot":
            self.lab.boot(node)
            c.down.discard(node)
        elif fault.kind == "disk-full":
            subprocess.run(c.in_ns(node, ["umount", "-l", BACKUPS]), check=False)

    def _sync_pid(self, node: str) -> int:
        pid = read_pid(self.cluster.root(node) / "var/lib/csync2/gluu/gluu-csync2d.pid")
        assert pid is not None, f"{node}: gluu-csync2d has no pid file"
        return pid

    def _partition_rules(self, node: str) -> list[list[str]]:
        me = self.cluster.nodes[node].address
        rules = []
        for peer in self.cluster.nodes.values():
            if peer.name != node:
                rules += [["INPUT", "-s", me, "-d", peer.address, "-j", "DROP"],
                          ["INPUT", "-s", peer.address, "-d", me, "-j", "DROP"]]
        return rules


def names_node(status: dict[str, object], node: str) -> bool:
    problems = status.get("problems") or []
    assert isinstance(problems, list)
    return any(p.get("node") == node or node in str(p.get("detail", "")) for p in problems)


def converge(cluster: Cluster, bound: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < bound:
        code, _ = cluster.status()
        if code == 0:
            return time.monotonic() - started
        time.sleep(1)
    return None


def missing(cluster: Cluster, load: Load) -> tuple[dict[str, list[str]], list[str]]:
    """Acknowledged writes a node lacks, and last edits a node does not hold."""
    lost_writes = {}
    for node in cluster.nodes:
        lacking = set(load.acked) - cluster.uids(node)
        if lacking:
            lost_writes[node] = sorted(lacking)
    lost_edits = []
    for rel, data in sorted(load.last.items()):
        for node in cluster.nodes:
            path = cluster.root(node) / rel
            if not path.exists() or path.read_bytes() != data:
                lost_edits.append(f"{rel} on {node}")
    return lost_writes, lost_edits


def run(args: argparse.Namespace, lab_dir: Path) -> int:
    rng = random.Random(args.seed)
    cli("apply", "-i", str(lab_dir / "cluster.yaml"), "--yes")
    password = (lab_dir / "secrets" / "ldap-admin-password").read_text().strip()
    password_file = lab_dir / "secrets" / "dm-password-no-newline"
    password_file.write_text(password)
    password_file.chmod(0o600)
    layout = LabLayout(lab_dir)
    state = LabState.load(layout.state_file)
    assert state is not None
    nodes = {node.name: node for node in state.lab_nodes(layout)}
    cluster = Cluster(layout, args.engine, nodes, password_file)
    load = Load(cluster)
    injector = Injector(cluster)
    faults: list[Fault] = []
    converge_times: list[float] = []
    unconverged: list[Fault] = []
    named: Counter[str] = Counter()
    load.start()
    ends = time.monotonic() + args.minutes * 60
    while time.monotonic() < ends and len(faults) < args.max_faults:
        fault = Fault(rng.choice(KINDS), rng.choice(sorted(nodes)), rng.uniform(5, 30))
        faults.append(fault)
        load.pause()  # nothing of the load is half-way into the node as the fault lands
        try:
            injector.begin(fault)
        finally:
            load.resume()
        began = time.monotonic()
        try:
            _code, during = cluster.status()
            if names_node(during, fault.node):
                named[fault.kind] += 1
            time.sleep(max(0.0, fault.seconds - (time.monotonic() - began)))
        finally:
            load.pause()
            injector.end(fault)
        took = converge(cluster, CONVERGE_S)
        load.resume()
        print(f"  {fault.kind:<9} {fault.node} {fault.seconds:4.1f} s: "
              + (f"converged {took:.1f} s after" if took is not None else "NOT converged"),
              flush=True)
        if took is None:
            unconverged.append(fault)
        else:
            converge_times.append(took)
    load.finish()
    final = converge(cluster, CONVERGE_S)
    # `status` compares what csync2 has recorded: an edit made in the load's last second
    # can still be in its node's debounce window when status first says converged. So
    # the check for loss waits (bounded) until every node holds every write and edit;
    # what is still missing at the deadline is lost.
    started = time.monotonic()
    while True:
        lost_writes, lost_edits = missing(cluster, load)
        if not (lost_writes or lost_edits) or time.monotonic() - started > SETTLE_S:
            break
        time.sleep(0.5)
    settled = time.monotonic() - started
    lost = sum(len(v) for v in lost_writes.values()) + len(lost_edits)
    by_kind = Counter(f.kind for f in faults)
    print(f"engine: {args.engine}, seed: {args.seed}, {args.minutes:g} min, {args.nodes} nodes")
    print("faults injected: " + ", ".join(f"{k} {by_kind[k]}" for k in KINDS)
          + f" (total {len(faults)})")
    print("status named the faulted node: " + ", ".join(
        f"{k} {named[k]}/{by_kind[k]}" for k in KINDS if by_kind[k]))
    print(f"LDAP writes acknowledged: {len(load.acked)} of {load.attempted} attempted")
    print(f"file edits: {load.edits} ({len(load.last)} files)")
    if converge_times:
        print("time to converge after a fault is healed (load paused): "
              f"p50 {statistics.median(converge_times):.1f} s, "
              f"max {max(converge_times):.1f} s (bound {CONVERGE_S:g} s)")
    print("after the last fault and the load: "
          + (f"converged in {final:.1f} s" if final is not None else "NOT converged"))
    if not lost:
        print(f"every write and edit on every node {settled:.1f} s after that")
    print(f"lost: {lost}" + (f" (still missing {SETTLE_S:g} s after)" if lost else ""))
    for node, uids in lost_writes.items():
        print(f"  {node} lacks {len(uids)} acknowledged write(s), e.g. {uids[:3]}")
    for what in lost_edits[:10]:
        print(f"  last edit missing: {what}")
    if unconverged:
        print("not converged within the bound after: "
              + ", ".join(f"{f.kind} {f.node}" for f in unconverged))
    return 0 if lost == 0 and final is not None and not unconverged else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["openldap", "opendj"], default="openldap")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--max-faults", type=int, default=100)
    parser.add_argument("--base-address", default="127.0.50.11")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    with lab(args.nodes, 50, args.base_address, args.engine) as lab_dir:
        code = run(args, lab_dir)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
