"""``drain`` and ``undrain``: take a node out of the load balancer's rotation and back."""

from __future__ import annotations

import click

from ..apply import apply_steps
from ..balancer.facts import BALANCER_FACTS
from ..balancer.render import CONF_DIR, DRAINED, render_drained
from ..balancer.steps import balancer_steps
from ..connection import ClusterConnection
from ..errors import StepError, UsageError
from ..plan import Run
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load, on_cluster
from .output import console


def _set_rotation(inventory_path: str, node: str, drain: bool, force: bool,
                  accept_new_host_keys: bool) -> None:
    inventory = load(inventory_path)
    lb = inventory.load_balancer
    if lb is None:
        raise UsageError(f"{inventory_path}: no 'load_balancer' section: there is no rotation "
                         "to take a node out of")
    inventory.node(node)  # a wrong name: the inventory's one-line error

    async def go(c: ClusterConnection) -> str:
        handle = c.handle(lb.host.name)
        run = Run.start(c)
        facts = await run.facts.of(BALANCER_FACTS, handle)
        drained = facts.drained | {node} if drain else facts.drained - {node}
        if drained == facts.drained:
            return (f"{node} is already {'drained' if drain else 'in rotation'} on "
                    f"{lb.host.name}; nothing changed")
        left = [n.name for n in inventory.nodes if n.name not in drained]
        if drain and not left and not force:
            raise UsageError(f"{node}: it is the last node in rotation; draining it stops "
                             "all service (use --force if that is what you want)")
        await handle.container.run(["mkdir", "-p", CONF_DIR], timeout=30)
        await handle.container.write_file(DRAINED, render_drained(drained), mode=0o644)
        run.facts.touched(handle.name, (BALANCER_FACTS,))
        result = await apply_steps(balancer_steps(), run)
        for refused in result.blocked:  # nginx was not reloaded: the drained list waits
            raise StepError(refused.node, refused.step, f"{refused.reason}; {refused.fix}")
        if drain:
            return (f"{node} drained: {lb.host.name} sends it no new requests (nginx reloaded; "
                    f"requests under way finish); 'gluu-cluster undrain {node}' puts it back")
        return f"{node} back in rotation on {lb.host.name} (nginx reloaded)"

    console.print(on_cluster(inventory, accept_new_host_keys, go))


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@click.argument("node")
@click.option("--force", is_flag=True, help="Drain even the last node in rotation.")
def drain(inventory_path: str, accept_new_host_keys: bool, node: str, force: bool) -> None:
    """Take NODE out of the load balancer's rotation: no new requests reach it, requests
    under way finish, its /nodes/NODE/health answers 503."""
    _set_rotation(inventory_path, node, True, force, accept_new_host_keys)


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@click.argument("node")
def undrain(inventory_path: str, accept_new_host_keys: bool, node: str) -> None:
    """Put NODE back in the load balancer's rotation."""
    _set_rotation(inventory_path, node, False, False, accept_new_host_keys)
