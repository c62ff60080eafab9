"""The Gluu applications' LDAP settings on one node, read in one round trip.

Only the ``servers`` line of each properties file is read: the files also hold the bind
password (Gluu-encoded), which the tool never needs and never copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..connection import NodeHandle
from ..facts.cache import ScriptArea
from ..facts.script import Sections
from ..inventory import Inventory
from ..ldap.engines import engine_for
from ..ldap.entry import parse_entries
from ..secrets import Secret
from .config import ATTRS, FILTER, GluuConfig
from .encode import SALT_FILE, parse_salt

# $@ the properties files. A file that is not there exits 3 (that Gluu version's file).
FACT_SCRIPT = r"""
servers() {
  [ -e "$1" ] || return 3
  grep -E '^[[:space:]]*servers[[:space:]]*[:=]' -- "$1" | tail -n 1
}
for path in "$@"; do section "servers.$path" servers "$path"; done
"""


@dataclass(frozen=True)
class AppsFacts:
    # Each properties file that exists -> its server list ("host:port", in order);
    # an empty tuple when the file has no servers line.
    servers: dict[str, tuple[str, ...]]


def parse_servers(line: str) -> tuple[str, ...]:
    """``servers: a:1636, b:1636`` (Java properties: ':' or '=') -> ("a:1636", "b:1636")."""
    _key, _sep, value = line.strip().partition(":")
    if "=" in _key:
        _key, _sep, value = line.strip().partition("=")
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_facts(_node: str, _inventory: Inventory, sections: Sections) -> AppsFacts:
    return AppsFacts({path: parse_servers(s.out) if s.out.strip() else ()
                      for path, s in sections.named("servers") if s.exit_code in (0, 1)})


def _args(_handle: NodeHandle, inventory: Inventory, _down: frozenset[str]) -> list[str]:
    return list(inventory.gluu.ldap_properties)


APPS_FACTS = ScriptArea("apps", FACT_SCRIPT, _args, parse_facts)


def failover_list(inventory: Inventory, node: str) -> tuple[str, ...]:
    """The node's own LDAP server first, then its peers in inventory order, on the
    engine's LDAPS port (names resolve through the cluster block of /etc/hosts)."""
    assert inventory.ldap is not None
    port = inventory.ldap.port
    names = [node, *(n.name for n in inventory.nodes if n.name != node)]
    return tuple(f"{name}:{port}" for name in names)


# --- the Gluu configuration entry in LDAP (read on the primary only) ----------------

# $1 "read" on the primary ("skip" elsewhere: the entry is replicated), $2 Gluu's salt
# file, then the admin search's argv (it reads the password on stdin).
CONFIG_SCRIPT = r"""
if [ "$1" != read ]; then section skipped true; exit 0; fi
salt=$2
shift 2
section salt sh -c '[ -e "$1" ] || exit 3; cat -- "$1"' - "$salt"
section_in entry "$@"
"""


@dataclass(frozen=True)
class GluuConfigFacts:
    read: bool  # False on the nodes that are not the primary
    config: GluuConfig | None  # None: no Gluu configuration entry (or it could not be read)
    salt: Secret | None  # Gluu's encodeSalt: the key of the passwords it stores
    error: str  # why the entry could not be read ("" when it was)


def parse_config(node: str, inventory: Inventory, sections: Sections) -> GluuConfigFacts:
    if "entry" not in sections:
        return GluuConfigFacts(False, None, None, "")
    entry = sections["entry"]
    salt = parse_salt(sections["salt"].out) if sections["salt"].ok else None
    secret = Secret(f"{node}:{SALT_FILE}", salt) if salt else None
    if not entry.ok:
        return GluuConfigFacts(True, None, secret, entry.first_error_line())
    found = parse_entries(entry.stdout)
    if not found:
        return GluuConfigFacts(True, None, secret, "")
    first = found[0]
    return GluuConfigFacts(True, GluuConfig(first.dn, {a: tuple(first.get(a)) for a in ATTRS}),
                           secret, "")


def _config_args(handle: NodeHandle, inventory: Inventory, _down: frozenset[str]) -> list[str]:
    settings = inventory.ldap
    assert settings is not None
    url = engine_for(settings).admin_url(handle.node.address, settings)
    return ["read" if handle.name == inventory.primary_node.name else "skip", SALT_FILE,
            "ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", url, "-D", settings.admin_dn,
            "-y", "/dev/stdin", "-b", settings.suffix, "-s", "sub", "-z", "5", FILTER, *ATTRS]


def _admin_password(inventory: Inventory) -> bytes:
    assert inventory.ldap is not None
    return inventory.ldap.admin_password.resolve(inventory.base_dir).reveal().encode()


GLUU_CONFIG_FACTS = ScriptArea("gluu-config", CONFIG_SCRIPT, _config_args, parse_config,
                               stdin=_admin_password)
