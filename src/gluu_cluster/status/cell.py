"""A status table cell and column, and the helpers the areas' columns share."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from .snapshot import NodeRow


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


def plain(value: object, suffix: str = "") -> Cell:
    return Cell("-" if value is None else f"{value}{suffix}")


def state_cell(value: enum.StrEnum | None, good: enum.StrEnum, warn: tuple[object, ...] = ()) -> Cell:
    if value is None:
        return Cell("-")
    tone = Tone.GOOD if value is good else Tone.WARN if value in warn else Tone.BAD
    return Cell(str(value), tone)


def enum_value(row: NodeRow, name: str) -> JSONValue:
    value = getattr(row, name)
    return str(value) if isinstance(value, enum.Enum) else value
