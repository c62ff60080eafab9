"""OpenLDAP slapd (Gluu 3.x): cn=config over ldapi, syncrepl multi-provider replication.

The only code that knows cn=config: its facts (facts.py), steps (schema, tls, general,
provider, replicas) and tools (directory.py: ldapsearch/ldapmodify over ldapi).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...facts.script import Section
from ...inventory import Inventory, LDAPSettings, Node
from ..engine import BindResult, InitResult, LDAPEngine, ReplicaState
from ..entry import Entry
from .bind import bind_command, bind_result
from .common import ldap_of
from .directory import NodeDirectory, ldapi_url
from .facts import OPENLDAP_FACTS, LDAPFacts
from .general import LDAPGeneralStep
from .ldif_ops import Modify
from .provider import LDAPProviderStep
from .replicas import LDAPConsumersStep, LDAPInitStep, initialise_from
from .schema import LDAPSchemaStep
from .tls import LDAPTLSStep

if TYPE_CHECKING:
    from ...connection import NodeHandle
    from ...facts.cache import FactArea
    from ...plan import Step


class OpenLDAPEngine(LDAPEngine):
    name = "openldap"
    operational = frozenset({
        "entrycsn", "entryuuid", "createtimestamp", "modifytimestamp", "creatorsname",
        "modifiersname", "structuralobjectclass", "entrydn", "subschemasubentry",
        "hassubordinates", "contextcsn",
    })

    @property
    def facts(self) -> FactArea[Any]:
        return OPENLDAP_FACTS

    def replica(self, facts: Any) -> ReplicaState:
        assert isinstance(facts, LDAPFacts)
        return ReplicaState(facts.server_id, facts.entries, facts.context_csns, facts.consumers)

    def steps(self, inventory: Inventory) -> tuple[list[Step], list[Step]]:
        return ([LDAPSchemaStep(), LDAPTLSStep()],
                [LDAPGeneralStep(), LDAPProviderStep(), LDAPInitStep(), LDAPConsumersStep()])

    def ports(self, node: Node, settings: LDAPSettings) -> list[int]:
        return [settings.port]

    def admin_url(self, address: str, settings: LDAPSettings) -> str:
        return ldapi_url(settings.ldapi_socket)

    def bind_command(self, address: str, settings: LDAPSettings, dn: str) -> list[str]:
        return bind_command(settings.ldapi_socket, dn)

    def bind_result(self, section: Section) -> BindResult:
        return bind_result(section)

    async def initialise(self, source: NodeHandle, target: NodeHandle,
                         inventory: Inventory, by_ldif: bool = False) -> InitResult:
        # Always an LDIF copy (slapcat/slapadd): by_ldif changes nothing here.
        return await initialise_from(source, target, ldap_of(inventory))

    async def entries(self, handle: NodeHandle, inventory: Inventory) -> list[Entry]:
        settings = ldap_of(inventory)
        directory = NodeDirectory(handle.container, settings.ldapi_socket)
        return await directory.search(settings.suffix, "sub", attrs=["*", "entryCSN", "entryUUID"],
                                      timeout=1800)

    def entry_csn(self, entry: Entry) -> str:
        return entry.first("entryCSN")

    async def add(self, handle: NodeHandle, inventory: Inventory, ldif: str) -> None:
        await NodeDirectory(handle.container, ldap_of(inventory).ldapi_socket).modify(ldif, add=True)

    async def exists(self, handle: NodeHandle, inventory: Inventory, dn: str) -> bool:
        directory = NodeDirectory(handle.container, ldap_of(inventory).ldapi_socket)
        return await directory.entry(dn, ["1.1"]) is not None

    async def delete(self, handle: NodeHandle, inventory: Inventory, dn: str) -> None:
        directory = NodeDirectory(handle.container, ldap_of(inventory).ldapi_socket)
        await directory.modify(f"dn: {dn}\nchangetype: delete\n")

    async def rewrite(self, handle: NodeHandle, inventory: Inventory, entry: Entry) -> None:
        settings = ldap_of(inventory)
        modify = Modify(entry.dn)
        for name, values in sorted(entry.attrs.items()):
            if name not in self.operational:
                modify.replace(name, *values)
        await NodeDirectory(handle.container, settings.ldapi_socket).modify(modify.ldif())
