"""The hosts files of a node (on the host and inside the Gluu container), read in one
round trip; parse them and compute the managed block for the cluster's nodes."""

from __future__ import annotations

from dataclasses import dataclass

from ..connection import NodeHandle
from ..facts.cache import ScriptArea
from ..facts.script import Sections
from ..inventory import Inventory

HOSTS = "/etc/hosts"

# $1 the hosts file; $2 the Gluu container's root ("" without one), read as the chroot
# transport would read it.
FACT_SCRIPT = r"""
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
section host present "$1"
if [ -n "$2" ]; then section container chroot "$2" sh -c '[ -e "$1" ] || exit 3; cat -- "$1"' - "$1"; fi
"""


@dataclass(frozen=True)
class HostsFacts:
    host: str
    container: str | None  # None: the node has no container (its root is /)


def _args(handle: NodeHandle, _inventory: Inventory, _down: frozenset[str]) -> list[str]:
    return [HOSTS, "" if handle.container is handle.host else handle.container_root]


def parse_facts(_node: str, _inventory: Inventory, sections: Sections) -> HostsFacts:
    return HostsFacts(sections["host"].out if sections["host"].ok else "",
                      (sections["container"].out if sections["container"].ok else "")
                      if "container" in sections else None)


HOSTS_FACTS = ScriptArea("hosts", FACT_SCRIPT, _args, parse_facts, on_host=True)

BEGIN = "# BEGIN gluu-cluster managed block: do not edit, 'gluu-cluster apply' rewrites it"
END = "# END gluu-cluster managed block"
DISABLED = "# disabled by gluu-cluster (conflicts with a cluster node): "


@dataclass(frozen=True)
class HostsEntry:
    address: str
    names: tuple[str, ...]


def parse_hosts(text: str) -> list[HostsEntry]:
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) >= 2:
            entries.append(HostsEntry(fields[0], tuple(fields[1:])))
    return entries


def render_hosts(current: str, wanted: list[HostsEntry]) -> tuple[str, list[str]]:
    """The new hosts file text and notes on lines we had to disable.

    The managed block is replaced (or appended) in place; a line outside the block that
    maps a cluster node's name to another address is commented out, because the node
    would otherwise resolve its peers wrongly (the seed's /etc/hosts step, made safe).
    """
    wanted_address = {name: e.address for e in wanted for name in e.names}
    kept: list[str] = []
    notes: list[str] = []
    inside = False
    block_at: int | None = None
    for raw in current.splitlines():
        if raw.strip() == BEGIN:
            inside, block_at = True, len(kept)
            continue
        if raw.strip() == END and inside:
            inside = False
            continue
        if inside:
            continue
        entry = next(iter(parse_hosts(raw)), None)
        if entry and any(
            n in wanted_address and wanted_address[n] != entry.address for n in entry.names
        ):
            notes.append(f"disabled conflicting line '{raw.strip()}'")
            kept.append(DISABLED + raw)
            continue
        kept.append(raw)
    block = [BEGIN, *(f"{e.address}\t{' '.join(e.names)}" for e in wanted), END]
    if block_at is None:
        if kept and kept[-1].strip():
            kept.append("")
        block_at = len(kept)
    lines = kept[:block_at] + block + kept[block_at:]
    return "\n".join(lines) + "\n", notes
