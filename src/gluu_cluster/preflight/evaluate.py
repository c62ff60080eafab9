"""Pure: every requirement per node as pass / warn / fail, from the facts gathered."""

from __future__ import annotations

import hashlib
import posixpath
import statistics
from dataclasses import dataclass
from typing import Literal

from ..inventory import Inventory
from ..ldap.opendj.dist import zip_path
from ..problems import Problem, define
from .facts import NodeFacts
from .ports import PortResult

UNREACHABLE = define("PRE-NODE-UNREACHABLE", "error",
                     "check that the node is up and reachable over SSH from this machine")
CPUS = define("PRE-CPUS", "error", "give the node more CPUs, or lower preflight.min_cpus")
MEMORY = define("PRE-MEMORY", "error", "give the node more RAM, or lower preflight.min_memory_gb")
ROOT_DISK = define("PRE-ROOT-DISK", "error",
                   "grow the root partition, or lower preflight.min_root_gb")
PORT_BLOCKED = define("PRE-PORT-BLOCKED", "error",
                      "open the port between the nodes (firewall, security group)")
PORT_UNVERIFIED = define("PRE-PORT-UNVERIFIED", "warning",
                         "install python3 on the node so check can listen on the port, or test "
                         "it by hand")
NAME = define("PRE-NAME-RESOLUTION", "error",
              "make 'hosts: files ...' come first in /etc/nsswitch.conf, or fix the DNS record")
CLOCK = define("PRE-CLOCK-SKEW", "error",
               "run NTP (chrony or systemd-timesyncd) on every node: csync2 picks the younger "
               "file by its time")
VERSION = define("PRE-GLUU-VERSION", "error",
                 "install the same Gluu Server version on every node")
VERSION_UNKNOWN = define("PRE-GLUU-VERSION-UNKNOWN", "warning",
                         "check by hand that every node runs the same Gluu Server version")
CONTAINER_ROOT = define("PRE-CONTAINER-ROOT", "error",
                        "fix container_root in the inventory, or install Gluu Server there")
CONTAINER_ROOT_DIFFERS = define("PRE-CONTAINER-ROOT-DIFFERS", "error",
                                "install the same Gluu Server package (one container root) on "
                                "every node")
PROPERTIES_MISSING = define("PRE-PROPERTIES-MISSING", "warning",
                            "copy the primary's setup.properties.last to the node (the seed's "
                            "installation step), or set preflight.properties_file")
PROPERTIES_DIFFER = define("PRE-PROPERTIES-DIFFER", "error",
                           "install the node from the primary's setup.properties.last, or "
                           "make these passwords equal (the seed's 'Optional actions'); key "
                           "stores synced from the primary will not open otherwise")
SOFTWARE = define("PRE-SOFTWARE-MISSING", "error", "install the missing programs on the node")
OPENDJ_MISSING = define("PRE-OPENDJ-MISSING", "error",
                        "install OpenDJ there first (Gluu's setup does; or unpack the pinned zip "
                        "and run its setup), or correct ldap.opendj.install_dir")
OPENDJ_HEAP = define("PRE-OPENDJ-HEAP", "error",
                     "lower -Xmx in start-ds.java-args of config/java.properties, then restart "
                     "OpenDJ (or give the node more RAM)")
OPENDJ_HEAP_UNSET = define("PRE-OPENDJ-HEAP-UNSET", "warning",
                           "set -Xmx in start-ds.java-args of config/java.properties (the "
                           "JVM otherwise takes a quarter of the RAM, whatever runs beside it)")

State = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Verdict:
    node: str
    requirement: str
    state: State
    detail: str
    problem: Problem | None = None


def verdict(node: str, requirement: str, problem: Problem | None, ok_detail: str) -> Verdict:
    if problem is None:
        return Verdict(node, requirement, "pass", ok_detail)
    return Verdict(node, requirement, "fail" if problem.severity == "error" else "warn",
                   problem.detail, problem)


def _gb(kb: int) -> float:
    return kb * 1024 / 1e9


def resources(inv: Inventory, f: NodeFacts) -> list[Verdict]:
    pre = inv.preflight
    out = []
    cpus = f.cpus or 0
    out.append(verdict(f.node, "CPUs", None if cpus >= pre.min_cpus else CPUS.at(
        f.node, f"{cpus} CPU(s), at least {pre.min_cpus} needed"), f"{cpus} (>= {pre.min_cpus})"))
    # MemTotal and a formatted disk are a few percent below the sold size: 5% margin.
    mem = _gb(f.mem_kb or 0)
    out.append(verdict(f.node, "RAM", None if mem >= pre.min_memory_gb * 0.95 else MEMORY.at(
        f.node, f"{mem:.1f} GB RAM, at least {pre.min_memory_gb:g} GB needed"),
        f"{mem:.1f} GB (>= {pre.min_memory_gb:g})"))
    root = _gb(f.root_kb or 0)
    out.append(verdict(f.node, "root partition", None if root >= pre.min_root_gb * 0.95 else ROOT_DISK.at(
        f.node, f"root partition {root:.0f} GB, at least {pre.min_root_gb:g} GB needed"),
        f"{root:.0f} GB (>= {pre.min_root_gb:g})"))
    return out


def software(inv: Inventory, f: NodeFacts, installable: list[str]) -> Verdict:
    missing = [t for t in f.host_missing if t != "python3"]
    missing += [f"{t} (in the container)" for t in f.container_missing
                if not (t in installable and inv.file_sync.install and f.package_manager)]
    pending = [t for t in f.container_missing if t in installable and inv.file_sync.install
               and f.package_manager]
    note = f"; apply installs {', '.join(pending)} with {f.package_manager}" if pending else ""
    return verdict(f.node, "software", SOFTWARE.at(f.node, "missing: " + ", ".join(missing))
              if missing else None, "present" + note)


# The share of the node's RAM OpenDJ's heap may take: Gluu's applications (oxAuth, oxTrust,
# Shibboleth: a JVM each) and the page cache need the rest.
MAX_HEAP_SHARE = 0.5


def opendj(inv: Inventory, f: NodeFacts) -> list[Verdict]:
    """OpenDJ installed where the inventory says, its heap within the node's RAM."""
    if f.opendj_installed is None or inv.ldap is None:
        return []
    where = inv.ldap.opendj.install_dir
    if not f.opendj_installed:
        zip_file = zip_path()
        zip_name = zip_file.name
        parent = posixpath.dirname(where)
        moved = ("" if posixpath.basename(where) == "opendj"
                 else f", 'mv {parent}/opendj {where}'")
        return [verdict(f.node, "OpenDJ", OPENDJ_MISSING.at(
            f.node, f"no OpenDJ in {where} (bin/dsreplication, bin/start-ds)",
            f"install OpenDJ in {where} first: Gluu's setup does; or copy "
            f"{zip_file} there, 'unzip {zip_name} -d {parent}'{moved} and run "
            f"'{where}/setup --cli --no-prompt "
            "--acceptLicense --rootUserDN \"cn=directory manager\" --rootUserPasswordFile FILE "
            f"--ldapPort {inv.ldap.opendj.ldap_port} --ldapsPort {inv.ldap.port} "
            f"--adminConnectorPort {inv.ldap.opendj.admin_port} --baseDN {inv.ldap.suffix} "
            "--generateSelfSignedCertificate'; or correct ldap.opendj.install_dir"), "")]
    out = [verdict(f.node, "OpenDJ", None, f"installed in {where}")]
    mem_mb = (f.mem_kb or 0) // 1024
    if f.opendj_heap_mb is None:
        out.append(verdict(f.node, "OpenDJ heap", OPENDJ_HEAP_UNSET.at(
            f.node, f"start-ds sets no -Xmx: the JVM takes a quarter of {mem_mb} MB"), ""))
    elif mem_mb and f.opendj_heap_mb > mem_mb * MAX_HEAP_SHARE:
        out.append(verdict(f.node, "OpenDJ heap", OPENDJ_HEAP.at(
            f.node, f"start-ds -Xmx {f.opendj_heap_mb} MB is more than "
            f"{MAX_HEAP_SHARE:.0%} of the node's {mem_mb} MB RAM"), ""))
    else:
        out.append(verdict(f.node, "OpenDJ heap", None,
                           f"-Xmx {f.opendj_heap_mb} MB of {mem_mb} MB RAM"))
    return out


def names(inv: Inventory, f: NodeFacts) -> Verdict:
    wrong = []
    for where, resolved in (("host", f.host_resolves), ("container", f.container_resolves)):
        for node in inv.nodes:
            got = resolved.get(node.name, "")
            # Unresolved, or the hosts file says otherwise: apply's hosts-file step writes
            # it. An answer that differs from /etc/hosts comes from DNS winning over files.
            files_first = not f.nsswitch or f.nsswitch.split()[1:2] == ["files"]
            if got and got != node.address and not files_first:
                wrong.append(f"{node.name} -> {got} on the {where} (not {node.address})")
    detail = "every node name resolves to its address, or apply's hosts-file step will make it"
    if wrong:
        why = "; ".join(wrong) + f" ({f.nsswitch or 'no hosts: line'})"
        return verdict(f.node, "names", NAME.at(f.node, why), detail)
    return verdict(f.node, "names", None, detail)


def clocks(inv: Inventory, facts: list[NodeFacts]) -> list[Verdict]:
    limit = inv.preflight.max_clock_skew
    known = {f.node: f.clock_offset for f in facts if f.clock_offset is not None
             and f.clock_offset == f.clock_offset}
    if not known:
        return []
    primary = inv.primary_node.name
    reference = known.get(primary, statistics.median(known.values()))
    name = primary if primary in known else "the others' median"
    ref_err = next(((g.clock_uncertainty or 0) for g in facts if g.node == primary), 0.0)
    out = []
    for f in facts:
        if f.node not in known:
            continue
        diff = known[f.node] - reference
        detail = f"{abs(diff):.2f} s {'ahead of' if diff > 0 else 'behind'} {name}"
        # The offsets are measured over SSH: only a skew beyond both reads' error counts.
        err = (f.clock_uncertainty or 0) + ref_err
        problem = None
        if abs(diff) - err > limit:
            problem = CLOCK.at(f.node, f"clock {detail} (more than {limit:g} s)")
        out.append(verdict(f.node, "clock", problem, f"{detail} (within {limit:g} s)"))
    return out


def _groups(values: dict[str, str | None]) -> str:
    by_value: dict[str | None, list[str]] = {}
    for node, value in values.items():
        key = None if value is None else hashlib.sha256(value.encode()).hexdigest()
        by_value.setdefault(key, []).append(node)
    parts = [(", ".join(nodes) + (" have none" if key is None else " share one value"))
             for key, nodes in by_value.items()]
    return "; ".join(parts)


def properties(inv: Inventory, facts: list[NodeFacts]) -> list[Verdict]:
    pre = inv.preflight
    out = []
    have = [f for f in facts if f.properties is not None]
    for f in facts:
        if f.properties is None:
            out.append(verdict(f.node, "setup properties", PROPERTIES_MISSING.at(
                f.node, f"{pre.properties_file} does not exist"), ""))
    differing = []
    for key in pre.same_properties:
        values = {f.node: (f.properties or {}).get(key) for f in have}
        if any(v is not None for v in values.values()) and len(set(values.values())) > 1:
            differing.append(f"{key} ({_groups(values)})")
    for f in have:
        differ = PROPERTIES_DIFFER.at(f.node, f"{pre.properties_file}: " + "; ".join(differing)) \
            if differing else None
        out.append(verdict(f.node, "setup properties", differ,
                      f"{', '.join(pre.same_properties)} equal on every node"))
    versions = {f.node: (f.properties or {}).get(pre.version_key) for f in have}
    known_versions = {v for v in versions.values() if v}
    for f in have:
        mine = versions[f.node]
        if len(known_versions) > 1:
            problem: Problem | None = VERSION.at(f.node, f"Gluu {mine or 'unknown'}; the nodes run "
                                                 + ", ".join(sorted(known_versions)))
        elif not mine:
            problem = VERSION_UNKNOWN.at(f.node, f"no {pre.version_key} in {pre.properties_file}")
        else:
            problem = None
        out.append(verdict(f.node, "Gluu version", problem, f"Gluu {mine}, same on every node"))
    return out


def container_roots(inv: Inventory, facts: list[NodeFacts]) -> list[Verdict]:
    roots = {n.name: inv.container_root_of(n) for n in inv.nodes}
    common = statistics.mode(roots.values())
    out = []
    for f in facts:
        root = roots[f.node]
        if not f.container_root_exists:
            problem: Problem | None = CONTAINER_ROOT.at(f.node, f"{root} does not exist")
        elif root != common:
            problem = CONTAINER_ROOT_DIFFERS.at(f.node, f"{root}, the others use {common}")
        else:
            problem = None
        out.append(verdict(f.node, "container root", problem, f"{root}"))
    return out


def ports(results: list[PortResult], nodes: list[str]) -> list[Verdict]:
    out = []
    for node in nodes:
        mine = [r for r in results if r.source == node]
        blocked = [r for r in mine if r.result != "open" and r.held_by]
        unverified = [r for r in mine if r.result != "open" and not r.held_by]
        problem = None
        if blocked:
            problem = PORT_BLOCKED.at(node, "cannot reach " + ", ".join(
                f"{r.target}:{r.port} ({r.result}; {r.held_by} listens there)" for r in blocked))
        elif unverified:
            problem = PORT_UNVERIFIED.at(node, "nothing listens on " + ", ".join(
                f"{r.target}:{r.port}" for r in unverified) + " and check could not open a listener")
        ok = sorted({str(r.port) for r in mine})
        out.append(verdict(node, "ports", problem, f"reaches every peer on {', '.join(ok) or '-'}"))
    return out
