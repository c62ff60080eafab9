"""TLS for replication: every node gets a certificate from the cluster CA, slapd uses it."""

from __future__ import annotations

from ...connection import ClusterConnection, NodeHandle
from ...plan import Change, NoOp, Outcome, Step
from .common import LDAPRun, directory_of, ldap_of
from .desired import CA_FILE, CERT_FILE, KEY_FILE, NODE_TLS_DIR
from .ldif_ops import Modify

TLS_ATTRS = {
    "olcTLSCACertificateFile": CA_FILE,
    "olcTLSCertificateFile": CERT_FILE,
    "olcTLSCertificateKeyFile": KEY_FILE,
    # TLS 1.2 or newer.
    "olcTLSProtocolMin": "3.3",
}


class LDAPTLSStep(Step):
    name = "ldap-tls"
    title = "replication TLS (cluster CA)"

    def __init__(self, run: LDAPRun) -> None:
        self.run = run

    async def plan_node(self, handle: NodeHandle, cluster: ClusterConnection) -> Outcome:
        inventory = cluster.inventory
        settings = ldap_of(cluster)
        ca = self.run.ca(inventory, create=False)
        container = handle.container
        reasons: list[str] = []
        if ca is None:
            reasons.append("create the cluster CA and issue a node certificate")
        else:
            node_ca = await container.read_file(CA_FILE)
            if node_ca != ca.cert_pem:
                reasons.append(f"install the cluster CA certificate as {CA_FILE}")
            why = ca.check_node_cert(await container.read_file(CERT_FILE), handle.name,
                                     handle.node.address)
            key = await container.run(["stat", "-c", "%a", KEY_FILE], check=False)
            if why is not None:
                reasons.append(f"issue a node certificate ({why})")
            elif not key.ok or key.out.strip() not in ("600", "400"):
                reasons.append(f"issue a node certificate ({KEY_FILE} missing or not 0600)")
        facts = await self.run.facts(handle, settings)
        wrong = {k: v for k, v in TLS_ATTRS.items() if facts.tls.get(k) != v}
        if wrong:
            reasons.append("point slapd at them: " + ", ".join(sorted(wrong)))
        if not reasons:
            return NoOp(handle.name, self.name, "slapd uses a valid certificate from the cluster CA")
        reissue = any(r.startswith(("issue", "create")) for r in reasons)
        return Change(handle.name, self.name, "set up TLS from the cluster CA", tuple(reasons),
                      payload=(inventory, reissue))

    async def apply_change(self, handle: NodeHandle, change: Change) -> None:
        inventory, reissue = change.payload
        inventory_ca = self.run.ca(inventory, create=True)
        assert inventory_ca is not None
        settings = inventory.ldap
        container = handle.container
        owner = settings.run_as or ""
        await container.run(["mkdir", "-p", NODE_TLS_DIR])
        await container.write_file(CA_FILE, inventory_ca.cert_pem, mode=0o644)
        if reissue:
            issued = inventory_ca.issue(handle.name, handle.node.address)
            await container.write_file(KEY_FILE, issued.key_pem, mode=0o600, owner=owner or None)
            await container.write_file(CERT_FILE, issued.cert_pem, mode=0o644)
        modify = Modify("cn=config")
        for attr, value in TLS_ATTRS.items():
            modify.replace(attr, value)
        await directory_of(handle, settings).modify(modify.ldif())
        self.run.changed(handle.name)
