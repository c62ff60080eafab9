"""Calling csync2 on a node: one place that builds the command and reads its exit code.

csync2's exit codes depend on the mode: ``-T`` returns 2 when in sync and 0 when it
found differences; ``-M``/``-L``/``-H`` return 2 for an empty table; everything else
returns 0 or 1. Error lines name peers, which we map to what the operator must do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import CommandTimeoutError
from ..inventory import FileSync
from ..transport import Transport

SUPERVISOR_NAME = "gluu-csync2d"


@dataclass(frozen=True)
class Csync2Result:
    ok: bool
    output: str
    in_sync: bool | None = None  # -T only
    empty: bool | None = None  # -M only
    timed_out: bool = False
    killed: bool = False  # csync2 died of a signal before the limit
    problems: list[str] = field(default_factory=list)


def peer_problems(output: str) -> list[str]:
    """What csync2's messages say about peers, one line per peer and cause."""
    found: list[str] = []
    current: str | None = None
    for line in output.splitlines():
        connect = re.search(r"Connecting to host (\S+)|Connect to \S+ \((\S+)\)", line)
        if connect:
            current = connect.group(1) or connect.group(2)
        low = line.lower()
        who = current or "a peer"
        if "permission denied" in low and "peer" in low:
            found.append(f"{who} refused the update (Permission denied): its pre-shared key "
                         "or its csync2.cfg differs from this node's")
        elif "identification failed" in low:
            found.append(f"{who} refused this node's pre-shared key (the keys differ)")
        elif "ssl" in low and ("error" in low or "fail" in low) or "certificate" in low and "fail" in low:
            found.append(f"TLS with {who} failed: {line.strip()}")
        elif "config command failed" in low or "connection to remote host" in low:
            found.append(f"{who} closed the connection during the TLS session: its "
                         "certificate is not from the cluster CA, or its csync2.cfg lacks this node")
        elif "can't connect" in low or "connection refused" in low or "cannot connect" in low:
            found.append(f"{who} is not reachable on the csync2 port")
        elif "do not auto-resolve conflict" in low:
            found.append(f"unresolved conflict with {who}: {line.strip()}")
    return sorted(set(found))


class Csync2:
    """csync2 inside one node's container, with the node's name, port and database."""

    def __init__(self, container: Transport, settings: FileSync) -> None:
        self.container = container
        self.settings = settings

    def argv(self, *args: str) -> list[str]:
        return ["env", f"CSYNC2_SYSTEM_DIR={self.settings.config_dir}", "csync2",
                "-N", self.container.node, "-p", str(self.settings.port),
                "-D", self.settings.database_dir, *args]

    async def run(self, *args: str, timeout: float | None = None) -> Csync2Result:
        limit = timeout or self.settings.timeout
        started = time.monotonic()
        try:
            result = await self.container.run(
                ["timeout", "-k", "2", f"{limit:g}", *self.argv(*args)],
                timeout=limit + 10, check=False)
        except CommandTimeoutError:
            return Csync2Result(False, "", timed_out=True,
                                problems=[f"csync2 did not finish within {limit:g} s"])
        return interpret(args, result.exit_code, result.out + result.err,
                         time.monotonic() - started, limit)


def interpret(args: Sequence[str], exit_code: int, output: str, elapsed: float,
              limit: float) -> Csync2Result:
    """The one reading of csync2's exit code (run under ``timeout -k 2 LIMIT``)."""
    # 124/137 is timeout's verdict only if the limit really passed: csync2 itself can
    # die of a signal (seen after a refused TLS session), which is another failure.
    if exit_code in (124, 137) and elapsed >= limit:
        return Csync2Result(False, output, timed_out=True, problems=[
            f"csync2 {' '.join(args)} did not finish within {limit:g} s "
            "(a peer accepts connections but does not answer: is it stopped?)"])
    if exit_code > 128:
        return Csync2Result(False, output, killed=True, problems=peer_problems(output) or [
            f"csync2 {' '.join(args)} was killed by signal {exit_code - 128}"])
    mode = args[0] if args else ""
    if mode.startswith("-T"):
        return Csync2Result(exit_code in (0, 2), output, in_sync=exit_code == 2,
                            problems=peer_problems(output) if exit_code == 1 else [])
    if mode == "-M":
        return Csync2Result(exit_code in (0, 2), output, empty=exit_code == 2)
    return Csync2Result(exit_code == 0, output,
                        problems=peer_problems(output) if exit_code else [])
