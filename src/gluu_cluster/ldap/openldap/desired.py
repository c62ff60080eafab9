"""What a node's replication config should be: pure functions, tested without a host."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

from ...inventory import LDAPSettings

ROOT_PEER = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
ACCESSLOG_SUFFIX = "cn=accesslog"
NODE_TLS_DIR = "/etc/certs/gluu-cluster"
CA_FILE = f"{NODE_TLS_DIR}/ca.crt"
CERT_FILE = f"{NODE_TLS_DIR}/ldap.crt"
KEY_FILE = f"{NODE_TLS_DIR}/ldap.key"
REQUIRED_INDEXES = (("entrycsn", "eq"), ("entryuuid", "eq"))
MAX_SERVER_ID = 4095
# Retry every 3 s ten times, then every 10 s for ever: a healed peer is caught up quickly.
RETRY = "3 10 10 +"
LOG_FILTER = "(&(objectClass=auditWriteObject)(reqResult=0))"


def assign_server_ids(current: Mapping[str, int | None], order: Iterable[str]) -> dict[str, int]:
    """Keep every node's existing unique ID; give the others the smallest free ones.

    IDs come from the nodes themselves (cn=config), so they are stable across runs and
    across machines running the tool, with no local state to lose.
    """
    names = list(order)
    taken: dict[int, str] = {}
    out: dict[str, int] = {}
    for name in names:
        sid = current.get(name)
        if sid is not None and 0 < sid <= MAX_SERVER_ID and sid not in taken:
            taken[sid] = name
            out[name] = sid
    free = (i for i in range(1, MAX_SERVER_ID + 1) if i not in taken)
    for name in names:
        if name not in out:
            out[name] = next(free)
    return out


def provider_url(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"ldaps://{host}:{port}"


def check_credential(password: str) -> None:
    if any(c in password for c in '"\\') or any(c.isspace() for c in password):
        raise ValueError("the replication password must not contain quotes, backslashes or spaces")


def syncrepl_value(
    rid: int, url: str, settings: LDAPSettings, suffix: str, password: str
) -> str:
    parts = [
        f"rid={rid:03d}",
        f"provider={url}",
        "bindmethod=simple",
        f'binddn="{settings.replicator}"',
        f'credentials="{password}"',
        f'searchbase="{suffix}"',
        "type=refreshAndPersist",
        f'retry="{RETRY}"',
        "timeout=10",
        "network-timeout=5",
        "keepalive=60:5:10",
        "schemachecking=on",
        f"tls_cacert={CA_FILE}",
        "tls_reqcert=demand",
    ]
    if settings.delta_syncrepl:
        parts += [f'logbase="{ACCESSLOG_SUFFIX}"', f'logfilter="{LOG_FILTER}"',
                  "syncdata=accesslog"]
    return " ".join(parts)


def parse_syncrepl(value: str) -> dict[str, str]:
    """key=value pairs of an olcSyncrepl value (quotes removed)."""
    out: dict[str, str] = {}
    for token in shlex.split(value, posix=True):
        key, _, val = token.partition("=")
        out[key.lower()] = val
    return out


def redact_syncrepl(value: str) -> str:
    return re.sub(r'credentials=("[^"]*"|\S+)', "credentials=********", value)


def parse_indexes(values: Iterable[str]) -> set[tuple[str, str]]:
    """'entryCSN,entryUUID eq' -> {('entrycsn','eq'), ('entryuuid','eq')}."""
    out = set()
    for value in values:
        fields = value.split()
        attrs = fields[0].split(",")
        kinds = fields[1].split(",") if len(fields) > 1 else ["eq"]
        out |= {(a.lower(), k.lower()) for a in attrs for k in kinds}
    return out


def replicator_limit(settings: LDAPSettings) -> str:
    return f'dn.exact="{settings.replicator}" size=unlimited time=unlimited'


def replicator_acl(settings: LDAPSettings) -> str:
    # Least privilege: read everything (it must copy userPassword), write nothing.
    return f'to * by dn.exact="{settings.replicator}" read by * break'


_INDEX = re.compile(r"^\{-?\d+\}")


def strip_index(value: str) -> str:
    """cn=config ordered values carry a '{n}' prefix; compare without it."""
    return _INDEX.sub("", value, count=1)


def module_name(value: str) -> str:
    value = strip_index(value)
    return re.sub(r"\.(la|so)$", "", value.rsplit("/", 1)[-1])
