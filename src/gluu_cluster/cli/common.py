"""Options and helpers shared by the command groups."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import click

from ..connection import ClusterConnection
from ..inventory import Inventory, load_inventory, secret_problems
from ..plan import Blocked
from ..secrets import RedactingFilter
from .output import print_error

T = TypeVar("T")

INVENTORY_OPTION = click.option(
    "-i",
    "--inventory",
    "inventory_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="The cluster inventory (YAML).",
)

ACCEPT_NEW_OPTION = click.option(
    "--accept-new-host-keys",
    is_flag=True,
    help="Trust and record host keys of nodes missing from known_hosts (never changed ones).",
)


def load(path: str) -> Inventory:
    """The inventory, its secrets checked up front: every bad one said once (one line
    each), exit 2, before any node is touched."""
    inventory = load_inventory(path)
    problems = secret_problems(inventory)
    for problem in problems:
        print_error(problem)
    if problems:
        raise SystemExit(2)  # a usage error: the inventory must change
    return inventory


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def on_cluster(inventory: Inventory, accept_new_host_keys: bool,
               work: Callable[[ClusterConnection], Awaitable[T]]) -> T:
    """Open every node's connection, run ``work`` with them, close them: the opening of
    every command that reads or changes the nodes."""

    async def go() -> T:
        async with ClusterConnection(inventory, accept_new_host_keys=accept_new_host_keys) as c:
            return await work(c)

    return asyncio.run(go())


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # asyncssh logs every channel at INFO; keep it at WARNING unless -vv.
    logging.getLogger("asyncssh").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)


def fail_if_blocked(blocked: Sequence[Blocked]) -> None:
    """A node refused by a step is a problem for the operator: one line each, exit 1."""
    for outcome in blocked:
        print_error(f"{outcome.node}: {outcome.step} refused: {outcome.reason}. Fix: {outcome.fix}")
    if blocked:
        raise SystemExit(1)
