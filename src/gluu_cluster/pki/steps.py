"""One certificate set on every node: the source's files, the truststore, the action.

The seed's "Certificate Management" section done per set: copy the source's keys,
certificates and key stores over every other node's (each overwritten file backed up
first), import the certificates into each node's Java truststore under stable aliases,
then run the set's action (restart what reads them). A node whose configuration would
not open the incoming key stores is refused and left untouched.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..connection import ClusterConnection, NodeHandle
from ..errors import GluuClusterError, NodeCheckError
from ..inventory import CertificateSet, Inventory
from ..plan import Blocked, Change, NoOp, Outcome, Step
from ..secrets import Secret
from .ca import CA_CERT
from .certset import SetFile
from .facts import PKIFacts, read_facts
from .keystores import check_keystore
from .keytool import TrustOp, change_truststore, list_truststore
from .setfiles import backup, install_file
from .trust import desired_entries, trust_ops


@dataclass(frozen=True)
class CertChange:
    copies: tuple[SetFile, ...] = ()
    trust: tuple[TrustOp, ...] = field(default=(), repr=False)
    run_action: bool = False


def cluster_ca_pem(inventory: Inventory) -> bytes | None:
    """The cluster CA certificate when LDAP TLS uses one (Java clients of slapd trust it)."""
    if inventory.ldap is None:
        return None
    path = inventory.local_path(inventory.pki.directory) / CA_CERT
    return path.read_bytes() if path.exists() else None


def _differs(have: SetFile | None, want: SetFile) -> str | None:
    if have is None:
        return "missing"
    if have.data != want.data:
        return "content differs"
    if have.mode != want.mode:
        return f"mode {have.mode:04o} -> {want.mode:04o}"
    if have.owner != want.owner:
        return f"owner {have.owner} -> {want.owner}"
    return None


class CertSetStep(Step):
    title = "certificate set"

    def __init__(self, cert_set: CertificateSet, backup_root: str) -> None:
        self.set = cert_set
        self.backup_root = backup_root
        self.name = f"certs-{cert_set.name}"  # type: ignore[misc]
        self.source_files: dict[str, SetFile] = {}
        self.source = ""
        self.ca_pem: bytes | None = None
        self.ca_pending = False
        self.store_password: Secret | None = None
        self.facts: dict[str, PKIFacts] = {}

    async def prepare(self, cluster: ClusterConnection) -> None:
        inventory = cluster.inventory
        self.source = inventory.source_of(self.set).name
        self.facts = {}
        for handle, result in await cluster.each(
                lambda h: read_facts(h.container, inventory.certificates.sets)):
            if isinstance(result, GluuClusterError):
                raise result
            self.facts[handle.name] = result
        self.source_files = self.facts[self.source].set_files(self.set)
        if not self.source_files:
            raise NodeCheckError(
                self.source, f"no file in {self.set.directory} matches the masks of certificate "
                f"set '{self.set.name}' ({', '.join(self.set.masks)}); fix the masks or the source")
        self.ca_pem = cluster_ca_pem(inventory)
        self.ca_pending = inventory.ldap is not None and self.ca_pem is None
        if self.set.truststore is not None:
            self.store_password = self.set.truststore.password.resolve(inventory.base_dir)

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        details: list[str] = []
        copies: list[SetFile] = []
        if handle.name != self.source:
            have = self.facts[handle.name].set_files(self.set)
            for name, want in sorted(self.source_files.items()):
                why = _differs(have.get(name), want)
                if why is not None:
                    copies.append(want)
                    details.append(f"copy {name} from {self.source} ({why})")
            details += [f"leave {name} alone (not on {self.source})"
                        for name in sorted(set(have) - set(self.source_files))]
            refusal = await self._keystore_refusal(handle, copies)
            if refusal is not None:
                return refusal
        trust, why_trust = await self._trust_changes(handle)
        details += why_trust
        if not copies and not trust:
            return NoOp(handle.name, self.name,
                        f"{len(self.source_files)} file(s) as on {self.source}"
                        + (", truststore complete" if self.set.truststore else ""))
        run_action = self.set.action is not None
        if run_action:
            details.append(f"then run: {self.set.action}")
        parts = ([f"copy {len(copies)} file(s)"] if copies else []) + (
            [f"{len(why_trust)} truststore change(s)"] if trust else [])
        summary = ", ".join(parts)
        return Change(handle.name, self.name, summary, tuple(details),
                      payload=CertChange(tuple(copies), tuple(trust), run_action))

    async def _keystore_refusal(self, handle: NodeHandle, copies: list[SetFile]) -> Blocked | None:
        incoming = {f.name: f for f in copies if f.is_keystore}
        problems = []
        for ref in self.set.keystores:
            if ref.file in incoming:
                config = self.facts[handle.name].files.get(ref.password_from.file)
                verdict = await check_keystore(handle.container, ref, incoming[ref.file], config)
                if verdict.problem is not None:
                    problems.append(f"{ref.file} from {self.source}: {verdict.problem}")
        if not problems:
            return None
        keys = ", ".join(f"{r.password_from.key}" for r in self.set.keystores
                         if r.file in incoming)
        return Blocked(
            handle.name, self.name,
            "; ".join(problems) + f"; nothing changed on {handle.name}",
            f"sync the configuration that holds {keys} from {self.source} too, or set it to "
            f"the password of {self.source}'s key stores, then apply again")

    async def _trust_changes(self, handle: NodeHandle) -> tuple[list[TrustOp], list[str]]:
        store = self.set.truststore
        if store is None:
            return [], []
        assert self.store_password is not None
        current = await list_truststore(handle.container, store.path, self.store_password,
                                        self.facts[handle.name].files.get(store.path))
        desired = desired_entries(self.set, handle.name, self.source_files, self.ca_pem)
        ops, why = trust_ops(current or {}, desired)
        if self.ca_pending:  # ldap-tls makes it during this apply; the step is re-planned then
            why.append("import the cluster CA once ldap-tls has created it")
        return ops, why

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        planned: CertChange = change.payload
        container = handle.container
        paths = [posixpath.join(self.set.directory, f.name) for f in planned.copies]
        if planned.trust and self.set.truststore is not None:
            paths.append(self.set.truststore.path)
        await backup(container, self.backup_root, self.set.name, f"before {change.summary}", paths)
        for item in planned.copies:
            await install_file(container, self.set.directory, item)
        if planned.trust and self.set.truststore is not None:
            assert self.store_password is not None
            await change_truststore(container, self.set.truststore.path,
                                    self.set.truststore.type, self.store_password,
                                    list(planned.trust))
        if planned.run_action and self.set.action:
            await container.run(["sh", "-c", self.set.action])


def cert_steps(inventory: Inventory) -> list[Step]:
    root = inventory.certificates.backup_directory
    return [CertSetStep(cert_set, root) for cert_set in inventory.certificates.sets]
