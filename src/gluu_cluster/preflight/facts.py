"""Per-node facts for the preflight, in one round trip: a fact script that runs the host
part, the container part (through chroot) and reads the properties file, and samples
the node's clock first thing. Pure parsers (key=value lines), testable without a node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..connection import NodeHandle
from ..errors import CommandFailedError
from ..facts.script import Sections, run_script
from ..packages import MANAGER_PROBE
from ..pki.certset import parse_properties
from .ports import PROBE, parse_probe, probe_args

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
_CONTAINER_SCRIPT = MANAGER_PROBE + r"""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  command -v "$1" >/dev/null 2>&1 || echo "missing=$1"; shift
done
shift
echo "manager=$(manager)"
for n in "$@"; do echo "resolve:$n=$(getent hosts "$n" | awk '{print $1; exit}')"; done
"""


# In the container: whether OpenDJ is installed in $1 and the JVM arguments its server
# starts with (config/java.properties: the heap).
_OPENDJ_SCRIPT = r"""
[ -x "$1/bin/dsreplication" ] && [ -x "$1/bin/start-ds" ] && echo "installed=1"
sed -n 's/^start-ds\.java-args=/start_ds_args=/p' "$1/config/java.properties" 2>/dev/null
"""

# $1 the container root ("/" for none), $2 the properties file, $3 the host script,
# $4 the container script, $5 the port probe script, $6 its timeout, $7 OpenDJ's install
# directory ("" unless the LDAP engine is OpenDJ), $8 the OpenDJ script, then the tools,
# "--", the peers' address and port pairs to probe, "--", the node names.
FACT_SCRIPT = r"""
section clock date +%s.%N
root=$1 props=$2 host=$3 inner=$4 probe=$5 limit=$6 opendj=$7 opendj_script=$8
shift 8
tools="" targets=""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do tools="$tools $1"; shift; done
shift
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do targets="$targets $1"; shift; done
shift
# Addresses and ports only (checked by the inventory): safe to split on spaces.
section ports bash -c "$probe" gluu-preflight-probe "$limit" $targets
section host sh -c "$host" gluu-preflight "$root" "$@"
if [ -d "$root" ]; then
  section container chroot "$root" sh -c "$inner" gluu-preflight $tools -- "$@"
  section properties chroot "$root" sh -c '[ -e "$1" ] || exit 3; cat -- "$1"' - "$props"
  [ -z "$opendj" ] || section opendj chroot "$root" sh -c "$opendj_script" - "$opendj"
fi
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
    # (peer address, port) -> open | refused | timeout, probed by the fact script.
    ports: dict[tuple[str, int], str] = field(default_factory=dict)
    clock_offset: float | None = None  # node clock minus this machine's, seconds
    clock_uncertainty: float | None = None
    opendj_installed: bool | None = None  # None: not asked (another engine)
    opendj_heap_mb: int | None = None  # start-ds's -Xmx; None when it sets none


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


async def read_clock(handle: NodeHandle, good_enough: float) -> tuple[float, float]:
    """(offset of the node's clock from ours, half the round trip: the offset's error)."""
    best: tuple[float, float] | None = None
    for _ in range(2):  # the shortest round trip gives the tightest bound
        if best is not None and best[1] <= good_enough:
            break
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
                     properties_file: str, targets: list[tuple[str, int]], port_timeout: float,
                     max_clock_skew: float, opendj_dir: str = "") -> NodeFacts:
    before = time.time()
    probe = probe_args(port_timeout, targets)
    sections = await run_script(handle.host, "preflight", FACT_SCRIPT, [
        handle.container_root or "/", properties_file, _HOST_SCRIPT, _CONTAINER_SCRIPT,
        PROBE, probe[0], opendj_dir, _OPENDJ_SCRIPT, *tools, "--", *probe[1:], "--", *names],
        timeout=60 + port_timeout)
    after = time.time()
    facts = parse_facts(handle.name, sections)
    clock = sections["clock"].out.strip()
    # The clock was read first: the whole round trip bounds its error. A loaded node or
    # link gives a loose bound: then ask again with nothing else around the date, when
    # the bound is loose enough to blur a skew of the allowed size.
    try:
        sample = (float(clock) - (before + after) / 2, (after - before) / 2)
    except ValueError:
        sample = (float("nan"), float("inf"))
    good_enough = max_clock_skew / 4
    if sample[1] > good_enough:
        again = await read_clock(handle, good_enough)
        sample = min(sample, again, key=lambda s: s[1])
    facts.clock_offset, facts.clock_uncertainty = sample
    return facts


def parse_facts(node: str, sections: Sections) -> NodeFacts:
    """Pure: the node's preflight facts (but the clock) from the fact script's sections."""
    facts = NodeFacts(node)
    if not sections["host"].ok:
        raise CommandFailedError(node, f"the preflight host script failed: "
                                 f"{sections['host'].first_error_line()}")
    values, facts.host_missing, facts.host_resolves = parse_lines(sections["host"].out)
    facts.cpus, facts.mem_kb = _int(values.get("cpus")), _int(values.get("mem_kb"))
    facts.root_kb, facts.nsswitch = _int(values.get("root_kb")), values.get("nsswitch", "")
    facts.container_root_exists = values.get("root_exists") == "1"
    facts.ports = parse_probe(sections["ports"].out) if sections["ports"].ok else {}
    if facts.container_root_exists and "container" in sections:
        values, facts.container_missing, facts.container_resolves = parse_lines(
            sections["container"].out)
        facts.package_manager = values.get("manager") or None
        props = sections["properties"]
        facts.properties = parse_properties(props.out) if props.ok else None
        if "opendj" in sections:
            values, _missing, _resolves = parse_lines(sections["opendj"].out)
            facts.opendj_installed = values.get("installed") == "1"
            facts.opendj_heap_mb = heap_mb(values.get("start_ds_args", ""))
    return facts


def heap_mb(java_args: str) -> int | None:
    """The maximum heap an -Xmx in JVM arguments sets (the last one wins), in MiB."""
    found = None
    for arg in java_args.split():
        if arg.startswith("-Xmx") and len(arg) > 4:
            number, unit = (arg[4:-1], arg[-1].lower()) if arg[-1].isalpha() else (arg[4:], "")
            if number.isdigit():
                scale = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024, "": 1 / 1024**2}
                if unit in scale:
                    found = int(int(number) * scale[unit])
    return found
