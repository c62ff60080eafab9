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

from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..inventory import CertificateSet, Inventory
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from ..secrets import Secret
from .ca import cluster_ca_pem, inventory_ca
from .certset import SetFile
from .facts import PKI_FACTS, PKIFacts
from .keystores import keystore_problems
from .keytool import TrustOp, change_truststore, list_truststore
from .setfiles import backup, install_file
from .trust import desired_entries, trust_ops


@dataclass(frozen=True)
class CertChange(Payload):
    copies: tuple[SetFile, ...] = ()
    trust: tuple[TrustOp, ...] = field(default=(), repr=False)
    run_action: bool = False


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
    reads = touches = (PKI_FACTS,)

    def __init__(self, cert_set: CertificateSet, backup_root: str) -> None:
        self.set = cert_set
        self.backup_root = backup_root
        # One step per set: its name and its tools (keytool only for a truststore).
        self.name = f"certs-{cert_set.name}"  # type: ignore[misc]
        self.tools = ("tar", "sort", "cp", "mkdir") + (  # type: ignore[misc]
            ("keytool",) if cert_set.truststore is not None else ())

    def _password(self, inventory: Inventory) -> Secret | None:
        store = self.set.truststore
        return store.password.resolve(inventory.base_dir) if store is not None else None

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        every = await run.facts.every(PKI_FACTS)
        source = inventory.source_of(self.set).name
        source_files = every[source].set_files(self.set)
        if not source_files:
            raise NodeCheckError(
                source, f"no file in {self.set.directory} matches the masks of certificate "
                f"set '{self.set.name}' ({', '.join(self.set.masks)}); fix the masks or the source")
        facts = every[handle.name]
        details: list[str] = []
        copies: list[SetFile] = []
        if handle.name != source:
            have = facts.set_files(self.set)
            for name, want in sorted(source_files.items()):
                why = _differs(have.get(name), want)
                if why is not None:
                    copies.append(want)
                    details.append(f"copy {name} from {source} ({why})")
            details += [f"leave {name} alone (not on {source})"
                        for name in sorted(set(have) - set(source_files))]
            refusal = await self._keystore_refusal(handle, facts, source, copies)
            if refusal is not None:
                return refusal
        trust, why_trust = await self._trust_changes(handle, inventory, facts, source_files)
        details += why_trust
        if not copies and not trust:
            return NoOp(handle.name, self.name,
                        f"{len(source_files)} file(s) as on {source}"
                        + (", truststore complete" if self.set.truststore else ""))
        run_action = self.set.action is not None
        if run_action:
            details.append(f"then run: {self.set.action}")
        parts = ([f"copy {len(copies)} file(s)"] if copies else []) + (
            [f"{len(why_trust)} truststore change(s)"] if trust else [])
        summary = ", ".join(parts)
        return Change(handle.name, self.name, summary, tuple(details),
                      payload=CertChange(tuple(copies), tuple(trust), run_action))

    async def _keystore_refusal(self, handle: NodeHandle, facts: PKIFacts, source: str,
                                copies: list[SetFile]) -> Blocked | None:
        incoming = {f.name: f for f in copies if f.is_keystore}
        problems = [f"{ref.file} from {source}: {why}" for ref, why in await keystore_problems(
            handle.container, self.set.keystores, incoming, facts.files)]
        if not problems:
            return None
        keys = ", ".join(f"{r.password_from.key}" for r in self.set.keystores
                         if r.file in incoming)
        return Blocked(
            handle.name, self.name,
            "; ".join(problems) + f"; nothing changed on {handle.name}",
            f"sync the configuration that holds {keys} from {source} too, or set it to "
            f"the password of {source}'s key stores, then apply again")

    async def _trust_changes(self, handle: NodeHandle, inventory: Inventory, facts: PKIFacts,
                             source_files: dict[str, SetFile]) -> tuple[list[TrustOp], list[str]]:
        store = self.set.truststore
        password = self._password(inventory)
        if store is None or password is None:
            return [], []
        current = await list_truststore(handle.container, store.path, password,
                                        facts.files.get(store.path))
        ca_pem = cluster_ca_pem(inventory)
        desired = desired_entries(self.set, handle.name, source_files, ca_pem)
        ops, why = trust_ops(current or {}, desired)
        if inventory.ldap is not None and ca_pem is None:
            # Made earlier in this apply (ldap-tls, cluster-ca); planned again then.
            why.append("import the cluster CA once it is made")
        return ops, why

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        planned = change.payload
        assert isinstance(planned, CertChange)
        container = handle.container
        paths = [posixpath.join(self.set.directory, f.name) for f in planned.copies]
        if planned.trust and self.set.truststore is not None:
            paths.append(self.set.truststore.path)
        await backup(container, self.backup_root, self.set.name, f"before {change.summary}", paths)
        for item in planned.copies:
            await install_file(container, self.set.directory, item)
        password = self._password(run.inventory)
        if planned.trust and self.set.truststore is not None and password is not None:
            await change_truststore(container, self.set.truststore.path,
                                    self.set.truststore.type, password, list(planned.trust))
        if planned.run_action and self.set.action:
            await container.run(["sh", "-c", self.set.action])


class ClusterCAStep(Step):
    """Makes the cluster CA (beside the inventory, key 0600) before the certificate sets
    import it into the Java truststores, for an engine whose own TLS step does not make
    it first (OpenLDAP's ldap-tls does). Changes nothing on the nodes."""

    name = "cluster-ca"
    title = "cluster CA"

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        if handle.name != inventory.primary_node.name or cluster_ca_pem(inventory) is not None:
            return NoOp(handle.name, self.name, "the cluster CA exists (or is made once, "
                        "for the primary)")
        where = inventory.local_path(inventory.pki.directory)
        return Change(handle.name, self.name, f"make the cluster CA in {where} (key 0600)")

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        inventory = run.inventory
        inventory_ca(inventory, True)


def cert_steps(inventory: Inventory) -> list[Step]:
    root = inventory.certificates.backup_directory
    return [CertSetStep(cert_set, root) for cert_set in inventory.certificates.sets]
