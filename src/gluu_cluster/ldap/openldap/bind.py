"""A simple bind through the node's own client (ldapwhoami over ldapi, inside the Gluu
container), the password on stdin: run as a fact script's section."""

from __future__ import annotations

from ...facts.script import Section
from ..engine import BindResult
from .directory import ldapi_url

INVALID_CREDENTIALS = 49


def bind_command(socket_path: str, dn: str) -> list[str]:
    return ["ldapwhoami", "-x", "-H", ldapi_url(socket_path), "-D", dn, "-y", "/dev/stdin"]


def bind_result(section: Section) -> BindResult:
    if section.ok:
        return BindResult(True, False, section.out.strip())
    return BindResult(False, section.exit_code == INVALID_CREDENTIALS, section.first_error_line())
