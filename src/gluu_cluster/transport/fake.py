"""A transport for unit tests: an in-memory file system and scripted commands.

It understands the fixed read/write scripts of :mod:`.base`, so file operations in
unit tests run through the same code as on real nodes.  Fact scripts are answered by
name (``facts``: recorded outputs of the real script, or a function of the arguments);
the hosts facts are answered from the in-memory files.  Other commands are answered by
handlers registered by argv prefix; unknown commands exit 127 like a shell would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import TransportError
from ..facts.script import AREA_MARK, ERROR_MARK, FACT_PREFIX, render_section
from .base import _READ_SCRIPT, _WRITE_SCRIPT, MISSING_FILE_EXIT, CommandResult, Transport

Handler = Callable[[Sequence[str], bytes | None], CommandResult]


@dataclass
class FakeFile:
    data: bytes
    mode: int = 0o644
    owner: str = ""


@dataclass
class FakeTransport(Transport):
    node: str = "fake"
    files: dict[str, FakeFile] = field(default_factory=dict)
    handlers: dict[tuple[str, ...], Handler] = field(default_factory=dict)
    fail_with: TransportError | None = None
    calls: list[tuple[str, ...]] = field(default_factory=list)
    # Fact script name -> its output (recorded from the real script) or a function of argv.
    facts: dict[str, bytes | Callable[[Sequence[str]], bytes]] = field(default_factory=dict)
    stdin_seen: list[bytes] = field(default_factory=list)
    fact_reads: list[str] = field(default_factory=list)  # fact scripts answered, batched or not

    def on(self, prefix: Sequence[str], handler: Handler) -> None:
        self.handlers[tuple(prefix)] = handler

    def answer(self, prefix: Sequence[str], stdout: str = "", exit_code: int = 0) -> None:
        self.on(prefix, lambda argv, _in: CommandResult(tuple(argv), exit_code, stdout.encode(), b""))

    async def connect(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    async def _exec(
        self, argv: Sequence[str], stdin: bytes | None, timeout: float | None
    ) -> CommandResult:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(tuple(argv))
        if list(argv[:2]) == ["sh", "-c"] and len(argv) > 4 and argv[3] == FACT_PREFIX + "batch":
            return self._batch(argv, stdin or b"")  # stdin_seen: each script's part
        if stdin is not None:
            self.stdin_seen.append(stdin)
        root = ""
        if argv[0] == "chroot":
            # Inside a container: file paths live under its root in the fake file system.
            root, argv = argv[1].rstrip("/"), argv[2:]
        if list(argv[:2]) == ["sh", "-c"] and argv[2] == _READ_SCRIPT:
            return self._read(argv, root)
        if list(argv[:2]) == ["sh", "-c"] and argv[2] == _WRITE_SCRIPT:
            return self._write(argv, stdin or b"", root)
        if list(argv[:2]) == ["sh", "-c"] and len(argv) > 3 and argv[3].startswith(FACT_PREFIX):
            return self._fact(argv[3][len(FACT_PREFIX):], argv, root)
        for length in range(len(argv), 0, -1):
            handler = self.handlers.get(tuple(argv[:length]))
            if handler is not None:
                return handler(argv, stdin)
        return CommandResult(tuple(argv), 127, b"", f"{argv[0]}: command not found".encode())

    def _read(self, argv: Sequence[str], root: str) -> CommandResult:
        entry = self.files.get(root + argv[4])
        if entry is None:
            return CommandResult(tuple(argv), MISSING_FILE_EXIT, b"", b"")
        return CommandResult(tuple(argv), 0, entry.data, b"")

    def _write(self, argv: Sequence[str], data: bytes, root: str) -> CommandResult:
        path, mode, owner = root + argv[4], int(argv[5], 8), argv[6]
        self.files[path] = FakeFile(data, mode, owner)
        return CommandResult(tuple(argv), 0, b"", b"")

    def _fact(self, name: str, argv: Sequence[str], root: str) -> CommandResult:
        self.fact_reads.append(name)
        answer = self.facts.get(name)
        if answer is None and name == "hosts":
            return CommandResult(tuple(argv), 0, self._hosts_fact(argv[4], argv[5]), b"")
        if answer is None:
            return CommandResult(tuple(argv), 127, b"", f"no recorded {name} facts".encode())
        out = answer(argv[4:]) if callable(answer) else answer
        return CommandResult(tuple(argv), 0, out, b"")

    def _batch(self, argv: Sequence[str], stdin: bytes) -> CommandResult:
        """Several fact scripts in one round trip (facts.script.BATCH): each answered as
        if sent alone, the outputs joined as the batch script joins them."""
        out, rest = b"", list(argv[5:])
        while len(rest) >= 5:
            name, root, count, length, body = rest[:5]
            args, rest = rest[5:5 + int(count)], rest[5 + int(count):]
            if int(length):
                self.stdin_seen.append(stdin[:int(length)])
                stdin = stdin[int(length):]
            one = self._fact(name, ["sh", "-c", body, FACT_PREFIX + name, *args], root.rstrip("/"))
            out += (f"\n{AREA_MARK} {name} {one.exit_code}\n".encode() + one.stdout
                    + f"\n{ERROR_MARK} ".encode() + one.stderr.replace(b"\n", b" ") + b"\n")
        return CommandResult(tuple(argv), 0, out, b"")

    def _hosts_fact(self, path: str, container_root: str) -> bytes:
        out = b""
        for name, prefix in (("host", ""), ("container", container_root.rstrip("/"))):
            if name == "container" and not container_root:
                continue
            entry = self.files.get(prefix + path)
            out += render_section(name, 0 if entry else 3, entry.data if entry else b"")
        return out
