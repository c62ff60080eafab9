"""OpenDJ's own administration tools (dsreplication, dsconfig), run in a node's container.

Every secret goes in files the fixed script writes from its stdin (0600, in a 0700
folder it removes): argv names them by the placeholders ``@dm-password`` (the directory
manager's) and ``@admin-password`` (the replication global administrator's). Admin
connections trust only the nodes' own administration certificates, given as PEM on
stdin after the passwords (``@truststore`` / ``@truststore-password``): never
``--trustAll``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...connection import NodeHandle
from ...errors import LDAPCommandError
from ...inventory import Inventory, LDAPSettings

# stdin: the directory manager's password, a newline, the global administrator's, a
# newline, then PEM certificates to trust. argv: the tool and its arguments.
TOOL_SCRIPT = r"""
umask 077
dir=$(mktemp -d) || exit 90
trap 'rm -rf -- "$dir"' EXIT
IFS= read -r dm; IFS= read -r admin
printf '%s' "$dm" > "$dir/dm"; printf '%s' "$admin" > "$dir/admin"
cat > "$dir/certs.pem"
head -c 24 /dev/urandom | base64 > "$dir/ts-pw"
n=0
awk -v dir="$dir" '/BEGIN CERTIFICATE/ {n++} n {print > (dir "/cert" n ".pem")}' "$dir/certs.pem"
for cert in "$dir"/cert*.pem; do
  [ -e "$cert" ] || continue
  n=$((n + 1))
  keytool -importcert -noprompt -alias "node$n" -file "$cert" -keystore "$dir/trust" \
    -storetype JKS -storepass:file "$dir/ts-pw" > /dev/null || exit 91
done
tool=$1
shift
for a in "$@"; do
  shift
  case $a in
    @dm-password) set -- "$@" "$dir/dm" ;;
    @admin-password) set -- "$@" "$dir/admin" ;;
    @truststore) set -- "$@" "$dir/trust" ;;
    @truststore-password) set -- "$@" "$dir/ts-pw" ;;
    *) set -- "$@" "$a" ;;
  esac
done
"$tool" "$@"
"""

_TELLING = ("error", "fail", "cannot", "could not", "invalid", "refused", "already")
TRUST = ("--trustStorePath", "@truststore", "--trustStorePasswordFile", "@truststore-password")


def admin_password(inventory: Inventory) -> str:
    """The replication global administrator's ('admin' in cn=admin data): the
    inventory's replication password, else the directory manager's."""
    settings = _ldap(inventory)
    ref = settings.replication_password or settings.admin_password
    return ref.resolve(inventory.base_dir).reveal()


def _ldap(inventory: Inventory) -> LDAPSettings:
    assert inventory.ldap is not None
    return inventory.ldap


async def run_tool(handle: NodeHandle, inventory: Inventory, argv: Sequence[str],
                   certs: Sequence[str], timeout: float = 900) -> str:
    """Run an OpenDJ tool with the secrets and trust in files; its output, or a one-line
    error naming the node."""
    settings = _ldap(inventory)
    dm = settings.admin_password.resolve(inventory.base_dir).reveal()
    stdin = f"{dm}\n{admin_password(inventory)}\n" + "".join(certs)
    result = await handle.container.run(["sh", "-c", TOOL_SCRIPT, "gluu-opendj-tool", *argv],
                                        stdin=stdin, timeout=timeout, check=False)
    if not result.ok:
        lines = [ln.strip() for ln in (result.err + "\n" + result.out).splitlines() if ln.strip()]
        telling = [ln for ln in lines if any(w in ln.lower() for w in _TELLING)]
        detail = " ".join((telling or lines[-2:])[:2]) or "no output"
        raise LDAPCommandError(handle.name, f"{argv[0].rsplit('/', 1)[-1]} failed "
                               f"(exit {result.exit_code}): {detail}")
    return result.out
