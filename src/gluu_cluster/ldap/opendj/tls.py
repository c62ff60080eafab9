"""TLS from the cluster CA for OpenDJ (the role OpenLDAP's ldap-tls step has there):
each node gets a key pair the cluster CA issued for its name and address, under the
alias gluu-cluster, in the key stores its LDAPS listener and administration connector
already use and in cn=ads-truststore, the store replication takes its key and its trust
from, which also gets the cluster CA as a trusted certificate.

- LDAPS and admin listeners present it at once (ssl-cert-nickname, no restart). The
  certificate sets import the cluster CA into the Java truststores, so the Gluu
  applications trust every node's LDAPS without copying each node's self-signed
  certificate around (the guide's note), and admin tools verify it.
- Replication presents it once the crypto manager's ssl-cert-nickname names it, which
  OpenDJ reads at start: ldap-general sets that with ssl-encryption, before its restart.
  Peers accept it through the cluster CA in their cn=ads-truststore; the instance keys
  dsreplication registered stay trusted too.
"""

from __future__ import annotations

import base64
import posixpath
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ...connection import NodeHandle
from ...errors import LDAPCommandError
from ...pki.ca import ClusterCA, inventory_ca
from ...plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .facts import OPENDJ_FACTS, OpenDJFacts, ldap_of
from .tools import SECRET_PREAMBLE, STEP_TOOLS, dsconfig_batch

ALIAS = "gluu-cluster"
CA_ALIAS = "gluu-cluster-ca"
LISTENERS = {"ldaps": 'set-connection-handler-prop --handler-name "LDAPS Connection Handler"',
             "admin": "set-administration-connector-prop"}

# stdin: a password line, then a PKCS#12 file in base64 holding the key pair under $1.
# $2: a CA certificate (PEM, public) to trust in the store $3 ($4 its type, $5 its PIN
# file; all "" for none); then per key store: its file, type and PIN file. The key pair
# goes into each under $1 (an older one of that alias replaced), protected by the store's
# own PIN as OpenDJ wants.
KEYSTORE_SCRIPT = SECRET_PREAMBLE + r"""
base64 -d > "$dir/node.p12" || exit 91
alias=$1 ca=$2 ca_store=$3 ca_type=$4 ca_pin=$5
shift 5
if [ -n "$ca_store" ]; then
  printf '%s\n' "$ca" > "$dir/ca.pem"
  keytool -delete -alias "$alias-ca" -keystore "$ca_store" -storetype "$ca_type" \
    -storepass:file "$ca_pin" > /dev/null 2>&1
  keytool -importcert -noprompt -alias "$alias-ca" -file "$dir/ca.pem" \
    -keystore "$ca_store" -storetype "$ca_type" -storepass:file "$ca_pin" > /dev/null || exit 93
fi
while [ "$#" -ge 3 ]; do
  store=$1 type=$2 pin=$3
  shift 3
  keytool -delete -alias "$alias" -keystore "$store" -storetype "$type" \
    -storepass:file "$pin" > /dev/null 2>&1
  keytool -importkeystore -noprompt -srckeystore "$dir/node.p12" -srcstoretype PKCS12 \
    -srcstorepass:file "$dir/pw" -srcalias "$alias" -destalias "$alias" \
    -destkeystore "$store" -deststoretype "$type" -deststorepass:file "$pin" \
    -destkeypass:file "$pin" > /dev/null || exit 92
done
"""

# Replication's store (cn=ads-truststore), as OpenDJ's setup makes it.
ADS_STORE = ("config/ads-truststore", "JKS", "config/ads-truststore.pin")


@dataclass(frozen=True)
class TLSPayload(Payload):
    stores: tuple[tuple[str, str, str], ...]  # (file, type, PIN file), absolute paths
    trust_in: tuple[str, str, str]  # the store that trusts the cluster CA (replication's)
    batch: str  # dsconfig lines pointing the listeners at the alias


def _why_not(ca: ClusterCA | None, facts: OpenDJFacts, handle: NodeHandle) -> list[str]:
    """Why the node's listeners and replication store lack a valid key pair from the
    cluster CA, or the store does not trust the CA."""
    if ca is None:
        return ["make the cluster CA and issue the node a key pair from it"]
    reasons = []
    for what, pem in (("LDAPS listener", facts.ldaps_cert),
                      ("administration connector", facts.admin_cert),
                      ("replication key (cn=ads-truststore)", facts.ads_cert(ALIAS))):
        why = ca.check_node_cert(pem.encode() if pem else None, handle.name, handle.node.address)
        if why is not None:
            reasons.append(f"{what}: {why}")
    if (facts.ads_cert(CA_ALIAS) or "").strip() != ca.cert_pem.decode("ascii").strip():
        reasons.append("replication does not trust the cluster CA yet (cn=ads-truststore)")
    return reasons


def _path(settings_dir: str, path: str) -> str:
    return path if path.startswith("/") else posixpath.join(settings_dir, path)


class OpenDJTLSStep(Step):
    name = "ldap-tls"
    title = "LDAPS and admin TLS (cluster CA)"
    tools = STEP_TOOLS
    reads = touches = (OPENDJ_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        settings = ldap_of(inventory)
        facts: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
        uses = {u.listener: u for u in facts.key_uses}
        if set(uses) != set(LISTENERS):
            return Blocked(handle.name, self.name,
                           "OpenDJ's LDAPS listener or administration connector has no "
                           "file-based key store; nothing changed",
                           "enable the LDAPS connection handler with a JKS or PKCS12 key "
                           "manager provider (OpenDJ's setup --ldapsPort does), then apply again")
        ca = inventory_ca(inventory, False)
        reasons = _why_not(ca, facts, handle)
        unset = [u.listener for u in facts.key_uses if u.nickname != ALIAS]
        if not reasons and not unset:
            return NoOp(handle.name, self.name, "LDAPS, admin and replication keys come "
                        "from the cluster CA, which replication trusts")
        home = settings.opendj.install_dir
        ads = (_path(home, ADS_STORE[0]), ADS_STORE[1], _path(home, ADS_STORE[2]))
        stores = sorted({(_path(home, u.store_file), u.store_type, _path(home, u.pin_file))
                         for u in facts.key_uses} | {ads})
        details = reasons + [f"key pair '{ALIAS}' into {s[0]}" for s in stores]
        return Change(handle.name, self.name, "present a key pair from the cluster CA",
                      tuple(details),
                      payload=TLSPayload(tuple(stores), ads, "\n".join(
                          f'{LISTENERS[listener]} --set "ssl-cert-nickname:{ALIAS}"'
                          for listener in sorted(LISTENERS))))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, TLSPayload)
        inventory = run.inventory
        ca = inventory_ca(inventory, True)
        assert ca is not None
        issued = ca.issue(handle.name, handle.node.address)
        password = secrets.token_urlsafe(24)
        key = serialization.load_pem_private_key(issued.key_pem, None)
        bundle = pkcs12.serialize_key_and_certificates(
            ALIAS.encode(), key,  # type: ignore[arg-type]
            x509.load_pem_x509_certificate(issued.cert_pem), [ca.cert],
            serialization.BestAvailableEncryption(password.encode()))
        argv = ["sh", "-c", KEYSTORE_SCRIPT, "gluu-opendj-keys", ALIAS,
                ca.cert_pem.decode("ascii"), *change.payload.trust_in,
                *(part for store in change.payload.stores for part in store)]
        result = await handle.container.run(
            argv, stdin=password + "\n" + base64.b64encode(bundle).decode("ascii") + "\n",
            timeout=120, check=False)
        if not result.ok:
            raise LDAPCommandError(handle.name, "adding the cluster CA's key pair to OpenDJ's "
                                   f"key stores failed (exit {result.exit_code}): "
                                   f"{result.first_error_line()}")
        facts: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
        # The listeners take the new key for the connections that follow: no restart.
        await dsconfig_batch(handle, inventory, facts.admin_cert, change.payload.batch)
        run.facts.touched(handle.name, self.touches)

