"""What status shows for LDAP: role, server ID, replication state, lag, entries."""

from __future__ import annotations

from ..status.cell import Cell, Column, enum_value, plain, state_cell
from ..status.snapshot import LDAPRole, NodeRow, Replication


def _role(row: NodeRow) -> str | None:
    if row.ldap_role is LDAPRole.PARTIAL:
        return f"partial {row.consumers}/{row.peers}"
    return None if row.ldap_role is None else str(row.ldap_role)


def _role_cell(row: NodeRow, _now: float) -> Cell:
    return plain(_role(row))


COLUMNS = (
    Column("ldap_role", "LDAP role", _role, _role_cell),
    Column("server_id", "server ID", lambda r: r.server_id, lambda r, _n: plain(r.server_id)),
    Column("replication", "replication", lambda r: enum_value(r, "replication"),
           lambda r, _n: state_cell(r.replication, Replication.IN_SYNC)),
    Column("lag_seconds", "lag", lambda r: r.lag_seconds, lambda r, _n: plain(r.lag_seconds, " s")),
    Column("entries", "entries", lambda r: r.entries, lambda r, _n: plain(r.entries)),
)
