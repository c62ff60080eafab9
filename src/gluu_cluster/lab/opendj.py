"""The lab's OpenDJ server (the guide's engine, as Gluu 2.x and 3.1.4+ ship it).

Each node unpacks the pinned zip into its own container and runs OpenDJ's ``setup``
there, on its own: its own instance keys and certificates, its own entries (the same
Gluu-like tree; OpenDJ derives entryUUID from the DN, so only the replication
generation tells separately made trees apart, as on real installs). Every listener is
bound to the node's own address but the replication server's, which OpenDJ binds on
every address: in the lab's one network namespace node i uses 8989 + i (the
inventory's per-node ``replication_port``).
"""

from __future__ import annotations

from pathlib import Path

from .directory import SUFFIX, schema_definitions
from .layout import LabNode

OPENDJ_DIR = "/opt/opendj"
ROOT_DN = "cn=directory manager"  # Gluu's OpenDJ root user
LDAP_PORT = 1389  # plain LDAP, the node's own address only (Gluu binds it to localhost)
LDAPS_PORT = 1636
ADMIN_PORT = 4444
REPLICATION_PORT = 8989
PID_FILE = f"{OPENDJ_DIR}/logs/server.pid"
SERVER_HEAP = "-Xmx384m"
# Short-lived tools (setup, dsconfig, dsreplication): the client JIT only, a small heap.
TOOL_JAVA_ARGS = "-client -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx192m"


def replication_port(index: int) -> int:
    return REPLICATION_PORT + index


def java_properties(original: str) -> str:
    """config/java.properties with heaps set: without -Xmx each JVM takes a quarter of RAM."""
    out = []
    for line in original.splitlines():
        if line.startswith("start-ds.java-args="):
            line = f"start-ds.java-args=-server {SERVER_HEAP} -XX:+UseSerialGC"
        elif line.startswith("default.java-args="):
            line = f"default.java-args={TOOL_JAVA_ARGS}"
        out.append(line)
    return "\n".join(out) + "\n"


def schema_file() -> str:
    """The lab's reduced Gluu schema as an OpenDJ schema file (config/schema)."""
    types, objects = schema_definitions()
    return "\n".join([
        "dn: cn=schema", "objectClass: top", "objectClass: ldapSubentry",
        "objectClass: subschema",
        *(f"attributeTypes: {t[:-1]}X-ORIGIN 'gluu-cluster lab' )" for t in types),
        *(f"objectClasses: {o[:-1]}X-ORIGIN 'gluu-cluster lab' )" for o in objects),
    ]) + "\n"


def unpacked(node: LabNode) -> Path:
    return node.root / OPENDJ_DIR.lstrip("/")


def setup_argv(node: LabNode, password_file: str, ldif_file: str) -> list[str]:
    """OpenDJ's non-interactive setup; the root password only in a 0600 file."""
    return [
        f"{OPENDJ_DIR}/setup", "--cli", "--no-prompt", "--acceptLicense", "--quiet",
        "--rootUserDN", ROOT_DN, "--rootUserPasswordFile", password_file,
        "--hostname", node.name, "--ldapPort", str(LDAP_PORT), "--ldapsPort", str(LDAPS_PORT),
        "--adminConnectorPort", str(ADMIN_PORT), "--baseDN", SUFFIX, "--ldifFile", ldif_file,
        "--generateSelfSignedCertificate", "--skipPortCheck", "--doNotStart",
    ]


def listening_on(config_ldif: str, address: str) -> str:
    """config/config.ldif with every listener on the node's own address (before the first
    start: 5.x's dsconfig has no offline mode, and started on every address the nodes'
    servers would collide on one machine)."""
    return config_ldif.replace("ds-cfg-listen-address: 0.0.0.0",
                               f"ds-cfg-listen-address: {address}")


def init_script() -> str:
    """Stand-in for Gluu's /etc/init.d/opendj: OpenDJ by its own scripts, no systemd."""
    return f"""#!/bin/sh
# OpenDJ control for a node without systemd.
running() {{
  [ -f {PID_FILE} ] || return 1
  pid=$(cat {PID_FILE})
  [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}}
case "$1" in
  start)
    if running; then echo "OpenDJ is already running"; exit 0; fi
    {OPENDJ_DIR}/bin/start-ds --quiet
    ;;
  stop)
    if running; then {OPENDJ_DIR}/bin/stop-ds --quiet; fi
    ;;
  status)
    if running; then echo "OpenDJ is running"; else echo "OpenDJ is stopped"; exit 3; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
"""
