"""The apply journal: what a run started and finished, so a killed run is completed next time.

Steps are planned from the nodes' own state, so most interrupted work is simply planned
again. What the state cannot show is a change that was cut off half-way and looks done
(an LDAP import killed after its first entry carries the suffix's identity). The journal
names those: every change is recorded before it starts and after it ends, one JSON line
each, flushed and synced, so even SIGKILL leaves an accurate record. One apply per
cluster at a time: a lock file beside the journal.

Files live in ``.gluu-cluster/`` beside the inventory (0700): ``<cluster>.journal``
(this run, and the last one until a new run starts) and ``<cluster>.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .errors import ApplyRunningError
from .inventory import Inventory

STATE_DIR = ".gluu-cluster"


@dataclass(frozen=True)
class Interrupted:
    node: str
    step: str
    summary: str


@dataclass
class PreviousRun:
    """What the last journal says: was it finished, which changes were cut off."""

    finished: bool = True
    interrupted: list[Interrupted] = field(default_factory=list)
    nodes: list[str] | None = None  # the inventory's nodes after the last successful run

    @property
    def keys(self) -> set[tuple[str, str]]:
        return {(i.node, i.step) for i in self.interrupted}


def state_dir(inventory: Inventory) -> Path:
    return inventory.base_dir / STATE_DIR


def journal_path(inventory: Inventory) -> Path:
    return state_dir(inventory) / f"{inventory.cluster}.journal"


def _events(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut off by the kill itself
    return events


def read_previous(inventory: Inventory) -> PreviousRun:
    """Read-only: safe for ``plan`` and ``status``."""
    events = _events(journal_path(inventory))
    last_nodes = _last_nodes(inventory)
    if not events:
        return PreviousRun(nodes=last_nodes)
    run = PreviousRun(finished=events[-1].get("event") == "end", nodes=last_nodes)
    open_changes: dict[tuple[str, str], str] = {}
    for e in events:
        key = (e.get("node", ""), e.get("step", ""))
        if e.get("event") == "change-start":
            open_changes[key] = e.get("summary", "")
        elif e.get("event") == "change-done":
            open_changes.pop(key, None)
        elif e.get("event") == "carried":  # interrupted before, still not redone
            open_changes[key] = e.get("summary", "")
    if not run.finished:
        run.interrupted = [Interrupted(n, s, summary) for (n, s), summary in open_changes.items()]
    return run


def _last_nodes(inventory: Inventory) -> list[str] | None:
    path = state_dir(inventory) / f"{inventory.cluster}.nodes"
    try:
        return [line for line in path.read_text().splitlines() if line]
    except FileNotFoundError:
        return None


class Journal:
    """Open for one apply run; use as a context manager (takes the cluster's lock)."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.previous = PreviousRun()
        self._file: TextIO | None = None
        self._lock: TextIO | None = None

    def __enter__(self) -> Journal:
        directory = state_dir(self.inventory)
        directory.mkdir(mode=0o700, exist_ok=True)
        lock_path = directory / f"{self.inventory.cluster}.lock"
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._lock = os.fdopen(lock_fd, "r+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            raise ApplyRunningError(
                f"{self.inventory.cluster}: another apply is running ({holder}); wait for it "
                "to finish, then run again") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        self._lock.flush()
        self.previous = read_previous(self.inventory)
        path = journal_path(self.inventory)
        fd = os.open(path.with_suffix(".journal.new"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(fd, "w")
        self._write({"event": "start", "pid": os.getpid(),
                     "nodes": [n.name for n in self.inventory.nodes]})
        # What the last run left unfinished stays on record until this run redoes it.
        for item in self.previous.interrupted:
            self._write({"event": "carried", "node": item.node, "step": item.step,
                         "summary": item.summary})
        os.replace(path.with_suffix(".journal.new"), path)
        return self

    def _write(self, event: dict[str, Any]) -> None:
        assert self._file is not None
        event["at"] = round(time.time(), 3)
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def started(self, node: str, step: str, summary: str) -> None:
        self._write({"event": "change-start", "node": node, "step": step, "summary": summary})

    def done(self, node: str, step: str) -> None:
        self._write({"event": "change-done", "node": node, "step": step})

    def finish(self) -> None:
        """The run converged: record it, and the nodes it converged (for removals)."""
        self._write({"event": "end"})
        nodes = state_dir(self.inventory) / f"{self.inventory.cluster}.nodes"
        nodes.write_text("".join(f"{n.name}\n" for n in self.inventory.nodes))

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.seek(0)
                self._lock.truncate()
            self._lock.close()
