"""LDAP facts read through the node's own client tools, inside the Gluu container."""

from __future__ import annotations

from ...secrets import Secret
from ...transport import Transport
from ..engine import BindResult
from .directory import ldapi_url

INVALID_CREDENTIALS = 49


async def admin_bind(
    container: Transport, socket_path: str, admin_dn: str, password: Secret
) -> BindResult:
    """Simple bind as the directory manager over ldapi; the password travels on stdin."""
    result = await container.run(
        ["ldapwhoami", "-x", "-H", ldapi_url(socket_path), "-D", admin_dn, "-y", "/dev/stdin"],
        stdin=password.reveal(),
        timeout=30,
        check=False,
    )
    if result.ok:
        return BindResult(True, False, result.out.strip())
    return BindResult(
        False, result.exit_code == INVALID_CREDENTIALS, result.first_error_line()
    )
