"""What status shows for certificates: each set, consistent or with its error count, and
the days left before its first certificate expires."""

from __future__ import annotations

from ..status.cell import Cell, Column, Tone
from ..status.snapshot import NodeRow


def _sets(row: NodeRow) -> str | None:
    return None if row.certificates is None else ", ".join(str(s) for s in row.certificates)


def _cell(row: NodeRow, _now: float) -> Cell:
    if row.certificates is None:
        return Cell("-")
    tone = (Tone.BAD if not all(s.ok for s in row.certificates) else
            Tone.WARN if any(s.warned for s in row.certificates) else Tone.GOOD)
    return Cell(_sets(row) or "-", tone)


COLUMNS = (Column("certificates", "certificates", _sets, _cell),)
