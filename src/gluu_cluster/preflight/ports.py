"""Are the cluster's ports reachable from every node to every other?

Before the first apply nothing listens on them yet, and "connection refused" cannot tell
a closed port from a firewall's reject. So each node first opens a short-lived listener
on every port nothing holds yet (python3, on the node's own address), every node then
connects to every peer, and the listeners are stopped. A port a service already holds
is tested against that service.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from ..connection import NodeHandle
from ..errors import GluuClusterError

LISTEN_SECONDS = 60  # a listener left behind by a killed check goes away by itself

# argv: seconds to live, address, ports. Binds what it can, prints "bound PORT" or
# "busy PORT" (a service holds it) for each, then "ready".
_LISTENER = r"""
import socket, sys, time
LIMIT = float(sys.argv[1])
address, ports = sys.argv[2], [int(p) for p in sys.argv[3:]]
held = []
for port in ports:
    s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    # Our own probes leave TIME_WAIT behind: without this a second check finds it "busy".
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((address, port))
        s.listen(16)
        held.append(s)
        print("bound", port)
    except OSError:
        print("busy", port)
print("ready", flush=True)
sys.stdout.close()
if not held:
    sys.exit(0)  # every port is held by a service: nothing to keep open
end = time.time() + LIMIT
for s in held:
    s.settimeout(0.2)
while time.time() < end:
    for s in held:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            pass
"""

_START = r"""
# A port a service already listens on (IPv4: /proc/net/tcp, on this address or on every
# address) needs no listener: say so without starting python3 at all.
held() {
  awk -v want="$1" -v port="$2" 'BEGIN {
      split(want, o, "."); addr = sprintf("%02X%02X%02X%02X", o[4], o[3], o[2], o[1])
      p = sprintf("%04X", port) }
    NR > 1 && $4 == "0A" { split($2, l, ":"); if (l[2] == p && (l[1] == addr || l[1] == "00000000")) f = 1 }
    END { exit !f }' /proc/net/tcp 2>/dev/null
}
address=$3 free=0
case $address in
  *[!0-9.]*) free=1 ;;
  *) for port in "${@:4}"; do held "$address" "$port" || free=1; done ;;
esac
if [ "$free" = 0 ]; then
  for port in "${@:4}"; do echo "busy $port"; done
  exit 0
fi
command -v python3 > /dev/null 2>&1 || exit 0  # no listener: untested ports are "unverified"
out=$(mktemp)
setsid python3 -c "$1" "${@:2}" > "$out" 2>&1 < /dev/null &
pid=$!
for _ in $(seq 200); do grep -q '^ready' "$out" && break; sleep 0.02; done
cat "$out"
# Only a listener that holds a port lives on (and is stopped after the probes).
if grep -q '^bound' "$out"; then echo "pid $pid"; fi
rm -f "$out"
"""

# argv: timeout, then address port pairs. Prints "address port open|refused|timeout".
# Also run by the preflight fact script: where every port answers, nothing more is sent.
PROBE = r"""
t=$1; shift
probe() {
  timeout "$t" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
  case $? in 0) r=open ;; 124) r=timeout ;; *) r=refused ;; esac
  echo "$1 $2 $r"
}
# Every target at once: one unanswered port costs the timeout once, not per target.
while [ "$#" -ge 2 ]; do probe "$1" "$2" & shift 2; done
wait
"""


@dataclass(frozen=True)
class PortResult:
    source: str
    target: str
    port: int
    result: str  # open | refused | timeout | error: ...
    held_by: str | None  # "check's listener" or "a service": something listened there


def _bind_address(address: str) -> str:
    try:
        ipaddress.ip_address(address)
        return address
    except ValueError:
        return "0.0.0.0"  # a hostname: listen on every address


async def _start(handle: NodeHandle, ports: list[int]) -> tuple[int | None, dict[int, str]]:
    """(listener pid, port -> who listens there now)."""
    result = await handle.host.run(
        ["bash", "-c", _START, "gluu-preflight-listen", _LISTENER, str(LISTEN_SECONDS),
         _bind_address(handle.node.address),
         *map(str, ports)], timeout=30, check=False)
    pid, listening = None, {}
    for line in result.out.splitlines():
        word, _, value = line.partition(" ")
        if word in ("bound", "busy") and value.isdigit():
            listening[int(value)] = "check's listener" if word == "bound" else "a service"
        elif word == "pid" and value.isdigit():
            pid = int(value)
    return pid, listening


async def _probe(handle: NodeHandle, targets: list[tuple[str, int]],
                 timeout: float) -> dict[tuple[str, int], str]:
    args = probe_args(timeout, targets)
    result = await handle.host.run(["bash", "-c", PROBE, "gluu-preflight-probe", *args],
                                   timeout=timeout * len(targets) + 30)
    return parse_probe(result.out)


def probe_args(timeout: float, targets: list[tuple[str, int]]) -> list[str]:
    return [str(timeout)] + [x for address, port in targets for x in (address, str(port))]


def parse_probe(text: str) -> dict[tuple[str, int], str]:
    """Pure: (address, port) -> open | refused | timeout, from PROBE's lines."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            found[(parts[0], int(parts[1]))] = parts[2]
    return found


# The ports each node must be reachable on from its peers, by node name.
PortsOf = dict[str, list[int]]


def targets_of(handle: NodeHandle, handles: list[NodeHandle], ports: PortsOf) -> list[tuple[str, int]]:
    return [(p.node.address, port) for p in handles if p is not handle for port in ports[p.name]]


def all_open(handles: list[NodeHandle], ports: PortsOf,
             found: dict[str, dict[tuple[str, int], str]]) -> list[PortResult] | None:
    """The results when every node reached every peer on every port in its fact script
    (something listens everywhere: no listener needs starting); else None."""
    results = []
    for h in handles:
        for peer in handles:
            if peer is h:
                continue
            for port in ports[peer.name]:
                if found.get(h.name, {}).get((peer.node.address, port)) != "open":
                    return None
                results.append(PortResult(h.name, peer.name, port, "open", "a service"))
    return results


async def check_ports(handles: list[NodeHandle], ports: PortsOf,
                      timeout: float) -> list[PortResult]:
    """From every node to every other one, on every port (unreachable nodes left out)."""
    started = await asyncio.gather(*(
        guarded(_start(h, ports[h.name])) for h in handles))
    listening = {h.name: (s[1] if isinstance(s, tuple) else {})
                 for h, s in zip(handles, started, strict=True)}
    try:
        async def probe(h: NodeHandle) -> dict[tuple[str, int], str]:
            return await _probe(h, targets_of(h, handles, ports), timeout)

        answers = await asyncio.gather(*(guarded(probe(h)) for h in handles))
        probed = list(zip(handles, answers, strict=True))
    finally:
        await asyncio.gather(*(
            h.host.run(["kill", str(s[0])], check=False, timeout=15)
            for h, s in zip(handles, started, strict=True)
            if isinstance(s, tuple) and s[0] is not None), return_exceptions=True)  # best effort
    results = []
    for h, found in probed:
        for peer in handles:
            if peer is h:
                continue
            for port in ports[peer.name]:
                if isinstance(found, GluuClusterError):
                    outcome = f"error: {found}"
                else:
                    outcome = found.get((peer.node.address, port), "error: no answer")
                results.append(PortResult(h.name, peer.name, port, outcome,
                                          listening[peer.name].get(port)))
    return results


T = TypeVar("T")


async def guarded(job: Awaitable[T]) -> T | GluuClusterError:
    """A node's failure (it went away, a command failed) becomes its answer; anything
    else is a bug and propagates."""
    try:
        return await job
    except GluuClusterError as exc:
        return exc
