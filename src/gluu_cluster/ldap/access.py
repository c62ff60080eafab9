"""Preflight: the directory manager password of the inventory opens the LDAP server of
every node (whatever the engine)."""

from __future__ import annotations

from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..facts.cache import ScriptArea
from ..inventory import Inventory, LDAPSettings
from ..plan import Change, NoOp, Outcome, Run, Step
from .engine import BIND_SCRIPT
from .engines import engine_for


def _ldap(inventory: Inventory) -> LDAPSettings:
    assert inventory.ldap is not None, "the admin bind is read only for an inventory with 'ldap'"
    return inventory.ldap


def _password(inventory: Inventory) -> bytes:
    return _ldap(inventory).admin_password.resolve(inventory.base_dir).reveal().encode()


# Whether the inventory's directory manager password opens the node's server (a bind).
ADMIN_BIND = ScriptArea(
    "ldap-admin-bind", BIND_SCRIPT,
    lambda handle, inventory, _down: engine_for(_ldap(inventory)).bind_command(
        handle.node.address, _ldap(inventory), _ldap(inventory).admin_dn),
    lambda _node, inventory, sections: engine_for(_ldap(inventory)).bind_result(sections["bind"]),
    stdin=_password)


class LDAPAdminAccessStep(Step):
    """Read-only: fails planning (naming the node) before anything changes anywhere."""

    name = "ldap-admin-access"
    title = "directory manager access"
    reads = (ADMIN_BIND,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        ldap = run.inventory.ldap
        assert ldap is not None
        bind = await run.facts.of(ADMIN_BIND, handle)
        if bind.refused:
            raise NodeCheckError(
                handle.name,
                f"the LDAP server refused the directory manager password for '{ldap.admin_dn}' "
                f"(ldap.admin_password, {ldap.admin_password.describe()}); put the node's "
                "password there and run again",
            )
        if not bind.ok:
            raise NodeCheckError(
                handle.name,
                f"cannot bind to the LDAP server on {ldap.ldapi_socket}: {bind.detail}; "
                "check that it runs inside the container",
            )
        return NoOp(handle.name, self.name, f"{ldap.admin_dn} can bind")

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        raise AssertionError("a read-only check never plans a change")
