"""The transport interface: how the tool reaches one node.

A transport runs a command given as an argument list (never a shell string built from
values), with optional standard input and a timeout, and reads or writes whole files
atomically.  Secrets travel on standard input only.  File operations are built on
``run`` with fixed scripts whose values are passed as positional arguments, so the same
code serves SSH, the local machine and the chroot wrapper.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..errors import CommandFailedError

# Write to a temporary file beside the target, set mode and owner, then rename: readers
# never see a half-written file and a failure leaves the old file in place.
# A target that is itself a mount point (a bind-mounted /etc/hosts, as in containers)
# cannot be renamed over (EBUSY): only then is it rewritten in place.
_WRITE_SCRIPT = r"""
set -e
export LC_ALL=C
dir=$(dirname -- "$1")
mkdir -p -- "$dir"
tmp=$(mktemp "$dir/.gluu-cluster.XXXXXX")
trap 'rm -f -- "$tmp" "$tmp.err"' EXIT
cat > "$tmp"
chmod "$2" "$tmp"
if [ -n "$3" ]; then chown "$3" "$tmp"; fi
if ! mv -f -- "$tmp" "$1" 2>"$tmp.err"; then
  if grep -q "busy" "$tmp.err"; then
    cat -- "$tmp" > "$1"
    chmod "$2" "$1"
    if [ -n "$3" ]; then chown "$3" "$1"; fi
  else
    cat "$tmp.err" >&2
    exit 1
  fi
fi
"""

# Exit 3 distinguishes "no such file" from a read error.
_READ_SCRIPT = r"""
if [ ! -e "$1" ]; then exit 3; fi
exec cat -- "$1"
"""

MISSING_FILE_EXIT = 3


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def first_error_line(self) -> str:
        for line in (self.err + "\n" + self.out).splitlines():
            if line.strip():
                return line.strip()[:300]
        return "no output"


class Transport(abc.ABC):
    """Reaches one node.  ``node`` is the inventory name used in every error."""

    node: str

    @abc.abstractmethod
    async def _exec(
        self, argv: Sequence[str], stdin: bytes | None, timeout: float | None
    ) -> CommandResult:
        """Run argv and return its result; raise a TransportError on transport failure."""

    async def connect(self) -> None:  # noqa: B027 - most transports have nothing to open
        """Open what commands will use (an SSH login), so an unreachable node is known
        before the first command; raise a TransportError if it cannot be opened."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> CommandResult:
        if not argv:
            raise ValueError("empty command")
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        result = await self._exec(list(argv), data, timeout)
        if check and not result.ok:
            raise CommandFailedError(
                self.node,
                f"'{argv[0]}' exited with {result.exit_code}: {result.first_error_line()}",
            )
        return result

    async def read_file(self, path: str, *, timeout: float | None = None) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        result = await self.run(
            ["sh", "-c", _READ_SCRIPT, "gluu-read", path], timeout=timeout, check=False
        )
        if result.exit_code == MISSING_FILE_EXIT:
            return None
        if not result.ok:
            raise CommandFailedError(self.node, f"cannot read {path}: {result.first_error_line()}")
        return result.stdout

    async def write_file(
        self,
        path: str,
        data: bytes | str,
        *,
        mode: int = 0o644,
        owner: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Replace ``path`` atomically with ``data``; ``owner`` is 'user' or 'user:group'."""
        result = await self.run(
            ["sh", "-c", _WRITE_SCRIPT, "gluu-write", path, f"{mode:04o}", owner or ""],
            stdin=data,
            timeout=timeout,
            check=False,
        )
        if not result.ok:
            raise CommandFailedError(self.node, f"cannot write {path}: {result.first_error_line()}")

    @asynccontextmanager
    async def forward_port(
        self, remote_host: str, remote_port: int
    ) -> AsyncIterator[tuple[str, int]]:
        """Yield a local (host, port) that reaches remote_host:remote_port as seen by the node."""
        yield remote_host, remote_port

    async def close(self) -> None:  # noqa: B027 - most transports hold nothing to release
        """Release connections; safe to call more than once."""
