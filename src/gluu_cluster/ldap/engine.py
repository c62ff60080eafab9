"""The seam between the cluster logic and an LDAP server: what ``apply``, ``status`` and
``ldap init/verify/repair`` need from it, and nothing more.

Each engine lives in a folder of its own (``ldap/openldap/``; OpenDJ next) and is the
only code that knows its configuration (cn=config, dsconfig ...). ``ldap.engine`` in
the inventory chooses it (``ldap/engines.py``, the registry). Everything outside the
engine's folder works with:

- its facts area (one round trip per node) and the engine-neutral :class:`ReplicaState`
  each node's facts give: server ID, entries, the newest change known per server ID,
  the replication links with their state;
- its steps (general configuration, replication with the set of peers, initialising a
  node from another, adding and removing peers), planned and applied like any step;
- a bind check, an initialisation on demand, every entry for the deep check, and the
  rewrite of one entry for repair.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..inventory import Inventory, LDAPSettings, Node
from .entry import Entry

if TYPE_CHECKING:
    from ..connection import NodeHandle
    from ..facts.cache import FactArea
    from ..facts.script import Section
    from ..plan import Step


@dataclass(frozen=True)
class Link:
    """One replication link of a node: it receives changes from ``provider``."""

    id: str
    provider: str
    phase: str
    connected: bool
    last_contact: str


@dataclass(frozen=True)
class ReplicaState:
    """What status needs of one node's LDAP server, whatever the engine.

    ``csns``: the newest change the node knows per server ID, each as a CSN in the
    text form ``YYYYmmddHHMMSS.ffffffZ#count#sid#mod`` (an engine with another format
    translates), compared by ``ldap/agreement.py``."""

    server_id: int | None
    entries: int | None
    csns: tuple[str, ...]
    links: tuple[Link, ...]
    # Entries replication could not place (a naming conflict), by DN: an operator decides.
    conflicts: tuple[str, ...] = ()


# The fact script of a bind: runs the engine's bind command it is given as arguments
# (``bind_command``), the password on its stdin; ``bind_result`` reads section "bind".
BIND_SCRIPT = 'section_in bind "$@"\n'


@dataclass(frozen=True)
class BindResult:
    ok: bool
    refused: bool  # the password was wrong (not: the server did not answer)
    detail: str


@dataclass(frozen=True)
class InitResult:
    source: str
    target: str
    entries: int
    context_csns: tuple[str, ...]
    seconds: float
    backup_suffix: str


class LDAPEngine(abc.ABC):
    name: ClassVar[str]
    # Attributes the server maintains itself: never compared by verify, never rewritten.
    operational: ClassVar[frozenset[str]]

    @property
    @abc.abstractmethod
    def facts(self) -> FactArea[Any]:
        """The engine's facts area (its facts type is its own)."""

    @abc.abstractmethod
    def replica(self, facts: Any) -> ReplicaState:
        """The engine-neutral view of one node's facts."""

    @abc.abstractmethod
    def steps(self, inventory: Inventory) -> tuple[list[Step], list[Step]]:
        """(steps before the certificate sets, steps after them), in order: the first
        make the cluster CA and TLS the sets' truststores import."""

    @abc.abstractmethod
    def ports(self, node: Node, settings: LDAPSettings) -> list[int]:
        """The ports the node's server must be reachable on from its peers (preflight)."""

    @abc.abstractmethod
    def admin_url(self, address: str, settings: LDAPSettings) -> str:
        """Where the tool's own simple binds go on the node at ``address`` (run in its
        container): an ldapsearch there with ``-x -D admin -y /dev/stdin`` reads as admin."""

    @abc.abstractmethod
    def bind_command(self, address: str, settings: LDAPSettings, dn: str) -> list[str]:
        """argv of a simple bind as ``dn`` on the server of the node at ``address`` (run in
        its container) that
        reads the password on stdin, never on argv; run as a fact script's section."""

    @abc.abstractmethod
    def bind_result(self, section: Section) -> BindResult:
        """What the bind command's exit and output say."""

    @abc.abstractmethod
    async def initialise(self, source: NodeHandle, target: NodeHandle,
                         inventory: Inventory, by_ldif: bool = False) -> InitResult:
        """Replace target's replicated data with source's (old data kept aside).
        ``by_ldif``: copy an LDIF export where the engine has another way (OpenDJ)."""

    @abc.abstractmethod
    async def entries(self, handle: NodeHandle, inventory: Inventory) -> list[Entry]:
        """Every entry under the suffix with its CSN attribute, for the deep check."""

    @abc.abstractmethod
    def entry_csn(self, entry: Entry) -> str:
        """The entry's change sequence number (compares in time order)."""

    @abc.abstractmethod
    async def add(self, handle: NodeHandle, inventory: Inventory, ldif: str) -> None:
        """Add the entries of ``ldif`` on the node (a write that replicates)."""

    @abc.abstractmethod
    async def exists(self, handle: NodeHandle, inventory: Inventory, dn: str) -> bool:
        """Whether the node holds the entry now."""

    @abc.abstractmethod
    async def rewrite(self, handle: NodeHandle, inventory: Inventory, entry: Entry) -> None:
        """Write the entry's user attributes again on the node (a new change, replicated)."""

    @abc.abstractmethod
    async def delete(self, handle: NodeHandle, inventory: Inventory, dn: str) -> None:
        """Delete the (leaf) entry on the node (a change that replicates)."""

    def conflict_of(self, entry: Entry) -> str | None:
        """For an entry replication made from a naming conflict, what it says the entry
        collided with; None for others (OpenLDAP's syncrepl keeps the newest write and
        makes none)."""
        return None
