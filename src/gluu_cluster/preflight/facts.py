"""Per-node facts for the preflight: one host script, one container script, the clock.

Each fact is a command and a pure parser (key=value lines), testable without a node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..connection import NodeHandle
from ..pki.certset import parse_properties

# Arguments: the container root, the node names to resolve. Prints key=value lines.
_HOST_SCRIPT = r"""
[ -d "$1" ] && echo "root_exists=1"; shift
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
awk '/^MemTotal:/ {print "mem_kb=" $2}' /proc/meminfo
df -Pk / | awk 'NR==2 {print "root_kb=" $2}'
echo "nsswitch=$(grep -E '^hosts:' /etc/nsswitch.conf 2>/dev/null | head -n1)"
for t in bash timeout setsid python3; do command -v "$t" >/dev/null 2>&1 || echo "missing=$t"; done
for n in "$@"; do echo "resolve:$n=$(getent hosts "$n" | awk '{print $1; exit}')"; done
"""

# Arguments: the tools to look for, "--", the node names to resolve.
_CONTAINER_SCRIPT = r"""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  command -v "$1" >/dev/null 2>&1 || echo "missing=$1"; shift
done
shift
for m in apt-get dnf yum; do command -v $m >/dev/null 2>&1 && { echo "manager=$m"; break; }; done
for n in "$@"; do echo "resolve:$n=$(getent hosts "$n" | awk '{print $1; exit}')"; done
"""


@dataclass
class NodeFacts:
    node: str
    cpus: int | None = None
    mem_kb: int | None = None
    root_kb: int | None = None
    nsswitch: str = ""
    host_missing: list[str] = field(default_factory=list)
    container_missing: list[str] = field(default_factory=list)
    package_manager: str | None = None
    host_resolves: dict[str, str] = field(default_factory=dict)
    container_resolves: dict[str, str] = field(default_factory=dict)
    container_root_exists: bool = True
    properties: dict[str, str] | None = None
    clock_offset: float | None = None  # node clock minus this machine's, seconds
    clock_uncertainty: float | None = None


def parse_lines(text: str) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """(plain key=value, missing tools, name -> resolved address)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    resolves: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "missing":
            missing.append(value)
        elif key.startswith("resolve:"):
            resolves[key[len("resolve:"):]] = value.strip()
        else:
            values[key] = value.strip()
    return values, missing, resolves


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


async def read_clock(handle: NodeHandle) -> tuple[float, float]:
    """(offset of the node's clock from ours, half the round trip: the offset's error)."""
    best: tuple[float, float] | None = None
    for _ in range(3):  # the shortest round trip gives the tightest bound
        before = time.time()
        out = (await handle.host.run(["date", "+%s.%N"], timeout=15)).out.strip()
        after = time.time()
        try:
            remote = float(out)
        except ValueError:
            return float("nan"), float("inf")
        sample = (remote - (before + after) / 2, (after - before) / 2)
        if best is None or sample[1] < best[1]:
            best = sample
    assert best is not None
    return best


async def read_facts(handle: NodeHandle, names: list[str], tools: list[str],
                     properties_file: str) -> NodeFacts:
    facts = NodeFacts(handle.name)
    host = await handle.host.run(["sh", "-c", _HOST_SCRIPT, "gluu-preflight", handle.container_root,
                                  *names], timeout=30)
    values, facts.host_missing, facts.host_resolves = parse_lines(host.out)
    facts.cpus, facts.mem_kb = _int(values.get("cpus")), _int(values.get("mem_kb"))
    facts.root_kb, facts.nsswitch = _int(values.get("root_kb")), values.get("nsswitch", "")
    facts.container_root_exists = values.get("root_exists") == "1"
    if facts.container_root_exists:
        inner = await handle.container.run(
            ["sh", "-c", _CONTAINER_SCRIPT, "gluu-preflight", *tools, "--", *names], timeout=30)
        values, facts.container_missing, facts.container_resolves = parse_lines(inner.out)
        facts.package_manager = values.get("manager")
        text = await handle.container.read_file(properties_file)
        facts.properties = parse_properties(text.decode("utf-8", "replace")) if text else None
    facts.clock_offset, facts.clock_uncertainty = await read_clock(handle)
    return facts
