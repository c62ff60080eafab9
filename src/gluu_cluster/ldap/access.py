"""Preflight: the directory manager password of the inventory opens slapd on every node."""

from __future__ import annotations

from ..connection import ClusterConnection, NodeHandle
from ..errors import NodeCheckError
from ..plan import Change, NoOp, Outcome, Step
from ..secrets import Secret
from .openldap.bind import admin_bind
from .openldap.common import ldap_of


class LDAPAdminAccessStep(Step):
    """Read-only: fails planning (naming the node) before anything changes anywhere."""

    name = "ldap-admin-access"
    title = "directory manager access"

    def __init__(self) -> None:
        self._secret: Secret | None = None

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        ldap = ldap_of(cluster)
        if self._secret is None:
            self._secret = ldap.admin_password.resolve(cluster.inventory.base_dir)
        bind = await admin_bind(handle.container, ldap.ldapi_socket, ldap.admin_dn, self._secret)
        if bind.refused:
            raise NodeCheckError(
                handle.name,
                f"slapd refused the directory manager password for '{ldap.admin_dn}' "
                f"(ldap.admin_password, {ldap.admin_password.describe()}); put the node's "
                "password there and run again",
            )
        if not bind.ok:
            raise NodeCheckError(
                handle.name,
                f"cannot bind to slapd on {ldap.ldapi_socket}: {bind.detail}; "
                "check that slapd runs inside the container",
            )
        return NoOp(handle.name, self.name, f"{ldap.admin_dn} can bind")

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        raise AssertionError("a read-only check never plans a change")
