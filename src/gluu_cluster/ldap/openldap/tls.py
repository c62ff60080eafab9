"""TLS for replication: every node gets a certificate from the cluster CA, slapd uses it."""

from __future__ import annotations

from dataclasses import dataclass

from ...connection import NodeHandle
from ...pki.ca import inventory_ca
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from .common import directory_of, ldap_of
from .desired import CA_FILE, CERT_FILE, KEY_FILE, NODE_TLS_DIR
from .facts import OPENLDAP_FACTS
from .ldif_ops import Modify

TLS_ATTRS = {
    "olcTLSCACertificateFile": CA_FILE,
    "olcTLSCertificateFile": CERT_FILE,
    "olcTLSCertificateKeyFile": KEY_FILE,
    # TLS 1.2 or newer.
    "olcTLSProtocolMin": "3.3",
}


@dataclass(frozen=True)
class TLSPayload(Payload):
    reissue: bool  # a new key and certificate from the cluster CA (made first if need be)


class LDAPTLSStep(Step):
    name = "ldap-tls"
    title = "replication TLS (cluster CA)"
    tools = ("mkdir", "ldapmodify")
    reads = touches = (OPENLDAP_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        facts = await run.facts.of(OPENLDAP_FACTS, handle)
        ca = inventory_ca(inventory, False)
        reasons: list[str] = []
        reissue = False
        if ca is None:
            reasons.append("create the cluster CA and issue a node certificate")
            reissue = True
        else:
            if facts.tls_ca != ca.cert_pem:
                reasons.append(f"install the cluster CA certificate as {CA_FILE}")
            why = ca.check_node_cert(facts.tls_cert, handle.name, handle.node.address)
            if why is None and facts.tls_key_mode not in (0o600, 0o400):
                why = f"{KEY_FILE} missing or not 0600"
            if why is not None:
                reasons.append(f"issue a node certificate ({why})")
                reissue = True
        wrong = {k: v for k, v in TLS_ATTRS.items() if facts.tls.get(k) != v}
        if wrong:
            reasons.append("point slapd at them: " + ", ".join(sorted(wrong)))
        if not reasons:
            return NoOp(handle.name, self.name, "slapd uses a valid certificate from the cluster CA")
        return Change(handle.name, self.name, "set up TLS from the cluster CA", tuple(reasons),
                      payload=TLSPayload(reissue))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, TLSPayload)
        inventory = run.inventory
        ca = inventory_ca(inventory, True)
        assert ca is not None
        settings = ldap_of(inventory)
        container = handle.container
        await container.run(["mkdir", "-p", NODE_TLS_DIR])
        await container.write_file(CA_FILE, ca.cert_pem, mode=0o644)
        if change.payload.reissue:
            issued = ca.issue(handle.name, handle.node.address)
            await container.write_file(KEY_FILE, issued.key_pem, mode=0o600,
                                       owner=settings.run_as or None)
            await container.write_file(CERT_FILE, issued.cert_pem, mode=0o644)
        modify = Modify("cn=config")
        for attr, value in TLS_ATTRS.items():
            modify.replace(attr, value)
        await directory_of(handle, settings).modify(modify.ldif())
