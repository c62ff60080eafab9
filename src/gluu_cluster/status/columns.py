"""The one column spec of the status table: the terminal table, the JSON rows and the web
page all render these columns, so they cannot drift apart.

A column gives, for a row, its JSON value and its cell: the text shown and a tone
(good, bad, warning or plain) that each renderer turns into colour.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .snapshot import ClusterStatus, FileSyncState, LDAPRole, NodeRow, Replication


class Tone(enum.Enum):
    PLAIN = "plain"
    GOOD = "good"
    WARN = "warn"
    BAD = "bad"


@dataclass(frozen=True)
class Cell:
    text: str
    tone: Tone = Tone.PLAIN


JSONValue = str | int | float | bool | None


@dataclass(frozen=True)
class Column:
    key: str  # the JSON key
    header: str
    value: Callable[[NodeRow], JSONValue]
    cell: Callable[[NodeRow, float], Cell]  # (row, the snapshot's time)
    # Shown for a node that did not answer (its other cells read "-").
    when_down: bool = False


def _plain(value: object, suffix: str = "") -> Cell:
    return Cell("-" if value is None else f"{value}{suffix}")


def _role_text(row: NodeRow) -> str | None:
    if row.ldap_role is LDAPRole.PARTIAL:
        return f"partial {row.consumers}/{row.peers}"
    return None if row.ldap_role is None else str(row.ldap_role)


def _state_cell(value: enum.StrEnum | None, good: enum.StrEnum, warn: tuple[object, ...] = ()) -> Cell:
    if value is None:
        return Cell("-")
    tone = Tone.GOOD if value is good else Tone.WARN if value in warn else Tone.BAD
    return Cell(str(value), tone)


def _certificates(row: NodeRow) -> str | None:
    return None if row.certificates is None else ", ".join(str(s) for s in row.certificates)


def _certificates_cell(row: NodeRow, _now: float) -> Cell:
    if row.certificates is None:
        return Cell("-")
    good = all(s.ok for s in row.certificates)
    return Cell(_certificates(row) or "-", Tone.GOOD if good else Tone.BAD)


def _ago(row: NodeRow, now: float) -> Cell:
    return Cell("-" if row.last_sync is None else f"{max(0, int(now - row.last_sync))} s ago")


def _value(row: NodeRow, name: str) -> JSONValue:
    value = getattr(row, name)
    return str(value) if isinstance(value, enum.Enum) else value


COLUMNS: tuple[Column, ...] = (
    Column("node", "node", lambda r: r.node,
           lambda r, _n: Cell(f"{r.node} *" if r.primary else r.node), when_down=True),
    Column("address", "address", lambda r: r.address, lambda r, _n: Cell(r.address), when_down=True),
    Column("ldap_role", "LDAP role", _role_text,
           lambda r, _n: _plain(_role_text(r))),
    Column("server_id", "server ID", lambda r: r.server_id, lambda r, _n: _plain(r.server_id)),
    Column("replication", "replication", lambda r: _value(r, "replication"),
           lambda r, _n: _state_cell(r.replication, Replication.IN_SYNC)),
    Column("lag_seconds", "lag", lambda r: r.lag_seconds, lambda r, _n: _plain(r.lag_seconds, " s")),
    Column("entries", "entries", lambda r: r.entries, lambda r, _n: _plain(r.entries)),
    Column("file_sync", "file sync", lambda r: _value(r, "file_sync"),
           lambda r, _n: _state_cell(r.file_sync, FileSyncState.IN_SYNC, (FileSyncState.DIRTY,))),
    Column("dirty", "dirty", lambda r: r.dirty, lambda r, _n: _plain(r.dirty)),
    Column("last_sync", "last sync", lambda r: r.last_sync, _ago),
    Column("certificates", "certificates", _certificates, _certificates_cell),
)

UNREACHABLE = Cell("unreachable", Tone.BAD)


def cells(row: NodeRow, now: float) -> list[Cell]:
    """The row's cells in column order; a node that did not answer says so once."""
    if row.reachable:
        return [c.cell(row, now) for c in COLUMNS]
    out: list[Cell] = []
    for column in COLUMNS:
        if column.when_down:
            out.append(column.cell(row, now))
        else:
            out.append(UNREACHABLE if UNREACHABLE not in out else Cell("-"))
    return out


def row_dict(row: NodeRow) -> dict[str, Any]:
    return {"primary": row.primary, "reachable": row.reachable,
            **{c.key: c.value(row) for c in COLUMNS}, "problems": row.problems}


def status_dict(status: ClusterStatus) -> dict[str, Any]:
    """The snapshot as JSON (``status --format json``, ``/health``)."""
    return {
        "cluster": status.cluster,
        "healthy": status.healthy,
        "taken_at": status.taken_at,
        "seconds": round(status.seconds, 3),
        "nodes": [row_dict(n) for n in status.nodes],
        "problems": [asdict(p) for p in status.problems],
    }


def verdict(status: ClusterStatus) -> Cell:
    errors = sum(p.severity == "error" for p in status.problems)
    warnings = sum(p.severity == "warning" for p in status.problems)
    tail = f", {warnings} warning(s)" if warnings else ""
    if status.healthy:
        return Cell(f"converged{tail}", Tone.GOOD)
    return Cell(f"not converged: {errors} error(s){tail}", Tone.BAD)


def taken(status: ClusterStatus) -> str:
    return (f"read in {status.seconds:.1f} s at "
            f"{time.strftime('%H:%M:%S', time.localtime(status.taken_at))}")
