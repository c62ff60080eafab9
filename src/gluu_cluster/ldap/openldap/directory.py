"""Search and modify one node's slapd through ldapsearch/ldapmodify over ldapi (EXTERNAL)."""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import LDAPCommandError
from ...transport import Transport
from ..entry import Entry, parse_entries

NO_SUCH_OBJECT = 32


def ldapi_url(socket_path: str) -> str:
    return "ldapi://" + socket_path.replace("/", "%2F")


class NodeDirectory:
    """One node's slapd, reached as root over its ldapi socket inside the container."""

    def __init__(self, container: Transport, socket_path: str) -> None:
        self.container = container
        self.node = container.node
        self.url = ldapi_url(socket_path)

    async def search(
        self,
        base: str,
        scope: str = "sub",
        filterstr: str = "(objectClass=*)",
        attrs: Sequence[str] = ("*",),
        timeout: float = 300,
    ) -> list[Entry]:
        result = await self.container.run(
            ["ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", self.url, "-o", "ldif-wrap=no",
             "-b", base, "-s", scope, filterstr, *attrs],
            timeout=timeout,
            check=False,
        )
        if result.exit_code == NO_SUCH_OBJECT:
            return []
        if not result.ok:
            raise LDAPCommandError(
                self.node, f"ldapsearch of '{base}' failed: {result.first_error_line()}; "
                "check that slapd runs inside the container"
            )
        return parse_entries(result.stdout)

    async def entry(self, dn: str, attrs: Sequence[str] = ("*", "+")) -> Entry | None:
        found = await self.search(dn, "base", attrs=attrs)
        return found[0] if found else None

    async def modify(self, ldif_text: str, *, add: bool = False, timeout: float = 120) -> None:
        argv = ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.url]
        if add:
            argv.append("-a")
        result = await self.container.run(argv, stdin=ldif_text, timeout=timeout, check=False)
        if not result.ok:
            raise LDAPCommandError(
                self.node, f"ldapmodify failed: {_ldap_error(result.err or result.out)}"
            )

    async def count(self, base: str, timeout: float = 300) -> int:
        result = await self.container.run(
            ["ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", self.url, "-b", base, "1.1"],
            timeout=timeout,
            check=False,
        )
        if result.exit_code == NO_SUCH_OBJECT:
            return 0
        if not result.ok:
            raise LDAPCommandError(self.node, f"cannot count entries under {base}: "
                                              f"{result.first_error_line()}")
        return result.stdout.count(b"\ndn: ") + (1 if result.stdout.startswith(b"dn: ") else 0)


def _ldap_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # ldapmodify prints the failing DN after the error; keep both, in one line.
    return " / ".join(lines[-3:])[:400] if lines else "no output"
