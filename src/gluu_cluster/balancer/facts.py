"""What the balancer host runs now, and the cluster web server certificate it serves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509

from ..boot.daemons import DEFINITIONS_SCRIPT, definition_digests
from ..connection import NodeHandle
from ..facts.cache import ScriptArea
from ..facts.script import Sections
from ..inventory import Inventory
from ..packages import MANAGER_PROBE, known_manager
from .render import CERT, CONF, DRAINED, NGINX, NODE_CERT, PID_FILE, parse_drained

# $1 config, $2 drained list, $3 PID file, $4 served certificate, $5 and $6 the service's
# SysV script and systemd unit (which one counts depends on the host's init).
FACT_SCRIPT = MANAGER_PROBE + DEFINITIONS_SCRIPT + r"""
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
running() {
  [ -e "$1" ] || return 3
  pid=$(cat -- "$1") && [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 1
  # A killed daemon nobody reaped yet still answers kill -0: its state says Z.
  case $(sed 's/.*) //' "/proc/$pid/stat" 2> /dev/null) in Z*|"") return 1 ;; esac
  echo "$pid"
}
section nginx command -v nginx
section manager manager
section conf present "$1"
section drained present "$2"
section pid running "$3"
section cert present "$4"
definitions "$5" "$6"
if command -v nginx > /dev/null 2>&1 && [ -e "$1" ]; then section test nginx -e /dev/stderr -t -q -c "$1"; fi
"""


@dataclass(frozen=True)
class BalancerFacts:
    host: str
    nginx: bool
    package_manager: str | None
    conf: str | None
    drained: frozenset[str]
    pid: int | None
    cert_sha256: str | None
    conf_ok: bool | None  # nginx -t on the file; None when not tested
    conf_error: str
    definitions: dict[str, str]  # init system ("sysv", "systemd") -> the definition's sha256


def parse_facts(host: str, _inventory: Inventory, sections: Sections) -> BalancerFacts:
    pid = sections["pid"].out.strip()
    test = sections["test"] if "test" in sections else None
    return BalancerFacts(
        host=host, nginx=sections["nginx"].ok,
        package_manager=known_manager(sections["manager"].out.strip()),
        conf=sections["conf"].out if sections["conf"].ok else None,
        drained=parse_drained(sections["drained"].out) if sections["drained"].ok else frozenset(),
        pid=int(pid) if sections["pid"].ok and pid.isdigit() else None,
        cert_sha256=hashlib.sha256(sections["cert"].stdout).hexdigest()
        if sections["cert"].ok else None,
        conf_ok=test.ok if test is not None else None,
        conf_error=test.first_error_line() if test is not None and not test.ok else "",
        definitions=definition_digests(sections))


def _args(_handle: NodeHandle, _inventory: Inventory, _down: frozenset[str]) -> list[str]:
    return [CONF, DRAINED, PID_FILE, CERT, *NGINX.definition_paths()]


BALANCER_FACTS = ScriptArea("balancer", FACT_SCRIPT, _args, parse_facts, scope="balancer")
# The host's init system and whether nginx's service starts at boot.
BALANCER_BOOT_FACTS = NGINX.boot_facts("boot-balancer", "balancer")


@dataclass(frozen=True)
class WebCert:
    """A node's web server certificate: its digest and the name the balancer checks."""

    sha256: str
    name: str


NODE_CERT_SCRIPT = r"""
section cert sh -c '[ -e "$1" ] || exit 3; cat -- "$1"' - "$1"
"""


def cert_name(pem: bytes) -> str:
    """The first DNS name of the certificate (else its CN): what nginx verifies."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        names = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if names:
        return str(names[0])
    cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else "localhost"


def parse_web_cert(_node: str, _inventory: Inventory, sections: Sections) -> WebCert | None:
    section = sections["cert"]
    if not section.ok:
        return None
    try:
        return WebCert(hashlib.sha256(section.stdout).hexdigest(), cert_name(section.stdout))
    except ValueError:
        return None


WEB_CERT_FACTS = ScriptArea("web-cert", NODE_CERT_SCRIPT, lambda _h, _i, _d: [NODE_CERT],
                            parse_web_cert)
