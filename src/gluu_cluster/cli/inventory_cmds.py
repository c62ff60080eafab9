"""``validate``: check an inventory file."""

from __future__ import annotations

import click

from ..inventory import check_inventory
from .output import FORMAT_OPTION, console, print_json


@click.command()
@click.option("-i", "--inventory", "inventory_path", type=click.Path(dir_okay=False), required=True,
              help="The cluster inventory (YAML).")
@FORMAT_OPTION
def validate(inventory_path: str, output_format: str) -> None:
    """Check an inventory file; every problem is named with its line and key."""
    inventory, problems = check_inventory(inventory_path)
    if output_format == "json":
        print_json({"file": inventory_path, "valid": inventory is not None, "problems": problems})
    elif inventory is not None:
        console.print(
            f"{inventory_path}: valid: cluster '{inventory.cluster}', {len(inventory.nodes)} nodes, "
            f"primary {inventory.primary_node.name}"
        )
    else:
        for problem in problems:
            click.echo(problem, err=True)
    if inventory is None:
        raise SystemExit(2)
