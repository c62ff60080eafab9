"""File replication with csync2: install, configure (keys, TLS, cfg), run, first sync.

The seed's "File System Replication" section as four steps. csync2 runs inside each
node's Gluu container, supervised by gluu-csync2d (server, change trigger, full runs).
Every step plans from the node's file sync facts (filesync/facts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..boot.facts import BOOT_FACTS, InitSystem
from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..inventory import Inventory
from ..pki.ca import inventory_ca
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .csync2 import Csync2
from .facts import FILESYNC_FACTS, TOOLS
from .first_sync import first_sync
from .node import (
    cert_der_hex,
    config_files,
    marker,
    set_pins,
    tls_paths,
    tls_problem,
)
from .service import start_supervisor, stop_supervisor, supervisor_pid

APT_PACKAGES = ("csync2", "inotify-tools", "sqlite3", "util-linux", "coreutils", "bash")
YUM_PACKAGES = ("csync2", "inotify-tools", "sqlite", "util-linux", "coreutils", "bash")


def install_commands(manager: str) -> list[list[str]]:
    """argv lists, run one after another (the manager is one of PACKAGE_MANAGERS)."""
    if manager == "apt-get":
        return [["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                 *APT_PACKAGES]]
    # csync2 comes from EPEL on RHEL/CentOS, as the seed's installation section says.
    return [[manager, "install", "-y", "epel-release"], [manager, "install", "-y", *YUM_PACKAGES]]


@dataclass(frozen=True)
class InstallPayload(Payload):
    manager: str


class FileSyncInstallStep(Step):
    name = "csync2-install"
    title = "csync2 installed"
    reads = touches = (FILESYNC_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts = await run.facts.of(FILESYNC_FACTS, handle)
        missing, manager = facts.missing_tools, facts.package_manager
        if not missing:
            return NoOp(handle.name, self.name, "csync2, inotifywait and the tools it needs are there")
        by_hand = f"inside the container: apt-get install {' '.join(APT_PACKAGES)} (or yum/dnf " \
                  f"with EPEL: {' '.join(YUM_PACKAGES)})"
        if not run.inventory.file_sync.install or not manager:
            return Blocked(handle.name, self.name, f"missing: {', '.join(missing)}", by_hand)
        return Change(handle.name, self.name, f"install {', '.join(missing)} with {manager}",
                      payload=InstallPayload(manager))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, InstallPayload)
        commands = install_commands(change.payload.manager)
        for i, argv in enumerate(commands):
            result = await handle.container.run(argv, timeout=900, check=False)
            # EPEL may be there already or come from elsewhere: only the last must work.
            if not result.ok and i == len(commands) - 1:
                raise NodeCheckError(handle.name, f"package installation failed "
                                     f"({result.first_error_line()}); run by hand: "
                                     + " && ".join(" ".join(c) for c in commands))


@dataclass(frozen=True)
class ConfigPayload(Payload):
    reissue: bool  # a new TLS certificate from the cluster CA
    init: InitSystem  # which service definition the daemon gets


class FileSyncConfigStep(Step):
    name = "csync2-config"
    title = "csync2 configuration"
    tools = ("mkdir",)
    reads = (FILESYNC_FACTS, BOOT_FACTS)
    touches = (FILESYNC_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        facts = await run.facts.of(FILESYNC_FACTS, handle)
        init = (await run.facts.of(BOOT_FACTS, handle)).init
        reasons = []
        for managed in config_files(inventory, handle.name, init, create_keys=False):
            have = facts.managed.get(managed.path)
            if managed.content is None:
                reasons.append(f"make the group's pre-shared key and write {managed.path} (0600)")
            elif have is None or have.sha256 != managed.sha256:
                reasons.append(f"write {managed.path}" + (" (0600)" if managed.secret else ""))
            elif have.mode != managed.mode:
                reasons.append(f"set {managed.path} to mode {managed.mode:04o}")
        why = tls_problem(inventory_ca(inventory, False), facts.certificate, handle.name,
                          handle.node.address)
        if why is not None:
            reasons.append(f"issue a TLS certificate from the cluster CA ({why})")
        if not reasons:
            return NoOp(handle.name, self.name, "csync2.cfg, keys and TLS certificate as planned")
        return Change(handle.name, self.name, "configure csync2", tuple(reasons),
                      payload=ConfigPayload(reissue=why is not None, init=init))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ConfigPayload)
        inventory = run.inventory
        settings = inventory.file_sync
        container = handle.container
        await container.run(["mkdir", "-p", settings.config_dir, settings.database_dir,
                             *(g.backup.directory for g in settings.groups)])
        for managed in config_files(inventory, handle.name, change.payload.init,
                                    create_keys=True):
            assert managed.content is not None
            await container.write_file(managed.path, managed.content, mode=managed.mode)
        if change.payload.reissue:
            ca = inventory_ca(inventory, True)
            assert ca is not None
            issued = ca.issue(handle.name, handle.node.address)
            key_path, cert_path = tls_paths(settings)
            await container.write_file(key_path, issued.key_pem, mode=0o600)
            await container.write_file(cert_path, issued.cert_pem + ca.cert_pem, mode=0o644)
        # csync2 reads its configuration when it starts: the daemon step starts it again.
        await stop_supervisor(container, settings, change.payload.init)


@dataclass(frozen=True)
class DaemonPayload(Payload):
    pins: tuple[tuple[str, str], ...]  # (peer, its certificate's DER as hex)
    start: bool
    init: InitSystem  # started through the node's init system


class FileSyncDaemonStep(Step):
    """Peers' certificates pinned as they are now, and gluu-csync2d running (started by
    its service, which boot-services enables)."""

    name = "csync2-daemon"
    title = "csync2 daemon and trigger"
    tools = TOOLS
    reads = (FILESYNC_FACTS, BOOT_FACTS)
    touches = (FILESYNC_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        every = await run.facts.every(FILESYNC_FACTS)
        wanted = {peer: cert_der_hex(f.certificate) for peer, f in every.items()
                  if peer != handle.name and f.certificate}
        facts = every[handle.name]
        reasons = []
        stale = sorted(peer for peer, pin in wanted.items() if facts.pins.get(peer) != pin)
        if stale:
            reasons.append(f"pin the current certificates of {', '.join(stale)}")
        settings = run.inventory.file_sync
        start = facts.daemon_pid is None
        if start:
            reasons.append("start gluu-csync2d (csync2 server on "
                           f"{handle.node.address}:{settings.port}, change trigger, full runs)")
        if not reasons:
            return NoOp(handle.name, self.name, "gluu-csync2d runs; peers' certificates pinned")
        return Change(handle.name, self.name, "run csync2", tuple(reasons),
                      payload=DaemonPayload(tuple(sorted(wanted.items())), start,
                                            (await run.facts.of(BOOT_FACTS, handle)).init))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, DaemonPayload)
        settings = run.inventory.file_sync
        await Csync2(handle.container, settings).run("-M")  # creates the database if new
        await set_pins(handle.container, settings, dict(change.payload.pins))
        if change.payload.start and await supervisor_pid(handle.container, settings) is None:
            await start_supervisor(handle.container, settings, change.payload.init)


@dataclass(frozen=True)
class FirstSyncPayload(Payload):
    authority: str


class FileSyncFirstSyncStep(Step):
    name = "csync2-first-sync"
    title = "first file sync"
    reads = touches = (FILESYNC_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        settings = run.inventory.file_sync
        authority = run.inventory.primary_node.name
        if (await run.facts.of(FILESYNC_FACTS, handle)).initialised:
            return NoOp(handle.name, self.name, "initialised; the trigger keeps it in sync")
        backups = sorted({g.backup.directory for g in settings.groups})
        payload = FirstSyncPayload(authority)
        if handle.name == authority:
            return Change(handle.name, self.name,
                          "first sync: send this node's files to every peer (it wins)",
                          payload=payload)
        return Change(handle.name, self.name,
                      f"first sync: files in the synced directories become {authority}'s",
                      (f"replaced versions are kept in {', '.join(backups)} "
                       "('gluu-cluster sync history')",
                       "files only this node has are sent to the others"),
                      destructive=True, payload=payload)

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, FirstSyncPayload)
        # One first sync covers every node and marks each initialised: a node that the
        # first node's change already initialised has nothing left to do.
        if await handle.container.read_file(marker(run.inventory.file_sync)) is not None:
            return
        await first_sync(run.cluster, change.payload.authority)


def filesync_steps(inventory: Inventory) -> list[Step]:
    if not inventory.file_sync.groups:
        return []
    return [FileSyncInstallStep(), FileSyncConfigStep(), FileSyncDaemonStep(),
            FileSyncFirstSyncStep()]
