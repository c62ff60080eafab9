"""File replication with csync2: install, configure (keys, TLS, cfg), run, first sync.

The seed's "File System Replication" section as four steps. csync2 runs inside each
node's Gluu container, supervised by gluu-csync2d (server, change trigger, full runs).
"""

from __future__ import annotations

from ..connection import ClusterConnection, NodeHandle
from ..errors import NodeCheckError
from ..inventory import Inventory
from ..pki.ca import ClusterCA, cluster_ca
from ..plan import Blocked, Change, NoOp, Outcome, Step
from .csync2 import Csync2
from .first_sync import first_sync
from .node import (
    cert_der_hex,
    config_files,
    marker,
    read_pins,
    set_pins,
    start_supervisor,
    stop_supervisor,
    supervisor_pid,
    tls_paths,
    tls_problem,
)

TOOLS = ("csync2", "inotifywait", "bash", "flock", "timeout", "setsid", "sqlite3")
APT_PACKAGES = ("csync2", "inotify-tools", "sqlite3", "util-linux", "coreutils", "bash")
YUM_PACKAGES = ("csync2", "inotify-tools", "sqlite", "util-linux", "coreutils", "bash")

_MISSING_SCRIPT = 'for t in "$@"; do command -v "$t" > /dev/null 2>&1 || echo "$t"; done'
_MANAGER_SCRIPT = "for m in apt-get dnf yum; do command -v $m > /dev/null 2>&1 && echo $m && exit; done"


def install_command(manager: str) -> list[str]:
    if manager == "apt-get":
        return ["sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                + " ".join(APT_PACKAGES)]
    # csync2 comes from EPEL on RHEL/CentOS, as the seed's installation section says.
    return ["sh", "-c", f"{manager} install -y epel-release || true; "
            f"{manager} install -y " + " ".join(YUM_PACKAGES)]


class FileSyncInstallStep(Step):
    name = "csync2-install"
    title = "csync2 installed"

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        missing = (await handle.container.run(["sh", "-c", _MISSING_SCRIPT, "gluu-which", *TOOLS],
                                              check=False)).out.split()
        if not missing:
            return NoOp(handle.name, self.name, "csync2, inotifywait and the tools it needs are there")
        manager = (await handle.container.run(["sh", "-c", _MANAGER_SCRIPT], check=False)).out.strip()
        by_hand = f"inside the container: apt-get install {' '.join(APT_PACKAGES)} (or yum/dnf " \
                  f"with EPEL: {' '.join(YUM_PACKAGES)})"
        if not cluster.inventory.file_sync.install or not manager:
            return Blocked(handle.name, self.name, f"missing: {', '.join(missing)}", by_hand)
        return Change(handle.name, self.name, f"install {', '.join(missing)} with {manager}",
                      payload=manager)

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        result = await handle.container.run(install_command(change.payload), timeout=900,
                                            check=False)
        if not result.ok:
            raise NodeCheckError(handle.name, f"package installation failed "
                                 f"({result.first_error_line()}); run by hand: "
                                 f"{' '.join(install_command(change.payload)[2:])}")


def _ca(inventory: Inventory, create: bool) -> ClusterCA | None:
    return cluster_ca(inventory.local_path(inventory.pki.directory), inventory.cluster, create)


class FileSyncConfigStep(Step):
    name = "csync2-config"
    title = "csync2 configuration"

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        inventory = cluster.inventory
        settings = inventory.file_sync
        container = handle.container
        reasons = []
        for managed in config_files(inventory, handle.name):
            have = await container.read_file(managed.path)
            mode = await container.run(["stat", "-c", "%a", managed.path], check=False)
            if have != managed.content:
                reasons.append(f"write {managed.path}" + (" (0600)" if managed.secret else ""))
            elif mode.out.strip() != f"{managed.mode:o}":
                reasons.append(f"set {managed.path} to mode {managed.mode:04o}")
        cert = await container.read_file(tls_paths(settings)[1])
        why = tls_problem(_ca(inventory, False), cert, handle.name, handle.node.address)
        if why is not None:
            reasons.append(f"issue a TLS certificate from the cluster CA ({why})")
        if not reasons:
            return NoOp(handle.name, self.name, "csync2.cfg, keys and TLS certificate as planned")
        return Change(handle.name, self.name, "configure csync2", tuple(reasons),
                      payload=(inventory, why is not None))

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        inventory, reissue = change.payload
        settings = inventory.file_sync
        container = handle.container
        await container.run(["mkdir", "-p", settings.config_dir, settings.database_dir])
        for group in settings.groups:
            await container.run(["mkdir", "-p", group.backup.directory])
        for managed in config_files(inventory, handle.name):
            await container.write_file(managed.path, managed.content, mode=managed.mode)
        if reissue:
            ca = _ca(inventory, True)
            assert ca is not None
            issued = ca.issue(handle.name, handle.node.address)
            key_path, cert_path = tls_paths(settings)
            await container.write_file(key_path, issued.key_pem, mode=0o600)
            await container.write_file(cert_path, issued.cert_pem + ca.cert_pem, mode=0o644)
        # csync2 reads its configuration when it starts: the daemon step starts it again.
        await stop_supervisor(container, settings)


class FileSyncDaemonStep(Step):
    """Peers' certificates pinned as they are now, and gluu-csync2d running."""

    name = "csync2-daemon"
    title = "csync2 daemon and trigger"

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}

    async def prepare(self, cluster: ClusterConnection) -> None:
        settings = cluster.inventory.file_sync

        async def cert_of(handle: NodeHandle) -> bytes | None:
            return await handle.container.read_file(tls_paths(settings)[1])

        self.pins = {}
        for handle, cert in await cluster.each(cert_of):
            if isinstance(cert, bytes) and cert:
                self.pins[handle.name] = cert_der_hex(cert)

    def _wanted_pins(self, node: str) -> dict[str, str]:
        return {peer: pin for peer, pin in self.pins.items() if peer != node}

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        settings = cluster.inventory.file_sync
        reasons = []
        pins = await read_pins(handle.container, settings)
        stale = sorted(peer for peer, pin in self._wanted_pins(handle.name).items()
                       if pins.get(peer) != pin)
        if stale:
            reasons.append(f"pin the current certificates of {', '.join(stale)}")
        if await supervisor_pid(handle.container, settings) is None:
            reasons.append("start gluu-csync2d (csync2 server on "
                           f"{handle.node.address}:{settings.port}, change trigger, full runs)")
        if not reasons:
            return NoOp(handle.name, self.name, "gluu-csync2d runs; peers' certificates pinned")
        return Change(handle.name, self.name, "run csync2", tuple(reasons), payload=settings)

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        settings = change.payload
        await Csync2(handle.container, settings).run("-M")  # creates the database if new
        await set_pins(handle.container, settings, self._wanted_pins(handle.name))
        if await supervisor_pid(handle.container, settings) is None:
            await start_supervisor(handle.container, settings)


class FileSyncFirstSyncStep(Step):
    name = "csync2-first-sync"
    title = "first file sync"

    def __init__(self) -> None:
        self.cluster: ClusterConnection | None = None
        self.done = False

    async def prepare(self, cluster: ClusterConnection) -> None:
        self.cluster = cluster

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        settings = cluster.inventory.file_sync
        authority = cluster.inventory.primary_node.name
        if await handle.container.read_file(marker(settings)) is not None:
            return NoOp(handle.name, self.name, "initialised; the trigger keeps it in sync")
        backups = sorted({g.backup.directory for g in settings.groups})
        if handle.name == authority:
            return Change(handle.name, self.name,
                          "first sync: send this node's files to every peer (it wins)",
                          payload=authority)
        return Change(handle.name, self.name,
                      f"first sync: files in the synced directories become {authority}'s",
                      (f"replaced versions are kept in {', '.join(backups)} "
                       "('gluu-cluster sync history')",
                       "files only this node has are sent to the others"),
                      destructive=True, payload=authority)

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        if self.done:
            return
        assert self.cluster is not None
        await first_sync(self.cluster, change.payload)
        self.done = True


def filesync_steps(inventory: Inventory) -> list[Step]:
    if not inventory.file_sync.groups:
        return []
    return [FileSyncInstallStep(), FileSyncConfigStep(), FileSyncDaemonStep(),
            FileSyncFirstSyncStep()]
