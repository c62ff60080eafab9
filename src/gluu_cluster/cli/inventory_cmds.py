"""``validate``: check an inventory file."""

from __future__ import annotations

import click

from ..inventory import check_inventory, secret_problems
from ..secrets import redactor
from .output import FORMAT_OPTION, console, print_json


@click.command()
@click.option("-i", "--inventory", "inventory_path", type=click.Path(dir_okay=False), required=True,
              help="The cluster inventory (YAML).")
@FORMAT_OPTION
def validate(inventory_path: str, output_format: str) -> None:
    """Check an inventory file and the secrets it names (each exists, is readable, mode
    0600 or stricter, not empty); every problem is named with its line or key, once."""
    inventory, problems = check_inventory(inventory_path)
    if inventory is not None:
        problems = secret_problems(inventory)
        if problems:
            inventory = None
    if output_format == "json":
        print_json({"file": inventory_path, "valid": inventory is not None, "problems": problems})
    elif inventory is not None:
        console.print(
            f"{inventory_path}: valid: cluster '{inventory.cluster}', {len(inventory.nodes)} nodes, "
            f"primary {inventory.primary_node.name}"
        )
    else:
        for problem in problems:
            click.echo(redactor.scrub(problem), err=True)
    if inventory is None:
        raise SystemExit(2)
