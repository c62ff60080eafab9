"""lab up / status / down: create fake Gluu hosts, report them, remove every trace."""

from __future__ import annotations

import errno
import os
import secrets as pysecrets
import shutil
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError
from ..ldap.opendj.dist import ensure_zip
from ..secrets import write_secret_file
from .container import (
    BOOT_RUNLEVEL,
    BOOT_SCRIPT,
    MOUNT_SCRIPT,
    build_root,
    clear_run,
    host_mountpoints,
    mount_args,
)
from .gluu_files import (
    InstallSecrets,
    write_certificates,
    write_install_files,
    write_sample_files,
)
from .inventory_file import write_inventory
from .keys import ssh_keypair
from .layout import CONTAINER_ROOT, FRONT_HOSTS, MAX_NODES, LabLayout, LabNode, node_addresses
from .proc import (
    alive,
    in_namespace,
    is_mounted,
    mounts_under,
    pids_in_mount_ns,
    read_pid,
    run,
    stop_pid,
)
from .servers import LabServer, OpenDJServer, OpenLDAPServer
from .sshd import sshd_command, write_sshd_files
from .state import LabState
from .webapp import CACHE_PORT, FRONT_PORT, write_webapp
from .webapp import PORT as WEBAPP_PORT

READY_TIMEOUT = 120.0  # an OpenDJ JVM starting on a busy machine


def server_for(engine: str) -> LabServer:
    if engine == "opendj":  # the zip is fetched (and checked) once, into the cache
        return OpenDJServer(ensure_zip())
    return OpenLDAPServer()
SSH_PORT, FALLBACK_SSH_PORT = 22, 2222


@dataclass(frozen=True)
class NodeStatus:
    name: str
    address: str
    sshd_pid: int | None
    sshd_up: bool
    ldap_pid: int | None  # the node's LDAP server (slapd or OpenDJ)
    ldap_up: bool
    processes: int


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError(
            "the lab needs root (it creates mount namespaces and binds ports on loopback "
            "addresses): run it as root"
        )


def _port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like sshd and slapd do: old TIME_WAIT connections must not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _choose_ssh_port(nodes: list[LabNode], wanted: int | None) -> int:
    """Port 22 as on real nodes; when a system sshd holds *:22, 2222 unless told otherwise."""
    candidates = [wanted] if wanted is not None else [SSH_PORT, FALLBACK_SSH_PORT]
    for port in candidates:
        if all(_port_free(n.address, port) for n in nodes):
            return port
    taken = candidates[-1]
    raise LabError(
        f"port {taken} is already in use on the lab addresses ({nodes[0].address} ...): "
        "is another lab running? pass --base-address or --ssh-port to move the lab"
    )


def _check_ports(nodes: list[LabNode], ports: tuple[int, ...]) -> None:
    for node in nodes:
        for port in ports:
            if not _port_free(node.address, port):
                raise LabError(
                    f"{node.name}: {node.address}:{port} is already in use (another lab, or a "
                    "service listening on all addresses?); stop it or pass --base-address "
                    "to move the lab"
                )


class Lab:
    def __init__(self, lab_dir: Path) -> None:
        self.layout = LabLayout(lab_dir.resolve())

    # --- up ---------------------------------------------------------------------------

    def up(
        self, nodes: int, entries: int, base_address: str, inventory: Path,
        ssh_port: int | None = None, engine: str = "openldap", front: bool = False,
    ) -> str:
        require_root()
        if not 1 <= nodes <= MAX_NODES:
            raise LabError(f"--nodes must be between 1 and {MAX_NODES}")
        if entries < 0:
            raise LabError("--entries must be 0 or more")
        existing = LabState.load(self.layout.state_file)
        if existing is not None:
            if existing.complete and all(s.sshd_up and s.ldap_up for s in self.status()):
                return (
                    f"the lab in {self.layout.dir} is already running with "
                    f"{len(existing.nodes)} nodes; nothing changed (inventory: {existing.inventory})"
                )
            raise LabError(
                f"a lab in {self.layout.dir} exists but is not running completely; "
                f"run 'gluu-cluster lab down --lab-dir {self.layout.dir}' first"
            )
        try:
            addresses = node_addresses(base_address, nodes + (len(FRONT_HOSTS) if front else 0))
            addresses = addresses[:nodes]
        except ValueError as exc:
            raise LabError(str(exc)) from exc
        lab_nodes = [self.layout.node(i, base_address) for i in range(nodes)]
        front_hosts = self.layout.front(nodes, base_address) if front else []
        port = _choose_ssh_port(lab_nodes + front_hosts, ssh_port)
        server = server_for(engine)
        for i, node in enumerate(lab_nodes):
            _check_ports([node], (*server.ports(node, i), WEBAPP_PORT))
        for host, ports in zip(front_hosts, ((FRONT_PORT,), (CACHE_PORT,)), strict=False):
            _check_ports([host], ports)
        inventory = inventory.resolve()
        state = LabState(base_address, entries, str(inventory), port,
                         [n.name for n in lab_nodes], addresses, engine=engine,
                         front=[[h.name, h.address] for h in front_hosts])
        state.save(self.layout.state_file)
        started = time.monotonic()
        try:
            self._create(lab_nodes, entries, inventory, port, server, front_hosts)
        except BaseException:
            self._teardown(state)
            raise
        state.complete = True
        state.save(self.layout.state_file)
        took = time.monotonic() - started
        return (
            f"lab up: {nodes} nodes ({', '.join(f'{n.name} {n.address}' for n in lab_nodes)}), "
            f"{entries} entries on {lab_nodes[0].name}, {engine}, sshd on port {port}, "
            f"in {took:.1f} s; "
            f"inventory: {inventory}"
        )

    def _create(self, nodes: list[LabNode], entries: int, inventory: Path, port: int,
                server: LabServer, front: list[LabNode] | None = None) -> None:
        layout = self.layout
        for point in host_mountpoints():
            point.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        install = InstallSecrets(
            ldap_password=pysecrets.token_urlsafe(18),
            shib_jks_password=pysecrets.token_urlsafe(12),
            asimba_jks_password=pysecrets.token_urlsafe(12),
            org_inum="@!" + pysecrets.token_hex(8).upper(),
            encode_salt=pysecrets.token_hex(12),
        )
        write_secret_file(layout.secret("ldap-admin-password"), install.ldap_password)
        write_secret_file(layout.secret("ldap-replication-password"), pysecrets.token_urlsafe(18))
        # Debian's Java cacerts ships with the well-known default password.
        write_secret_file(layout.secret("truststore-password"), "changeit")
        client = ssh_keypair("gluu-cluster-lab")
        layout.client_key.parent.mkdir(parents=True, exist_ok=True)
        write_secret_file(layout.client_key, client.private_openssh.decode().rstrip("\n"))
        (layout.client_key.parent / "id_ed25519.pub").write_text(client.public_line + "\n")
        self._make_ns_dir()
        work = layout.dir / "work"
        work.mkdir(parents=True, exist_ok=True)
        work.chmod(0o700)

        def prepare(node: LabNode) -> str:
            build_root(node)
            write_sample_files(node)
            write_install_files(node, install)
            write_certificates(node, install, work)
            write_webapp(node, install.ldap_password, server.admin_dn)
            server.prepare(node)
            return host_line(node)

        def host_line(node: LabNode) -> str:
            host_key = write_sshd_files(node, client.public_line, port)
            pattern = node.address if port == 22 else f"[{node.address}]:{port}"
            return f"{pattern} {host_key.public_line.rsplit(' ', 1)[0]}\n"

        with ThreadPoolExecutor(max_workers=min(4, len(nodes))) as pool:
            known = list(pool.map(prepare, nodes))
        front = front or []
        for host in front:  # bare hosts: nginx and Redis come with 'apply'
            build_root(host)
            known.append(host_line(host))
        layout.known_hosts.write_text("".join(known))
        if front:
            write_secret_file(layout.secret("cache-password"), pysecrets.token_urlsafe(24))
        for node in [*nodes, *front]:
            self._make_namespace(node)
        with ThreadPoolExecutor(max_workers=min(4, len(nodes))) as pool:
            list(pool.map(lambda i: server.load(nodes[i], i, install.ldap_password,
                                                entries if i == 0 else 0, self._in_container),
                          range(len(nodes))))
        for node in nodes:
            self._boot(node)
        for node in nodes:
            self._wait_ready(node, port, server)
        for host in front:
            self._boot(host)
            self._wait_ready(host, port, None)
        shutil.rmtree(work, ignore_errors=True)
        write_inventory(inventory, layout, nodes, port, server, front)

    def _make_ns_dir(self) -> None:
        ns_dir = self.layout.ns_dir
        ns_dir.mkdir(parents=True, exist_ok=True)
        if not is_mounted(ns_dir):
            # A namespace can only be bound onto a file of a private mount.
            run(["mount", "--bind", str(ns_dir), str(ns_dir)])
            run(["mount", "--make-private", str(ns_dir)])

    def _make_namespace(self, node: LabNode) -> None:
        ns_file = self.layout.ns_file(node.name)
        ns_file.touch()
        run(["unshare", f"--mount={ns_file}", "--propagation", "private", "true"])
        run(in_namespace(ns_file, ["sh", "-c", MOUNT_SCRIPT, "lab-mount", *mount_args(node)]))

    def _in_container(self, node: LabNode, argv: list[str]) -> list[str]:
        return in_namespace(self.layout.ns_file(node.name), ["chroot", CONTAINER_ROOT, *argv])

    def _boot(self, node: LabNode) -> None:
        """Start the node as its boot would: the container's rc scripts (the LDAP server,
        and whatever else was enabled there, such as gluu-csync2d), then the host's sshd.
        Nothing of the tool's runs here."""
        ns_file = self.layout.ns_file(node.name)
        run(self._in_container(node, ["sh", "-c", BOOT_SCRIPT, "boot", BOOT_RUNLEVEL]), timeout=300)
        run(in_namespace(ns_file, sshd_command(node)), timeout=30)

    # --- reboot -----------------------------------------------------------------------

    def _running(self, name: str) -> tuple[LabState, LabNode]:
        require_root()
        state = LabState.load(self.layout.state_file)
        if state is None or not state.complete:
            raise LabError(f"no running lab in {self.layout.dir}; run 'gluu-cluster lab up'")
        hosts = [*state.lab_nodes(self.layout), *state.front_hosts(self.layout)]
        for node in hosts:
            if node.name == name:
                return state, node
        raise LabError(f"the lab has no node '{name}' (it has {', '.join(h.name for h in hosts)})")

    def halt(self, name: str, hard: bool = True) -> int:
        """End every process of the node (SIGKILL at once when ``hard``: a crash or a
        power cut; else SIGTERM first, as a shutdown). Its files stay, as a disk does."""
        _state, node = self._running(name)
        ns_file = self.layout.ns_file(node.name)
        ended = 0
        for _ in range(20):
            pids = pids_in_mount_ns(ns_file)
            if not pids:
                return ended
            for pid in pids:
                if hard:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                else:
                    stop_pid(pid, grace=5.0)
                ended += 1
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(alive(p) for p in pids):
                time.sleep(0.02)
        raise LabError(f"{name}: processes still running after SIGKILL: "
                       f"{', '.join(map(str, pids_in_mount_ns(ns_file)))}")

    def boot(self, name: str) -> None:
        """Start the node as its boot would (its init scripts, never this tool) and wait
        until its sshd and LDAP server answer."""
        state, node = self._running(name)
        if pids_in_mount_ns(self.layout.ns_file(node.name)):
            raise LabError(f"{name} is running; halt it first ('gluu-cluster lab reboot')")
        clear_run(node)
        self._boot(node)
        is_node = name in state.nodes  # a front host runs no LDAP server
        self._wait_ready(node, state.ssh_port, server_for(state.engine) if is_node else None)

    def reboot(self, name: str, hard: bool = False) -> str:
        started = time.monotonic()
        ended = self.halt(name, hard)
        self.boot(name)
        return (f"{name}: {ended} process(es) ended ({'killed' if hard else 'shut down'}), "
                f"booted from its init scripts in {time.monotonic() - started:.1f} s")

    def _wait_ready(self, node: LabNode, ssh_port: int, server: LabServer | None) -> None:
        """Until the node's LDAP server (none on a front host) and its sshd answer."""
        deadline = time.monotonic() + READY_TIMEOUT
        search = self._in_container(node, server.ready_argv(node)) if server else None
        last = ""
        while time.monotonic() < deadline:
            try:
                if search is not None:
                    run(search, timeout=10)
                with socket.create_connection((node.address, ssh_port), timeout=2) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except (LabError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise LabError(f"{node.name}: {server.engine if server else 'sshd'} or sshd did not "
                       "become ready within "
                       f"{READY_TIMEOUT:g} s: {last}")

    # --- status -----------------------------------------------------------------------

    def status(self) -> list[NodeStatus]:
        state = LabState.load(self.layout.state_file)
        if state is None:
            return []
        out = []
        for node in state.lab_nodes(self.layout):
            sshd = read_pid(node.sshd_pid_file)
            ldap = read_pid(node.root / server_for(state.engine).pid_file.lstrip("/"))
            procs = pids_in_mount_ns(self.layout.ns_file(node.name))
            out.append(NodeStatus(node.name, node.address, sshd, alive(sshd), ldap,
                                  alive(ldap), len(procs)))
        return out

    def state(self) -> LabState | None:
        return LabState.load(self.layout.state_file)

    # --- down -------------------------------------------------------------------------

    def down(self) -> str:
        require_root()
        state = LabState.load(self.layout.state_file)
        if state is None and not self.layout.dir.exists():
            return f"no lab in {self.layout.dir}; nothing to do"
        stopped = self._teardown(state)
        return f"lab down: stopped {stopped} process(es), removed {self.layout.dir}"

    def _teardown(self, state: LabState | None) -> int:
        layout = self.layout
        names = state.nodes if state else []
        if layout.ns_dir.is_dir():
            names = sorted(set(names) | {p.name for p in layout.ns_dir.iterdir()})
        stopped = 0
        for name in names:
            node_dir = layout.dir / "nodes" / name
            node = LabNode(name, "", node_dir)
            server = server_for(state.engine if state else "openldap")
            ldap_pid = read_pid(node.root / server.pid_file.lstrip("/"))
            for pid in (ldap_pid, read_pid(node.sshd_pid_file)):
                if pid is not None and alive(pid) and pid in pids_in_mount_ns(layout.ns_file(name)):
                    stop_pid(pid)
                    stopped += 1
            # Anything else started inside the node (SSH sessions, daemons) goes too.
            for _ in range(3):
                leftovers = pids_in_mount_ns(layout.ns_file(name))
                if not leftovers:
                    break
                for pid in leftovers:
                    stop_pid(pid, grace=2.0)
                    stopped += 1
        for name in names:
            ns_file = layout.ns_file(name)
            if is_mounted(ns_file):
                run(["umount", str(ns_file)])
        if is_mounted(layout.ns_dir):
            run(["umount", str(layout.ns_dir)])
        left = mounts_under(layout.dir)
        if left:
            raise LabError(f"mounts remain under {layout.dir}: {', '.join(left)}; unmount them by hand")
        if state is not None:
            inventory = Path(state.inventory)
            if inventory.is_file() and layout.dir not in inventory.parents:
                inventory.unlink()
        shutil.rmtree(layout.dir, ignore_errors=True)
        return stopped
