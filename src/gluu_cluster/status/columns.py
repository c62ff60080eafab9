"""The one column spec of the status table: the terminal table, the JSON rows and the web
page all render these columns, so they cannot drift apart.

A column gives, for a row, its JSON value and its cell: the text shown and a tone
(good, bad, warning or plain) that each renderer turns into colour.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from ..balancer.columns import COLUMNS as BALANCER
from ..filesync.columns import COLUMNS as FILESYNC
from ..ldap.columns import COLUMNS as LDAP
from ..pki.columns import COLUMNS as PKI
from .cell import Cell, Column, Tone
from .snapshot import ClusterStatus, NodeRow, ServiceRow, ServiceState

# Each area contributes its own columns (<area>/columns.py); the node comes first.
COLUMNS: tuple[Column, ...] = (
    Column("node", "node", lambda r: r.node,
           lambda r, _n: Cell(f"{r.node} *" if r.primary else r.node), when_down=True),
    Column("address", "address", lambda r: r.address, lambda r, _n: Cell(r.address),
           when_down=True),
    *LDAP, *FILESYNC, *PKI, *BALANCER,
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


def service_dict(row: ServiceRow) -> dict[str, Any]:
    return {"name": row.name, "role": row.role, "address": row.address,
            "state": str(row.state), "detail": row.detail}


def service_cells(row: ServiceRow) -> list[Cell]:
    """A service's line: the same cells in the table, the page and nothing else."""
    tone = {ServiceState.UP: Tone.GOOD, ServiceState.DEGRADED: Tone.WARN}.get(row.state, Tone.BAD)
    return [Cell(row.name), Cell(row.role), Cell(row.address), Cell(str(row.state), tone),
            Cell(row.detail)]


SERVICE_HEADERS = ("service", "role", "address", "state", "detail")


def status_dict(status: ClusterStatus) -> dict[str, Any]:
    """The snapshot as JSON (``status --format json``, ``/health``)."""
    return {
        "cluster": status.cluster,
        "healthy": status.healthy,
        "taken_at": status.taken_at,
        "seconds": round(status.seconds, 3),
        "nodes": [row_dict(n) for n in status.nodes],
        "services": [service_dict(s) for s in status.services],
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
