"""What status shows of the balancer in each node's row: in rotation or drained."""

from __future__ import annotations

from ..status.cell import Cell, Column, Tone
from ..status.snapshot import NodeRow


def _cell(row: NodeRow, _now: float) -> Cell:
    if row.in_rotation is None:
        return Cell("-")
    return Cell("in rotation", Tone.GOOD) if row.in_rotation else Cell("drained", Tone.WARN)


COLUMNS = (Column("in_rotation", "balancer", lambda r: r.in_rotation, _cell),)
