"""The cluster's past: one summary per snapshot ``serve`` takes, kept as JSON lines, and the
changes of state between two summaries (what ``status --history`` prints and what the
alert hooks are told).

A summary holds only what a change of state is decided on and what the page draws for
the last hour: health per node and of the cluster, replication lag, dirty files, the
problem codes and the certificates inside the warning window. No detail text, no secret.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..inventory import Inventory
from ..journal import state_dir
from .snapshot import ClusterStatus


@dataclass(frozen=True)
class NodeSummary:
    healthy: bool
    reachable: bool
    lag_seconds: float | None = None
    dirty: int | None = None


@dataclass(frozen=True)
class Summary:
    at: float
    healthy: bool
    nodes: dict[str, NodeSummary]
    # "CODE node" for every problem, each once (the severity after a space is not kept:
    # a code has one severity).
    problems: tuple[str, ...] = ()
    # "node set file" of every certificate with fewer days left than the warning window.
    expiring: tuple[str, ...] = ()
    # Text of the problems, by key, for the event that reports one first (not stored).
    details: dict[str, str] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["details"]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @staticmethod
    def from_json(line: str) -> Summary:
        data = json.loads(line)
        return Summary(float(data["at"]), bool(data["healthy"]),
                       {n: NodeSummary(**v) for n, v in data["nodes"].items()},
                       tuple(data.get("problems", ())), tuple(data.get("expiring", ())))


def summarize(status: ClusterStatus, warn_days: int) -> Summary:
    problems: dict[str, str] = {}
    for p in status.problems:
        problems.setdefault(f"{p.code} {p.node}", f"{p.severity}: {p.detail}")
    return Summary(
        at=status.taken_at,
        healthy=status.healthy,
        nodes={r.node: NodeSummary(status.node_sound(r.node), r.reachable, r.lag_seconds,
                                   r.dirty) for r in status.nodes},
        problems=tuple(sorted(problems)),
        expiring=tuple(sorted({f"{e.node} {e.set} {e.file}" for e in status.expiries
                               if e.days_left < warn_days})),
        details=problems,
    )


class EventKind(enum.StrEnum):
    CLUSTER_UNHEALTHY = "cluster-unhealthy"
    CLUSTER_HEALTHY = "cluster-healthy"
    NODE_UNHEALTHY = "node-unhealthy"
    NODE_HEALTHY = "node-healthy"
    PROBLEM = "problem"  # a problem code new on a node
    CERTIFICATE_EXPIRING = "certificate-expiring"  # entered the warning window

    @property
    def transition(self) -> bool:
        """A change between healthy and not (what ``status --history`` lists)."""
        return self not in (EventKind.PROBLEM, EventKind.CERTIFICATE_EXPIRING)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    cluster: str
    at: float
    node: str | None
    detail: str

    @property
    def id(self) -> str:
        """The same change gets the same id, so a receiver can drop a repeat."""
        return f"{self.cluster}:{self.kind}:{self.node or '-'}:{self.at:.3f}:{self.detail[:40]}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cluster": self.cluster, "kind": str(self.kind),
                "node": self.node, "at": self.at, "time": iso(self.at), "detail": self.detail}


def changes(cluster: str, before: Summary | None, after: Summary) -> list[Event]:
    """Every change of state from one summary to the next. With no summary before (the
    first snapshot ever), a healthy cluster is assumed: what is wrong already is said."""
    if before is None:
        before = Summary(after.at, True, {n: NodeSummary(True, True) for n in after.nodes})
    out: list[Event] = []

    def event(kind: EventKind, node: str | None, detail: str) -> None:
        out.append(Event(kind, cluster, after.at, node, detail))

    if before.healthy != after.healthy:
        errors = [k for k in after.problems if after.details.get(k, "error").startswith("error")]
        event(EventKind.CLUSTER_HEALTHY if after.healthy else EventKind.CLUSTER_UNHEALTHY, None,
              "converged" if after.healthy else
              "not converged: " + ", ".join(errors or after.problems))
    for name, now in after.nodes.items():
        was = before.nodes.get(name)
        if was is not None and was.healthy != now.healthy:
            event(EventKind.NODE_HEALTHY if now.healthy else EventKind.NODE_UNHEALTHY, name,
                  "healthy" if now.healthy else
                  ("unreachable" if not now.reachable else "not healthy"))
    for key in after.problems:
        if key not in before.problems:
            code, _, node = key.partition(" ")
            event(EventKind.PROBLEM, node, f"{code}: {after.details.get(key, code)}")
    for key in after.expiring:
        if key not in before.expiring:
            node, _, rest = key.partition(" ")
            cert_set, _, file = rest.partition(" ")
            event(EventKind.CERTIFICATE_EXPIRING, node,
                  f"certificate set {cert_set}: {file} entered the warning window")
    return out


def transitions(cluster: str, summaries: Iterable[Summary]) -> list[Event]:
    """Healthy -> not and back, for the cluster and each node, in time order."""
    out: list[Event] = []
    before: Summary | None = None
    for summary in summaries:
        if before is not None:
            out += [e for e in changes(cluster, before, summary) if e.kind.transition]
        before = summary
    return out


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_since(text: str, now: float) -> float:
    """``since``: epoch seconds, an ISO 8601 time, or an age such as 90s, 30m, 6h, 2d."""
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
            return now - float(text[:-1]) * units[text[-1]]
        if text.replace(".", "", 1).isdigit():
            return float(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        pass
    raise UsageError(f"since {text!r}: give epoch seconds, an ISO time (2026-11-30T07:00:00Z) "
                     "or an age (90s, 30m, 6h, 2d)")


class HistoryFile:
    """The summaries as JSON lines in a 0600 file, oldest first; lines older than the
    retention are dropped when the file is opened and once an hour after.

    Only ``serve`` writes it (one process per cluster); ``status --history`` reads it. A
    line cut by a crash is skipped when read."""

    def __init__(self, path: Path, days: float) -> None:
        self.path = path
        self.days = days
        self._pruned = 0.0

    def append(self, summary: Summary) -> None:
        if summary.at - self._pruned > 3600:
            self.prune(summary.at)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as out:
            out.write(summary.to_json() + "\n")

    def read(self, since: float = 0.0) -> Iterator[Summary]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                summary = Summary.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash
            if summary.at >= since:
                yield summary

    def prune(self, now: float) -> int:
        """Drop the summaries older than the retention; returns how many were dropped."""
        self._pruned = now
        if not self.path.exists():
            return 0
        keep_from = now - self.days * 86400
        lines = self.path.read_text().splitlines()
        kept = [line for line, s in ((ln, _at(ln)) for ln in lines) if s is not None and s >= keep_from]
        if len(kept) == len(lines):
            return 0
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("".join(line + "\n" for line in kept))
        os.replace(tmp, self.path)
        return len(lines) - len(kept)


def _at(line: str) -> float | None:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return float(json.loads(line)["at"])
    return None


def history_path(inventory: Inventory) -> Path:
    return state_dir(inventory) / f"{inventory.cluster}.history.jsonl"
