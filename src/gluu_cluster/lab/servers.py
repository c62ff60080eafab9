"""The LDAP server a lab node runs, per engine: how it is installed and loaded, started,
found ready, and what the lab's inventory says of it. ``lab up --engine`` chooses."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ..ldap.openldap.directory import ldapi_url
from ..secrets import write_secret_file
from . import directory, opendj
from .container import enable_at_boot
from .layout import LabLayout, LabNode
from .proc import run

# Runs argv inside a node's container (its mount namespace, chroot), with stdin.
InContainer = Callable[[LabNode, list[str]], list[str]]


class LabServer:
    engine: ClassVar[str]
    # Inside the container: the server's PID file and its init script.
    pid_file: ClassVar[str]
    init_script: ClassVar[str]
    admin_dn: ClassVar[str]  # the directory manager (Gluu's applications bind as it)

    def ports(self, node: LabNode, index: int) -> tuple[int, ...]:
        """The ports the server will hold on the node's address (checked free first)."""
        raise NotImplementedError

    def prepare(self, node: LabNode) -> None:
        """Files in the node's container before its namespace exists (no process runs)."""

    def load(self, node: LabNode, index: int, admin_password: str, users: int,
             inside: InContainer) -> None:
        """The node's own install: configuration and the Gluu-like tree (``users`` people)."""
        raise NotImplementedError

    def ready_argv(self, node: LabNode) -> list[str]:
        """A command inside the container that succeeds once the server answers."""
        raise NotImplementedError

    def inventory_ldap(self, layout: LabLayout) -> dict[str, Any]:
        raise NotImplementedError

    def node_entry(self, node: LabNode, index: int) -> dict[str, Any]:
        return {}


class OpenLDAPServer(LabServer):
    engine = "openldap"
    admin_dn = directory.ADMIN_DN
    pid_file = directory.PID_FILE
    init_script = "/etc/init.d/solserver"

    def ports(self, node: LabNode, index: int) -> tuple[int, ...]:
        return (directory.LDAPS_PORT,)

    def prepare(self, node: LabNode) -> None:
        _write_text(node.root / self.init_script.lstrip("/"), directory.solserver_script(), 0o755)
        enable_at_boot(node, self.init_script, 20)
        _write_text(node.root / "etc/default/solserver",
                    directory.solserver_defaults(node.address), 0o644)

    def load(self, node: LabNode, index: int, admin_password: str, users: int,
             inside: InContainer) -> None:
        config = directory.config_ldif(admin_password).encode()
        run(inside(node, ["slapadd", "-n0", "-F", directory.CONFIG_DIR]), stdin=config)
        run(inside(node, ["slapadd", "-q", "-F", directory.CONFIG_DIR, "-b", directory.SUFFIX]),
            stdin=_tree(users).encode(), timeout=600)

    def ready_argv(self, node: LabNode) -> list[str]:
        return ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H",
                ldapi_url(directory.LDAPI_SOCKET), "-b", directory.SUFFIX, "-s", "base", "1.1"]

    def inventory_ldap(self, layout: LabLayout) -> dict[str, Any]:
        return {
            "suffixes": [directory.SUFFIX],
            "admin_dn": self.admin_dn,
            "admin_password": {"file": str(layout.secret("ldap-admin-password"))},
            "replication_password": {"file": str(layout.secret("ldap-replication-password"))},
            "port": directory.LDAPS_PORT,
            "ldapi_socket": directory.LDAPI_SOCKET,
            "config_dir": directory.CONFIG_DIR,
            "service": {
                "pid_file": directory.PID_FILE,
                "start_command": [self.init_script, "start"],
                "stop_command": [self.init_script, "stop"],
            },
        }


class OpenDJServer(LabServer):
    engine = "opendj"
    admin_dn = opendj.ROOT_DN
    pid_file = opendj.PID_FILE
    init_script = "/etc/init.d/opendj"

    def __init__(self, zip_path: Path) -> None:
        self.zip_path = zip_path

    def ports(self, node: LabNode, index: int) -> tuple[int, ...]:
        return (opendj.LDAP_PORT, opendj.LDAPS_PORT, opendj.ADMIN_PORT,
                opendj.replication_port(index))

    def prepare(self, node: LabNode) -> None:
        target = opendj.unpacked(node)
        run(["unzip", "-q", "-o", str(self.zip_path), "-d", str(target.parent)], timeout=300)
        properties = target / "config/java.properties"
        if not properties.exists():  # 5.x keeps it in the template until setup
            properties = target / "template/config/java.properties"
        properties.write_text(opendj.java_properties(properties.read_text()))
        (target / "template/config/schema/99-gluu-lab.ldif").write_text(opendj.schema_file())
        _write_text(node.root / self.init_script.lstrip("/"), opendj.init_script(), 0o755)
        enable_at_boot(node, self.init_script, 20)

    def load(self, node: LabNode, index: int, admin_password: str, users: int,
             inside: InContainer) -> None:
        # The setup's inputs live in the container's /tmp only while it runs (0600).
        work = Path(tempfile.mkdtemp(dir=node.root / "tmp", prefix="lab-setup-"))
        try:
            inner = "/" + str(work.relative_to(node.root))
            write_secret_file(work / "root-password", admin_password)
            (work / "tree.ldif").write_text(_tree(users))
            env = {**os.environ, "OPENDJ_JAVA_ARGS": opendj.TOOL_JAVA_ARGS}
            run(inside(node, opendj.setup_argv(node, f"{inner}/root-password",
                                               f"{inner}/tree.ldif")), timeout=900, env=env)
            config = opendj.unpacked(node) / "config/config.ldif"
            config.write_text(opendj.listening_on(config.read_text(), node.address))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def ready_argv(self, node: LabNode) -> list[str]:
        return ["ldapsearch", "-x", "-LLL", "-H", f"ldap://{node.address}:{opendj.LDAP_PORT}",
                "-b", "", "-s", "base", "1.1"]

    def inventory_ldap(self, layout: LabLayout) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "suffixes": [directory.SUFFIX],
            "admin_dn": self.admin_dn,
            "admin_password": {"file": str(layout.secret("ldap-admin-password"))},
            "replication_password": {"file": str(layout.secret("ldap-replication-password"))},
            "port": opendj.LDAPS_PORT,
            "opendj": {"install_dir": opendj.OPENDJ_DIR, "admin_port": opendj.ADMIN_PORT,
                       "replication_port": opendj.REPLICATION_PORT,
                       "ldap_port": opendj.LDAP_PORT},
            "service": {
                "pid_file": opendj.PID_FILE,
                "start_command": [self.init_script, "start"],
                "stop_command": [self.init_script, "stop"],
            },
        }

    def node_entry(self, node: LabNode, index: int) -> dict[str, Any]:
        return {"replication_port": opendj.replication_port(index)}


def _tree(users: int) -> str:
    return "".join(directory.base_entries()) + ("".join(directory.user_entries(users))
                                                if users else "")


def _write_text(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
