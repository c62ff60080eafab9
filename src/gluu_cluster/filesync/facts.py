"""What one node's file sync looks like now, read in one round trip.

The same facts feed the csync2 steps (tools, managed files, certificate, pins, daemon,
first-sync marker) and ``status`` (daemon, dirty files, last success, conflicts and, with
csync2 -T against each peer this run did not find down).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..connection import NodeHandle
from ..facts.cache import ScriptArea
from ..facts.script import Section, Sections
from ..inventory import Inventory
from ..packages import MANAGER_PROBE, known_manager
from .csync2 import Csync2Result, interpret
from .node import database_file, managed_paths, marker, tls_paths
from .service import DAEMON_CHECK, state_dir

# $1 state dir, $2 marker, $3 certificate, $4 database, $5 the peers to test (names
# separated by spaces: inventory names, validated as host names), then csync2's
# $6 config dir, $7 node name, $8 port, $9 time limit; the managed files' paths after.
FACT_SCRIPT = DAEMON_CHECK + MANAGER_PROBE + r"""
state=$1 marker=$2 cert=$3 db=$4 peers=$5 confdir=$6 node=$7 port=$8 limit=$9
shift 9
cs() {
  started=$(date +%s%N)
  timeout -k 2 "$limit" env CSYNC2_SYSTEM_DIR="$confdir" csync2 -N "$node" -p "$port" \
    -D "$(dirname -- "$db")" "$@"
  rc=$?
  echo "@@elapsed-ms $(( ($(date +%s%N) - started) / 1000000 ))" >&2
  return $rc
}
missing() {
  for t in csync2 inotifywait bash flock timeout setsid sqlite3; do
    command -v "$t" > /dev/null 2>&1 || echo "$t"
  done
}
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
# Read without taking any lock (immutable): a status read must never make the csync2
# daemon meet a locked database mid-update. Pins change only under our own apply.
pins() {
  [ -e "$db" ] || return 3
  sqlite3 -separator " " "file:$db?immutable=1" "SELECT peername, certdata FROM x509_cert"
}
managed() { [ -e "$1" ] || return 3; stat -c %a -- "$1" && sha256sum < "$1"; }
section daemon daemon "$state"
section initialised present "$marker"
section last-ok present "$state/last-ok"
section conflicts present "$state/conflicts.log"
section missing missing
section manager manager
section cert present "$cert"
section pins pins
for path in "$@"; do section "file.$path" managed "$path"; done
if command -v csync2 > /dev/null 2>&1 && [ -e "$db" ]; then
  section dirty cs -M
  # One pair at a time: a peer found down is not in the list, so it costs nothing here.
  for peer in $peers; do section "test.$peer" cs -T "$node" "$peer"; done
fi
"""

# The tools gluu-csync2d needs; the fact script's own list (a unit test compares them).
TOOLS = ("csync2", "inotifywait", "bash", "flock", "timeout", "setsid", "sqlite3")

@dataclass(frozen=True)
class ManagedState:
    mode: int
    sha256: str


@dataclass(frozen=True)
class Conflict:
    at: int
    peer: str
    path: str
    message: str

    @property
    def resolved(self) -> bool:
        """'Won'/'Lost' the policy's test: the loser's version went to history."""
        low = self.message.lower()
        return "won" in low or "lost" in low


@dataclass(frozen=True)
class FileSyncFacts:
    node: str
    daemon_pid: int | None
    initialised: bool
    last_ok: int | None
    conflicts: tuple[Conflict, ...]
    missing_tools: tuple[str, ...]
    package_manager: str | None
    certificate: bytes | None
    pins: dict[str, str]
    managed: dict[str, ManagedState | None]  # path -> None when it does not exist
    dirty: tuple[str, ...] | None  # None: csync2 or its database is not there yet
    # csync2 -T against every peer tested (those not found down), combined; None when
    # every peer was down.
    test: Csync2Result | None


def parse_dirty(output: str) -> list[str]:
    """csync2 -M prints one dirty file per line (with the peer it is dirty for)."""
    return [line.strip() for line in output.splitlines() if "/" in line]


def parse_conflicts(text: str, since: int = 0) -> list[Conflict]:
    found = []
    for line in text.splitlines():
        parts = line.split("\t", 3)
        if len(parts) == 4 and parts[0].isdigit() and int(parts[0]) >= since:
            found.append(Conflict(int(parts[0]), parts[1], parts[2], parts[3]))
    return found


def parse_pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        peer, _, data = line.partition(" ")
        if peer:
            pins[peer] = data.strip().upper()
    return pins


def _managed(section: Section) -> ManagedState | None:
    lines = section.out.split()
    if not section.ok or len(lines) < 2 or not lines[0].isdigit():
        return None
    return ManagedState(int(lines[0], 8), lines[1])


def parse_facts(node: str, sections: Sections, limit: float,
                now: float | None = None, peers: int = 0) -> FileSyncFacts:
    """Pure: a node's file sync facts from the fact script's sections."""
    day_ago = int((now or time.time()) - 86400)
    daemon, last_ok = sections["daemon"].out.strip(), sections["last-ok"].out.strip()
    conflicts = sections["conflicts"]
    return FileSyncFacts(
        node=node,
        daemon_pid=int(daemon) if sections["daemon"].ok and daemon.isdigit() else None,
        initialised=sections["initialised"].ok,
        last_ok=int(last_ok) if sections["last-ok"].ok and last_ok.isdigit() else None,
        conflicts=tuple(parse_conflicts(conflicts.out, day_ago)) if conflicts.ok else (),
        missing_tools=tuple(sections["missing"].out.split()),
        package_manager=known_manager(sections["manager"].out.strip()),
        certificate=sections["cert"].stdout if sections["cert"].ok else None,
        pins=parse_pins(sections["pins"].out) if sections["pins"].ok else {},
        managed={path: _managed(s) for path, s in sections.named("file")},
        dirty=_dirty(sections["dirty"], limit) if "dirty" in sections else None,
        test=_tested(sections, limit, peers) if "dirty" in sections else None,
    )


def _csync2(section: Section, args: tuple[str, ...], limit: float) -> Csync2Result:
    lines = section.stderr.decode("utf-8", "replace").splitlines()
    elapsed_ms = next((int(line.split()[1]) for line in lines
                       if line.startswith("@@elapsed-ms ") and line.split()[1].isdigit()), 0)
    err = "\n".join(line for line in lines if not line.startswith("@@elapsed-ms "))
    return interpret(args, section.exit_code, section.out + err, elapsed_ms / 1000, limit)


def _tested(sections: Sections, limit: float, peers: int) -> Csync2Result | None:
    """Every peer's ``csync2 -T NODE PEER`` as one result: in sync only if each pair is;
    with no peer at all in sync; None when there were peers but none was tested."""
    results = [_csync2(s, ("-T",), limit) for _peer, s in sections.named("test")]
    if not results:
        return Csync2Result(True, "", in_sync=True) if peers == 0 else None
    return Csync2Result(
        all(r.ok for r in results), "\n".join(r.output for r in results if r.output),
        in_sync=all(r.in_sync for r in results), timed_out=any(r.timed_out for r in results),
        killed=any(r.killed for r in results),
        problems=sorted({p for r in results for p in r.problems}))


def _dirty(section: Section, limit: float) -> tuple[str, ...]:
    result = _csync2(section, ("-M",), limit)
    return tuple(parse_dirty(result.output)) if result.ok and not result.empty else ()


def _args(handle: NodeHandle, inventory: Inventory, down: frozenset[str]) -> list[str]:
    """csync2 -T (the status's test) asks each peer that is not known to be down."""
    settings = inventory.file_sync
    peers = " ".join(n.name for n in inventory.nodes if n.name not in down | {handle.name})
    return [state_dir(settings), marker(settings), tls_paths(settings)[1],
            database_file(settings, handle.name), peers, settings.config_dir, handle.name,
            str(settings.port), f"{settings.timeout:g}", *managed_paths(inventory)]


FILESYNC_FACTS = ScriptArea(
    "filesync", FACT_SCRIPT, _args,
    lambda node, inventory, sections: parse_facts(node, sections, inventory.file_sync.timeout,
                                                  peers=len(inventory.nodes) - 1),
    timeout=lambda inventory: 2 * inventory.file_sync.timeout + 30)
