"""Printing for the CLI: pretty (rich) or JSON, always with secrets masked."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import click
from rich.console import Console

from ..problems import Problem
from ..secrets import redactor

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["pretty", "json"]),
    default="pretty",
    show_default=True,
    help="Output as a human-readable table or as JSON.",
)

# Not a terminal (CI logs, pipes): wide enough that tables keep one line per row.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, soft_wrap=True,
                      width=None if sys.stderr.isatty() else 160)


def print_json(data: Any) -> None:
    click.echo(redactor.scrub(json.dumps(data, indent=2, sort_keys=False)))


def print_error(message: str) -> None:
    # One line, masked: the standard for everything an operator sees go wrong.
    line = " ".join(redactor.scrub(message).split())
    click.echo(f"error: {line}", err=True)


def escape(text: str) -> str:
    """Masked, and safe inside rich markup (a '[' in a detail is not a style)."""
    return redactor.scrub(text).replace("[", r"\[")


def print_problems(problems: Iterable[Problem]) -> None:
    """The one way every command shows problems: severity, code, node, detail, fix."""
    for p in problems:
        colour = "red" if p.severity == "error" else "yellow"
        console.print(f"[{colour}]{p.severity}[/{colour}] {p.code} {p.node}: {escape(p.detail)}\n"
                      f"    fix: {escape(p.fix)}")


def is_tty() -> bool:
    return sys.stdin.isatty()
