"""Java key stores through the node's own ``keytool``; passwords never on a command line.

Every script reads the store password from the first line of standard input into an
environment variable and hands keytool ``-storepass:env``, so ``ps`` shows no secret.
keytool's messages are forced to English so errors read the same on every node.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from ..errors import NodeCheckError
from ..secrets import Secret
from ..transport import Transport
from .javastore import StoreFormatError, StorePasswordError, opens, read_store

TIMEOUT = 180.0
_KEYTOOL = 'kt() { keytool -J-Duser.language=en -J-Duser.country=US "$@"; }\n'
_READ_PASSWORD = "IFS= read -r GLUU_STOREPASS\nexport GLUU_STOREPASS\n"

# Exit 3: the store does not exist (an empty truststore, to be created on first import).
_LIST_SCRIPT = _READ_PASSWORD + _KEYTOOL + r"""
[ -e "$1" ] || exit 3
kt -list -rfc -keystore "$1" -storepass:env GLUU_STOREPASS
"""

# After the password: the PEM certificates to add, in the order of the add: operations.
_CHANGE_SCRIPT = "set -e\n" + _READ_PASSWORD + _KEYTOOL + r"""
store=$1; type=$2; shift 2
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
awk -v d="$tmp" '/-----BEGIN CERTIFICATE-----/ {n++} n {print > (d "/" n ".pem")}'
mkdir -p -- "$(dirname -- "$store")"
n=0
for op in "$@"; do
  case $op in
    del:*) kt -delete -alias "${op#del:}" -keystore "$store" -storepass:env GLUU_STOREPASS ;;
    add:*)
      n=$((n + 1))
      if [ -e "$store" ]; then
        kt -importcert -noprompt -alias "${op#add:}" -file "$tmp/$n.pem" \
           -keystore "$store" -storepass:env GLUU_STOREPASS
      else
        kt -importcert -noprompt -alias "${op#add:}" -file "$tmp/$n.pem" \
           -keystore "$store" -storetype "$type" -storepass:env GLUU_STOREPASS
      fi ;;
  esac
done
"""

# After the password: the key store's bytes. Exit 0 when the password opens it.
_OPENS_SCRIPT = _READ_PASSWORD + _KEYTOOL + r"""
tmp=$(mktemp)
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
kt -list -keystore "$tmp" -storepass:env GLUU_STOREPASS > /dev/null
"""

# After the password: a PKCS12 store; prints it converted to JKS (key password = store's).
_TO_JKS_SCRIPT = "set -e\n" + _READ_PASSWORD + _KEYTOOL + r"""
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
cat > "$tmp/in.p12"
kt -importkeystore -noprompt -srckeystore "$tmp/in.p12" -srcstoretype PKCS12 \
   -srcstorepass:env GLUU_STOREPASS -destkeystore "$tmp/out.jks" -deststoretype JKS \
   -deststorepass:env GLUU_STOREPASS >&2
cat "$tmp/out.jks"
"""


def _stdin(password: Secret, data: bytes = b"") -> bytes:
    return password.reveal().encode() + b"\n" + data


def parse_rfc_listing(text: str) -> dict[str, str]:
    """alias (lower case, as JKS stores them) -> SHA-256 fingerprint of its first certificate."""
    aliases: dict[str, str] = {}
    alias: str | None = None
    pem: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("Alias name:"):
            alias, pem = line.split(":", 1)[1].strip().lower(), None
        elif line.startswith("-----BEGIN CERTIFICATE-----") and alias and alias not in aliases:
            pem = [line]
        elif pem is not None:
            pem.append(line)
            if line.startswith("-----END CERTIFICATE-----") and alias:
                # The fingerprint is the digest of the DER bytes: no need to parse the
                # certificate (and some CA certificates in cacerts do not parse cleanly).
                der = base64.b64decode("".join(pem[1:-1]))
                aliases[alias] = hashlib.sha256(der).digest().hex(":").upper()
                pem = None
    return aliases


@dataclass(frozen=True)
class TrustOp:
    """Delete an alias, or add a certificate under it (``pem`` set)."""

    alias: str
    pem: bytes | None = None

    @property
    def arg(self) -> str:
        return f"{'add' if self.pem is not None else 'del'}:{self.alias}"


async def list_truststore(container: Transport, path: str, password: Secret,
                          data: bytes | None) -> dict[str, str] | None:
    """The store's aliases and fingerprints from its bytes (``data``, read with the node's
    facts); None when it does not exist yet.

    JKS and PKCS12 are read here (no JVM per call); other formats by the node's keytool."""
    if data is None:
        return None
    try:
        return {e.alias: e.fingerprint for e in read_store(data, password.reveal())}
    except StorePasswordError:
        raise NodeCheckError(container.node, f"truststore {path} did not open with the "
                             "configured password; fix certificates.sets[].truststore.password"
                             ) from None
    except StoreFormatError:
        return await _keytool_listing(container, path, password)


async def _keytool_listing(container: Transport, path: str, password: Secret) -> dict[str, str] | None:
    result = await container.run(["sh", "-c", _LIST_SCRIPT, "gluu-keytool-list", path],
                                 stdin=_stdin(password), timeout=TIMEOUT, check=False)
    if result.exit_code == 3:
        return None
    if not result.ok:
        why = result.first_error_line()
        if "password" in why.lower() or "tampered" in why.lower():
            raise NodeCheckError(container.node, f"truststore {path} did not open with the "
                                 "configured password; fix certificates.sets[].truststore.password")
        raise NodeCheckError(container.node, f"cannot read truststore {path}: {why}")
    return parse_rfc_listing(result.out)


async def change_truststore(container: Transport, path: str, store_type: str, password: Secret,
                            ops: list[TrustOp]) -> None:
    if not ops:
        return
    bundle = b"".join(op.pem for op in ops if op.pem is not None)
    await container.run(["sh", "-c", _CHANGE_SCRIPT, "gluu-keytool", path, store_type,
                         *(op.arg for op in ops)],
                        stdin=_stdin(password, bundle), timeout=TIMEOUT)


async def password_opens(container: Transport, keystore: bytes, password: Secret) -> bool:
    """Whether ``password`` opens these key store bytes (JKS/PKCS12 read here, others by
    the node's keytool)."""
    try:
        return opens(keystore, password.reveal())
    except StoreFormatError:
        pass
    result = await container.run(["sh", "-c", _OPENS_SCRIPT, "gluu-keytool-check"],
                                 stdin=_stdin(password, keystore), timeout=TIMEOUT, check=False)
    return result.ok


async def pkcs12_to_jks(container: Transport, pkcs12: bytes, password: Secret) -> bytes:
    result = await container.run(["sh", "-c", _TO_JKS_SCRIPT, "gluu-keytool-convert"],
                                 stdin=_stdin(password, pkcs12), timeout=TIMEOUT)
    return result.stdout
