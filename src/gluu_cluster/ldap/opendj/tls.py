"""TLS from the cluster CA for OpenDJ's LDAPS listener and administration connector (the
role OpenLDAP's ldap-tls step has there): each node gets a key pair the cluster CA issued
for its name and address, added to the key stores those listeners already use under one
alias, and the listeners present it. The certificate sets import the cluster CA into the
Java truststores, so the Gluu applications trust every node's LDAPS without copying each
node's self-signed certificate around (the guide's note), and admin tools verify it.

Replication sessions keep OpenDJ's own instance key (ads-truststore): their peers trust
only the keys registered in cn=admin data, so a CA-issued key there is not accepted.
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
from ...pki.ca import ClusterCA, cluster_ca
from ...plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .facts import OPENDJ_FACTS, OpenDJFacts, ldap_of
from .tools import STEP_TOOLS, dsconfig_batch

ALIAS = "gluu-cluster"
LISTENERS = {"ldaps": 'set-connection-handler-prop --handler-name "LDAPS Connection Handler"',
             "admin": "set-administration-connector-prop"}

# stdin: a password line, then a PKCS#12 file in base64 holding the key pair under $1;
# then per key store: its file, type and PIN file. The key pair goes into each under $1
# (an older one of that alias replaced), protected by the store's own PIN as OpenDJ wants.
KEYSTORE_SCRIPT = r"""
umask 077
dir=$(mktemp -d) || exit 90
trap 'rm -rf -- "$dir"' EXIT
IFS= read -r pw
printf '%s' "$pw" > "$dir/pw"
base64 -d > "$dir/node.p12" || exit 91
alias=$1
shift
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


@dataclass(frozen=True)
class TLSPayload(Payload):
    stores: tuple[tuple[str, str, str], ...]  # (file, type, PIN file), absolute paths
    batch: str  # dsconfig lines pointing the listeners at the alias


def _why_not(ca: ClusterCA | None, facts: OpenDJFacts, handle: NodeHandle) -> list[str]:
    """Why the node's listeners do not present a valid key pair from the cluster CA."""
    if ca is None:
        return ["make the cluster CA and issue the node a key pair from it"]
    reasons = []
    for what, pem in (("LDAPS", facts.ldaps_cert), ("administration", facts.admin_cert)):
        why = ca.check_node_cert(pem.encode() if pem else None, handle.name, handle.node.address)
        if why is not None:
            reasons.append(f"{what} listener: {why}")
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
        ca = cluster_ca(inventory.local_path(inventory.pki.directory), inventory.cluster, False)
        reasons = _why_not(ca, facts, handle)
        unset = [u.listener for u in facts.key_uses if u.nickname != ALIAS]
        if not reasons and not unset:
            return NoOp(handle.name, self.name,
                        "LDAPS and admin listeners present a key pair from the cluster CA")
        stores = sorted({(_path(settings.opendj.install_dir, u.store_file), u.store_type,
                          _path(settings.opendj.install_dir, u.pin_file))
                         for u in facts.key_uses})
        details = reasons + [f"key pair '{ALIAS}' into {s[0]}" for s in stores]
        return Change(handle.name, self.name, "present a key pair from the cluster CA",
                      tuple(details),
                      payload=TLSPayload(tuple(stores), "\n".join(
                          f'{LISTENERS[listener]} --set "ssl-cert-nickname:{ALIAS}"'
                          for listener in sorted(LISTENERS))))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, TLSPayload)
        inventory = run.inventory
        ca = cluster_ca(inventory.local_path(inventory.pki.directory), inventory.cluster, True)
        assert ca is not None
        issued = ca.issue(handle.name, handle.node.address)
        password = secrets.token_urlsafe(24)
        key = serialization.load_pem_private_key(issued.key_pem, None)
        bundle = pkcs12.serialize_key_and_certificates(
            ALIAS.encode(), key,  # type: ignore[arg-type]
            x509.load_pem_x509_certificate(issued.cert_pem), [ca.cert],
            serialization.BestAvailableEncryption(password.encode()))
        argv = ["sh", "-c", KEYSTORE_SCRIPT, "gluu-opendj-keys", ALIAS,
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

