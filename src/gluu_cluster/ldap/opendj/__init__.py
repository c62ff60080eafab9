"""OpenDJ (the guide's engine; Gluu 2.x and 3.1.4+): multi-master replication driven by
OpenDJ's own ``dsreplication``, state read from ``cn=monitor`` and ``ds-sync-state``.

The only code that knows OpenDJ: its facts (facts.py), steps (replication.py), its
administration tools with secrets in files (tools.py) and the pinned distribution
(dist.py). Entries are read and written with the node's OpenLDAP client tools over the
server's LDAP port, bound as the directory manager (the password on stdin).
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from ...errors import LDAPCommandError
from ...facts.script import Section
from ...inventory import Inventory, LDAPSettings, Node
from ...pki.steps import ClusterCAStep
from ..engine import BindResult, InitResult, LDAPEngine, ReplicaState
from ..entry import Entry, parse_entries
from .facts import NO_SUCH_OBJECT, OPENDJ_FACTS, OpenDJFacts, dm_password, ldap_of, ldap_url
from .general import OpenDJGeneralStep
from .replication import (
    OpenDJInitStep,
    OpenDJReplicationStep,
    initialise,
    initialise_from_ldif,
    replication_port,
)
from .tls import OpenDJTLSStep
from .tools import SECRET_PREAMBLE

if TYPE_CHECKING:
    from ...connection import NodeHandle
    from ...facts.cache import FactArea
    from ...plan import Step

INVALID_CREDENTIALS = 49



class OpenDJEngine(LDAPEngine):
    name = "opendj"
    operational = frozenset({
        "entryuuid", "createtimestamp", "modifytimestamp", "creatorsname", "modifiersname",
        "structuralobjectclass", "entrydn", "subschemasubentry", "hassubordinates",
        "numsubordinates", "ds-sync-hist", "ds-sync-state", "ds-sync-generation-id",
        "pwdpolicysubentry", "etag", "ds-entrychecksum", "ds-sync-conflict",
    })

    @property
    def facts(self) -> FactArea[Any]:
        return OPENDJ_FACTS

    def replica(self, facts: Any) -> ReplicaState:
        assert isinstance(facts, OpenDJFacts)
        return ReplicaState(facts.server_id, facts.entries, facts.csns, facts.links,
                            facts.conflicts)

    def steps(self, inventory: Inventory) -> tuple[list[Step], list[Step]]:
        # The cluster CA and the listeners' key pairs from it first: the certificate sets
        # import the CA into the truststores.
        # Replication before the general settings: the crypto manager's restart there also
        # puts replication's new source addresses in force (one restart per fresh node).
        return ([ClusterCAStep(), OpenDJTLSStep()],
                [OpenDJReplicationStep(), OpenDJGeneralStep(), OpenDJInitStep()])

    def ports(self, node: Node, settings: LDAPSettings) -> list[int]:
        return [settings.port, settings.opendj.admin_port, replication_port(node, settings)]

    def admin_url(self, address: str, settings: LDAPSettings) -> str:
        return ldap_url(address, settings)

    def bind_command(self, address: str, settings: LDAPSettings, dn: str) -> list[str]:
        return ["ldapwhoami", "-x", "-H", ldap_url(address, settings), "-D", dn, "-y", "/dev/stdin"]

    def bind_result(self, section: Section) -> BindResult:
        if section.ok:
            return BindResult(True, False, section.out.strip())
        return BindResult(False, section.exit_code == INVALID_CREDENTIALS,
                          section.first_error_line())

    async def initialise(self, source: NodeHandle, target: NodeHandle,
                         inventory: Inventory, by_ldif: bool = False) -> InitResult:
        """``dsreplication initialize``, or by_ldif an online export on source imported
        online on target (bench/opendj_init.py: 0.83x its speed for one 36,000-entry
        replica here, so not the default)."""
        started = time.monotonic()
        facts = [await OPENDJ_FACTS.read(h, inventory) for h in (source, target)]
        trusted = [f.admin_cert for f in facts if f.admin_cert]
        if by_ldif:
            await initialise_from_ldif(source, [target], inventory, trusted,
                                       facts[0].backend_id)
        else:
            await initialise(source, target, inventory, trusted)
        after = await OPENDJ_FACTS.read(target, inventory)
        return InitResult(source.name, target.name, after.entries or 0, after.csns,
                          time.monotonic() - started, "(none: OpenDJ keeps no copy)")

    async def _search(self, handle: NodeHandle, inventory: Inventory, argv: list[str],
                      timeout: float) -> bytes | None:
        """The search's LDIF, or None when its base does not exist."""
        settings = ldap_of(inventory)
        result = await handle.container.run(
            ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H",
             ldap_url(handle.node.address, settings), "-D", settings.admin_dn, "-y", "/dev/stdin",
             *argv], stdin=dm_password(inventory), timeout=timeout, check=False)
        if result.exit_code == NO_SUCH_OBJECT:
            return None
        if not result.ok:
            raise LDAPCommandError(handle.name, f"ldapsearch failed: {result.first_error_line()}")
        return result.stdout

    async def entries(self, handle: NodeHandle, inventory: Inventory) -> list[Entry]:
        suffix = ldap_of(inventory).suffix
        out = await self._search(handle, inventory, ["-b", suffix, "-s", "sub",
                                                     "(objectClass=*)", "*", "entryUUID", "ds-sync-hist",
                                                     "ds-sync-conflict"],
                                 timeout=1800)
        if out is None:
            raise LDAPCommandError(handle.name, f"ldapsearch failed: no such object {suffix}")
        return parse_entries(out)

    def entry_csn(self, entry: Entry) -> str:
        """The newest CSN in the entry's replication history (``attr:CSN:op[:value]``)."""
        csns = [v.split(":")[1] for v in entry.get("ds-sync-hist") if v.count(":") >= 2]
        return max(csns, default="")

    async def add(self, handle: NodeHandle, inventory: Inventory, ldif: str) -> None:
        await self._modify(handle, inventory, ldif, add=True)

    async def exists(self, handle: NodeHandle, inventory: Inventory, dn: str) -> bool:
        found = await self._search(handle, inventory, ["-b", dn, "-s", "base", "1.1"], timeout=60)
        return found is not None

    async def _modify(self, handle: NodeHandle, inventory: Inventory, ldif: str,
                      add: bool = False) -> None:
        settings = ldap_of(inventory)
        result = await handle.container.run(
            ["sh", "-c", _MODIFY, "gluu-opendj-modify", ldap_url(handle.node.address, settings),
             settings.admin_dn, "-a" if add else ""], stdin=dm_password(inventory) + "\n" + ldif,
            timeout=120, check=False)
        if not result.ok:
            raise LDAPCommandError(handle.name, f"ldapmodify failed: {result.first_error_line()}")

    def conflict_of(self, entry: Entry) -> str | None:
        # ds-sync-conflict: the DN the entry was to have when its name collided.
        return entry.first("ds-sync-conflict") or None

    async def delete(self, handle: NodeHandle, inventory: Inventory, dn: str) -> None:
        await self._modify(handle, inventory, f"dn: {dn}\nchangetype: delete\n")

    async def rewrite(self, handle: NodeHandle, inventory: Inventory, entry: Entry) -> None:
        lines = [f"dn: {entry.dn}", "changetype: modify"]
        for name, values in sorted(entry.attrs.items()):
            if name in self.operational:
                continue
            lines.append(f"replace: {name}")
            lines += [f"{name}:: {base64.b64encode(v).decode('ascii')}" for v in values]
            lines.append("-")
        await self._modify(handle, inventory, "\n".join(lines) + "\n")


# stdin: the password, a newline, then the LDIF (kept 0600 in a 0700 folder while it runs).
_MODIFY = SECRET_PREAMBLE + r"""
cat > "$dir/change.ldif"
# $3: "-a" to add entries given without a changetype, else empty.
ldapmodify -x -H "$1" -D "$2" -y "$dir/pw" ${3:+"$3"} -f "$dir/change.ldif"
"""
