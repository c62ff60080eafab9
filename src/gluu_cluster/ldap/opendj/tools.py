"""OpenDJ's own administration tools (dsreplication, dsconfig), run in a node's container.

Every secret goes in files the fixed script writes from its stdin (0600, in a 0700
folder it removes): argv names them by the placeholders ``@dm-password`` (the directory
manager's) and ``@admin-password`` (the replication global administrator's);
``@file:TEXT`` becomes a file holding TEXT (a dsconfig batch: no secret in it). Admin
connections trust only the nodes' own administration certificates and the cluster CA,
given as PEM on stdin after the passwords (``@truststore`` / ``@truststore-password``):
never ``--trustAll``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from ...connection import NodeHandle
from ...errors import LDAPCommandError, NodeCheckError
from ...inventory import Inventory, LDAPSettings
from ...pki.ca import cluster_ca_pem
from ..service import start_server, stop_server
from .facts import dm_password, ldap_of, ldap_url

# The start of a script whose stdin begins with a password line: a 0700 folder removed
# when the script ends, the password in its 0600 file "$dir/pw" (never on argv).
SECRET_PREAMBLE = r"""
umask 077
dir=$(mktemp -d) || exit 90
trap 'rm -rf -- "$dir"' EXIT
IFS= read -r pw
printf '%s' "$pw" > "$dir/pw"
"""

# stdin: the directory manager's password, a newline, the global administrator's, a
# newline, then PEM certificates to trust. argv: the tool and its arguments.
TOOL_SCRIPT = SECRET_PREAMBLE + r"""
IFS= read -r admin
printf '%s' "$admin" > "$dir/admin"
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
    @dm-password) set -- "$@" "$dir/pw" ;;
    @admin-password) set -- "$@" "$dir/admin" ;;
    @truststore) set -- "$@" "$dir/trust" ;;
    @truststore-password) set -- "$@" "$dir/ts-pw" ;;
    @file:*) n=$((n + 1)); printf '%s\n' "${a#@file:}" > "$dir/file$n"; set -- "$@" "$dir/file$n" ;;
    *) set -- "$@" "$a" ;;
  esac
done
"$tool" "$@"
"""

_TELLING = ("error", "fail", "cannot", "could not", "invalid", "refused", "already")
def connection(handle: NodeHandle, settings: LDAPSettings) -> list[str]:
    """How an admin tool reaches the node's administration connector, trusting its cert."""
    return ["--hostname", handle.name, "--port", str(settings.opendj.admin_port),
            "--bindDN", settings.admin_dn, "--bindPasswordFile", "@dm-password",
            "--trustStorePath", "@truststore", "--trustStorePasswordFile", "@truststore-password"]


TRUST = ("--trustStorePath", "@truststore", "--trustStorePasswordFile", "@truststore-password")


def global_admin_password(inventory: Inventory) -> str:
    """The replication global administrator's ('admin' in cn=admin data): the
    inventory's replication password, else the directory manager's."""
    settings = ldap_of(inventory)
    ref = settings.replication_password or settings.admin_password
    return ref.resolve(inventory.base_dir).reveal()


async def run_tool(handle: NodeHandle, inventory: Inventory, argv: Sequence[str],
                   certs: Sequence[str], timeout: float = 900) -> str:
    """Run an OpenDJ tool with the secrets and trust in files; its output, or a one-line
    error naming the node."""
    # Beside the certificates the nodes serve now, the cluster CA: the listeners present
    # a key pair from it once ldap-tls has run (from the moment it enters their store).
    ca = cluster_ca_pem(inventory)
    trusted = [*certs, ca.decode("ascii")] if ca else list(certs)
    stdin = f"{dm_password(inventory)}\n{global_admin_password(inventory)}\n" + "".join(trusted)
    result = await handle.container.run(["sh", "-c", TOOL_SCRIPT, "gluu-opendj-tool", *argv],
                                        stdin=stdin, timeout=timeout, check=False)
    if not result.ok:
        lines = [ln.strip() for ln in (result.err + "\n" + result.out).splitlines() if ln.strip()]
        telling = [ln for ln in lines if any(w in ln.lower() for w in _TELLING)]
        detail = " ".join((telling or lines[-2:])[:2]) or "no output"
        raise LDAPCommandError(handle.name, f"{argv[0].rsplit('/', 1)[-1]} failed "
                               f"(exit {result.exit_code}): {detail}")
    return result.out


async def restart(handle: NodeHandle, inventory: Inventory, timeout: float = 180) -> None:
    """Stop and start the node's OpenDJ (ldap.service), then wait until it answers on its
    LDAP port: some settings (the crypto manager's) are read only at start."""
    settings = ldap_of(inventory)
    await stop_server(handle, settings)
    await start_server(handle, settings)
    url = ldap_url(handle.node.address, settings)
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        probe = await handle.container.run(
            ["ldapsearch", "-x", "-LLL", "-H", url, "-b", "", "-s", "base", "1.1"],
            timeout=15, check=False)
        if probe.ok:
            return
        last = probe.first_error_line()
        await asyncio.sleep(0.5)
    raise NodeCheckError(handle.name, f"OpenDJ did not answer on {url} within {timeout:g} s "
                         f"after a restart: {last}")


# What the OpenDJ steps run inside the container (the preflight checks for them).
STEP_TOOLS = ("ldapsearch", "openssl", "keytool", "java")


async def dsconfig_batch(handle: NodeHandle, inventory: Inventory, admin_cert: str | None,
                         batch: str) -> None:
    """Run a dsconfig batch against the node's own administration connector."""
    settings = ldap_of(inventory)
    argv = [f"{settings.opendj.install_dir}/bin/dsconfig", *connection(handle, settings),
            "--no-prompt", "--batchFilePath", f"@file:{batch}"]
    await run_tool(handle, inventory, argv, [admin_cert] if admin_cert else [])
