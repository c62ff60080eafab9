"""What status shows for file sync: state, dirty files, the last successful run."""

from __future__ import annotations

from ..status.cell import Cell, Column, enum_value, plain, state_cell
from ..status.snapshot import FileSyncState, NodeRow


def _ago(row: NodeRow, now: float) -> Cell:
    return Cell("-" if row.last_sync is None else f"{max(0, int(now - row.last_sync))} s ago")


COLUMNS = (
    Column("file_sync", "file sync", lambda r: enum_value(r, "file_sync"),
           lambda r, _n: state_cell(r.file_sync, FileSyncState.IN_SYNC, (FileSyncState.DIRTY,))),
    Column("dirty", "dirty", lambda r: r.dirty, lambda r, _n: plain(r.dirty)),
    Column("last_sync", "last sync", lambda r: r.last_sync, _ago),
)
