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
