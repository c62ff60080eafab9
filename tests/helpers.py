"""Shared test helpers: running the real CLI as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def run_cli(args: Sequence[str], *, env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gluu_cluster.cli.main", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False,
    )


def scan_command_lines(stop: threading.Event, seen: list[str]) -> None:
    """Until stopped, record every process's command line (from /proc and from ps)."""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if raw:
                    seen.append(raw.replace(b"\0", b" ").decode("utf-8", "replace"))
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False)
        seen.extend(ps.stdout.splitlines())


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:g} s: {what}")
