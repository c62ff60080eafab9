"""Small process helpers for the lab: run with a timeout, PID files, namespaces."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import LabError


def run(argv: Sequence[str], *, stdin: bytes | None = None, timeout: float = 120,
        env: Mapping[str, str] | None = None) -> str:
    """Run a lab command; a failure becomes a LabError with its first error line."""
    try:
        proc = subprocess.run(
            list(argv), input=stdin, capture_output=True, timeout=timeout, check=False, env=env
        )
    except FileNotFoundError as exc:
        raise LabError(f"'{argv[0]}' is not installed; run scripts/install.sh") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"'{' '.join(argv[:3])}' did not finish within {timeout:g} s") from exc
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        last = err[-1] if err else "no output"
        raise LabError(f"'{' '.join(argv[:4])}' failed ({proc.returncode}): {last}")
    return proc.stdout.decode("utf-8", "replace")


def in_namespace(ns_file: Path, argv: Sequence[str]) -> list[str]:
    return ["nsenter", f"--mount={ns_file}", "--", *argv]


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid: int, grace: float = 5.0) -> None:
    """SIGTERM, wait up to grace seconds, then SIGKILL; SIGCONT first in case it was stopped."""
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def pids_in_mount_ns(ns_file: Path) -> list[int]:
    """Every process whose mount namespace is the one bound at ns_file."""
    try:
        inode = os.stat(ns_file).st_ino
    except OSError:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            link = os.readlink(f"/proc/{entry}/ns/mnt")
        except OSError:
            continue
        if link == f"mnt:[{inode}]":
            found.append(int(entry))
    return found


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        return any(line.split()[1] == target for line in handle)


def mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        points = [line.split()[1] for line in handle]
    return [p for p in points if p == prefix.rstrip("/") or p.startswith(prefix)]
