"""Build a node's container root and the mounts that make its namespace a fake host."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from ..boot.facts import START_LEVELS
from .layout import CONTAINER_ROOT, PRIVATE_HOST_DIRS, LabNode

# Host /etc entries the container needs to run slapd, keytool and a shell.
_ETC_COPIES = (
    "passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
    "alternatives", "ldap", "ssl", "localtime", "services", "protocols", "host.conf",
    "ca-certificates.conf", "mime.types",
)
_USR_LINKS = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}

# The fixed script that mounts inside a namespace; values come as positional arguments.
MOUNT_SCRIPT = r"""
set -e
while [ $# -gt 0 ]; do
  kind=$1; src=$2; dst=$3; shift 3
  case $kind in
    bind) mount --bind "$src" "$dst" ;;
    ro) mount --bind "$src" "$dst"; mount -o remount,bind,ro "$dst" ;;
    rbind) mount --rbind "$src" "$dst"; mount --make-rslave "$dst" ;;
    proc) mount -t proc proc "$dst" ;;
  esac
done
"""


def build_root(node: LabNode) -> None:
    root = node.root
    for name, target in _USR_LINKS.items():
        link = root / name
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target)
    for path in ("usr", "dev", "proc", "tmp", "run/slapd", "var/log", "root",
                 "opt/gluu/data/main_db", "etc/openldap/slapd.d", "etc/init.d", "etc/default",
                 "etc/certs", "etc/csync2", *(f"etc/rc{level}.d" for level in range(7))):
        (root / path).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    if not (root / "var/run").exists():
        (root / "var/run").symlink_to("../run")
    for entry in _ETC_COPIES:
        _copy_etc(Path("/etc") / entry, root / "etc" / entry)
    for java_conf in glob.glob("/etc/java-*"):
        _copy_etc(Path(java_conf), root / "etc" / Path(java_conf).name)
    (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n{node.address}\t{node.name}\n")
    # Like a real host, the node's outgoing LDAP connections (syncrepl consumers) leave
    # from its own address, so a firewall rule on that address partitions it.
    ldap_conf = root / "etc/ldap/ldap.conf"
    ldap_conf.parent.mkdir(parents=True, exist_ok=True)
    with open(ldap_conf, "a", encoding="utf-8") as handle:
        handle.write(f"\n# lab node {node.name}\nSOCKET_BIND_ADDRESSES {node.address}\n")
    node.hosts_file.write_text(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"{node.address}\t{node.name}\n"
    )
    for host_dir in PRIVATE_HOST_DIRS:
        node.private_dir(host_dir).mkdir(parents=True, exist_ok=True)
    node.bashrc.write_text(NODE_BASHRC)
    node.run_dir.mkdir(parents=True, exist_ok=True)


# The node's boot, as the Gluu container's start does it: every script its default
# runlevel's rc directory starts, in order, inside the container. $1 the runlevel.
BOOT_SCRIPT = r"""
for script in /etc/rc$1.d/S*; do
  [ -x "$script" ] || continue
  "$script" start < /dev/null || echo "boot: $script start failed ($?)" >&2
done
"""
BOOT_RUNLEVEL = "3"


def enable_at_boot(node: LabNode, init_script: str, order: int) -> None:
    """What Gluu's setup does for its own services: S links in runlevels 2-5."""
    name = Path(init_script).name
    for level in START_LEVELS:
        link = node.root / f"etc/rc{level}.d/S{order:02d}{name}"
        if not link.is_symlink():
            link.symlink_to(f"../init.d/{name}")


def clear_run(node: LabNode) -> None:
    """A boot starts with an empty /run (a tmpfs on a real host): stale PID files and
    sockets go, directories stay."""
    run_dir = node.root / "run"
    for path in sorted(run_dir.rglob("*"), reverse=True):
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)


def _copy_etc(source: Path, target: Path) -> None:
    if not source.exists() and not source.is_symlink():
        return
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


# Debian's bash reads ~/.bashrc even for a command run over SSH ("bash -c ..."). A lab
# node's sshd shares this machine's /root, whose .bashrc (pyenv, cargo ...) took ~150 ms
# per command, and again per nested bash: a node sees a fresh host's instead (Debian's
# /etc/skel/.bashrc returns at once when not interactive).
NODE_BASHRC = """# root's ~/.bashrc on a lab node (gluu-cluster lab): as on a fresh host
case $- in
  *i*) ;;
  *) return ;;
esac
"""
HOST_BASHRC = Path("/root/.bashrc")


def host_mountpoints() -> list[Path]:
    """Host paths the namespaces bind over; they must exist (empty) on the host."""
    return [Path(CONTAINER_ROOT), *(Path(p) for p in PRIVATE_HOST_DIRS)]


def mount_args(node: LabNode) -> list[str]:
    """(kind, source, target) triples for MOUNT_SCRIPT, in order."""
    triples: list[tuple[str, str, str]] = [
        ("bind", str(node.root), CONTAINER_ROOT),
        ("ro", "/usr", f"{CONTAINER_ROOT}/usr"),
        ("rbind", "/dev", f"{CONTAINER_ROOT}/dev"),
        ("proc", "proc", f"{CONTAINER_ROOT}/proc"),
        ("bind", str(node.hosts_file), "/etc/hosts"),
    ]
    for host_dir in PRIVATE_HOST_DIRS:
        triples.append(("bind", str(node.private_dir(host_dir)), host_dir))
    if HOST_BASHRC.is_file():  # nothing to hide where there is none
        triples.append(("bind", str(node.bashrc), str(HOST_BASHRC)))
    return [value for triple in triples for value in triple]
