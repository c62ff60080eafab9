"""Where secrets come from and how they are kept out of sight.

A secret is referenced from the inventory as ``{file: PATH}`` (refused unless mode 0600
or stricter) or ``{env: NAME}``.  Resolving one returns a :class:`Secret`, whose value
is only reachable through :meth:`Secret.reveal`; its ``repr``/``str`` are redacted.
Every revealed value is also registered with the process-wide redactor, which the log
handler and the CLI's error printer run over everything they print, so a secret that
slips into a message is still masked.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import SecretError

MASK = "********"


class _Redactor:
    """Remembers secret values and masks them in any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        # Very short values would mask ordinary words; secrets that short are refused anyway.
        if len(value) >= 4:
            with self._lock:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text


redactor = _Redactor()


class RedactingFilter(logging.Filter):
    """Logging filter that masks every registered secret in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = redactor.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


@dataclass(frozen=True)
class Secret:
    """A secret value with a redacted repr; ``reveal()`` is the only way to read it."""

    source: str
    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.source})"

    __str__ = __repr__


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"secret file {path} has mode {stat.S_IMODE(mode):04o}; "
            f"run 'chmod 600 {path}' (group and others must have no access)"
        )


def read_secret_file(path: Path) -> Secret:
    try:
        _check_private(path)
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError as exc:
        raise SecretError(f"secret file {path} does not exist; create it with mode 0600") from exc
    except OSError as exc:
        raise SecretError(f"secret file {path} cannot be read: {exc.strerror}") from exc
    if not value:
        raise SecretError(f"secret file {path} is empty")
    redactor.register(value)
    return Secret(f"file:{path}", value)


def read_secret_env(name: str) -> Secret:
    value = os.environ.get(name)
    if value is None or value == "":
        raise SecretError(f"environment variable {name} (a secret reference) is not set")
    redactor.register(value)
    return Secret(f"env:{name}", value)


def secret_from(source: str, value: str) -> Secret:
    """A secret read from somewhere else (a node's configuration file), masked from now on."""
    redactor.register(value)
    return Secret(source, value)


def write_secret_file(path: Path, value: str) -> None:
    """Create or replace ``path`` with mode 0600 from the start (never briefly readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, value.encode("utf-8") + b"\n")
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
