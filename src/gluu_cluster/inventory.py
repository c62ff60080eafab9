"""Typed model of the cluster file; errors name the file, the line and the key path.

The loader composes the YAML into nodes first so that every key path keeps its line
number, then validates with pydantic and translates each validation error into
``cluster.yaml:14 nodes[1].address: not an IP address or hostname``.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import InventoryError, SecretError
from .secrets import Secret, read_secret_env, read_secret_file

# --- value checks -------------------------------------------------------------------

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DN_RDN = re.compile(r"^[A-Za-z][A-Za-z0-9-]*=[^,=]+(\+[A-Za-z][A-Za-z0-9-]*=[^,=]+)*$")


def _address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not value or not all(_HOSTNAME_LABEL.match(lab) for lab in labels):
        raise ValueError("not an IP address or hostname")
    if labels[-1].isdigit():
        raise ValueError("not an IP address or hostname")
    return value


def _node_name(value: str) -> str:
    if not _NODE_NAME.match(value):
        raise ValueError("must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must be an absolute path (start with '/')")
    if "\0" in value or "\n" in value:
        raise ValueError("must not contain NUL or newline characters")
    normal = posixpath.normpath(value)
    if ".." in normal.split("/"):
        raise ValueError("must not contain '..'")
    return normal


def _dn(value: str) -> str:
    parts = [p.strip() for p in value.split(",")]
    if not parts or not all(_DN_RDN.match(p) for p in parts):
        raise ValueError("not an LDAP DN (expected e.g. 'cn=directory manager,o=gluu')")
    return ",".join(parts)


Address = Annotated[str, AfterValidator(_address)]
NodeName = Annotated[str, AfterValidator(_node_name)]
AbsPath = Annotated[str, AfterValidator(_absolute_path)]
DN = Annotated[str, AfterValidator(_dn)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _unique_by(attribute: str, what: str) -> AfterValidator:
    """A list validator: no two items share ``attribute``."""

    def check(items: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for item in items:
            value = getattr(item, attribute)
            if value in seen:
                raise ValueError(f"duplicate {what} '{value}'")
            seen.add(value)
        return items

    return AfterValidator(check)


class _Model(BaseModel):
    # Unknown keys are errors: a typo must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- secrets ------------------------------------------------------------------------


class SecretRef(_Model):
    """Exactly one of ``file`` (mode 0600 or stricter) or ``env``."""

    file: str | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("a secret reference needs exactly one of 'file' or 'env'")
        if self.env is not None and not _ENV_NAME.match(self.env):
            raise ValueError(f"'{self.env}' is not a valid environment variable name")
        return self

    def resolve(self, base_dir: Path) -> Secret:
        if self.env is not None:
            return read_secret_env(self.env)
        assert self.file is not None
        return read_secret_file(base_dir / self.file)

    def describe(self) -> str:
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"


# --- SSH ----------------------------------------------------------------------------


class SSHSettings(_Model):
    user: str = "root"
    port: Port = 22
    identity_file: str | None = None
    known_hosts: str | None = None
    connect_timeout: float = Field(10.0, gt=0, le=600)
    command_timeout: float = Field(120.0, gt=0, le=86400)


class SSHOverride(_Model):
    user: str | None = None
    port: Port | None = None
    identity_file: str | None = None


# --- LDAP ---------------------------------------------------------------------------


class LDAPService(_Model):
    """How slapd is controlled on a node: a systemd unit, or a PID file plus a start command."""

    systemd_unit: str | None = None
    pid_file: AbsPath | None = None
    start_command: list[str] | None = None
    # Without one, slapd is stopped with SIGTERM to the PID in pid_file.
    stop_command: list[str] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> LDAPService:
        if self.systemd_unit is None and (self.pid_file is None or not self.start_command):
            raise ValueError("set either 'systemd_unit' or both 'pid_file' and 'start_command'")
        return self


class OpenDJSettings(_Model):
    """Where the nodes' OpenDJ lives and listens (the guide's ports by default)."""

    install_dir: AbsPath = "/opt/opendj"
    admin_port: Port = 4444
    # The replication server listens on every address: nodes sharing one (a lab) need
    # their own port, set per node (nodes[].replication_port).
    replication_port: Port = 8989
    # Plain LDAP for the node's own fact reads and binds (Gluu binds it to localhost).
    ldap_port: Port = 1389


class LDAPSettings(_Model):
    # The LDAP server the nodes run (ldap/engine.py): each engine in a folder of its own.
    engine: Literal["openldap", "opendj"] = "openldap"
    opendj: OpenDJSettings = Field(default_factory=OpenDJSettings)
    suffixes: list[DN] = Field(default_factory=lambda: ["o=gluu"], min_length=1)
    admin_dn: DN = "cn=directory manager,o=gluu"
    admin_password: SecretRef
    replication_password: SecretRef | None = None
    port: Port = 1636
    ldapi_socket: AbsPath = "/run/slapd/ldapi"
    config_dir: AbsPath = "/etc/openldap/slapd.d"
    service: LDAPService | None = None
    # The user slapd runs as (owner of its TLS key and data); None keeps root.
    run_as: str | None = None
    # LMDB map size: slapd's default of 10 MiB is far too small for a Gluu directory.
    map_size: int = Field(4 * 1024**3, ge=64 * 1024**2)
    # Replication across these nodes; the replicator account lives under the first suffix.
    replicator_dn: DN | None = None
    # Delta-syncrepl (accesslog) is the default: plain syncrepl can lose a concurrent
    # change to another attribute of the same entry.
    delta_syncrepl: bool = True

    @property
    def suffix(self) -> str:
        return self.suffixes[0]

    @property
    def replicator(self) -> str:
        return self.replicator_dn or f"cn=replicator,{self.suffix}"


# --- file sync ----------------------------------------------------------------------

ConflictPolicy = Literal["none", "first", "younger", "older", "bigger", "smaller", "left", "right"]


class BackupSettings(_Model):
    directory: AbsPath = "/var/backups/csync2"
    # Versions of each file kept when sync overwrites or deletes it. csync2 keeps one
    # fewer than its backup-generations says, so the rendered value is this plus one.
    generations: int = Field(10, ge=1, le=100)


class SyncAction(_Model):
    pattern: list[AbsPath] = Field(default_factory=list)
    exec: str | None = None
    logfile: AbsPath = "/var/log/csync2_action.log"
    do_local: bool = True

    @field_validator("pattern", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SyncGroup(_Model):
    name: NodeName
    paths: list[AbsPath] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    conflict: ConflictPolicy = "younger"
    backup: BackupSettings = Field(default_factory=BackupSettings)
    actions: list[SyncAction] = Field(default_factory=list)


class FileSync(_Model):
    """csync2 runs inside each node's container, as the seed sets it up."""

    port: Port = 30865
    groups: Annotated[list[SyncGroup], _unique_by("name", "group name")] = Field(
        default_factory=list
    )
    # CSYNC2_SYSTEM_DIR: csync2.cfg, the pre-shared keys and the TLS key and certificate.
    config_dir: AbsPath = "/etc/csync2"
    database_dir: AbsPath = "/var/lib/csync2"
    # A change is sent this long after the last event of a burst (seconds).
    debounce: float = Field(0.1, ge=0.0, le=10)
    # The full run that catches anything the trigger missed (seconds).
    interval: int = Field(300, ge=10, le=86400)
    # After a run that left files dirty (a peer down), try again this often (seconds).
    retry: int = Field(5, ge=1, le=3600)
    # Every csync2 call is killed after this long (a stalled peer never answers).
    timeout: float = Field(30.0, gt=0, le=3600)
    # Install csync2 with the node's package manager where it is missing.
    install: bool = True


# --- certificates -------------------------------------------------------------------


_ALIAS_FIELDS = {"node", "stem", "set"}
GLUU_SETUP_PROPERTIES = "/install/community-edition-setup/setup.properties.last"


def _alias_template(value: str) -> str:
    fields = set(re.findall(r"{([^{}]*)}", value))
    if not fields <= _ALIAS_FIELDS or "{stem}" not in value:
        raise ValueError("must contain '{stem}' and may use only '{node}', '{stem}' and '{set}'")
    return value


class Truststore(_Model):
    path: AbsPath
    type: Literal["JKS", "PKCS12"] = "JKS"
    password: SecretRef
    # Gluu's own tooling names imported certificates '<host>_<component>'.
    alias: Annotated[str, AfterValidator(_alias_template)] = "{node}_{stem}"


class PasswordReference(_Model):
    """Where a node's own configuration keeps a key store password: a key=value file."""

    file: AbsPath = GLUU_SETUP_PROPERTIES
    key: str = Field(min_length=1)


class KeystoreRef(_Model):
    file: str = Field(min_length=1)
    password_from: PasswordReference

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value:
            raise ValueError("must be a file name inside the set's directory, without '/'")
        return value


def _gluu_keystores() -> list[KeystoreRef]:
    # Gluu CE 3.x: the IdP and Asimba key stores open with passwords from setup.properties.
    return [
        KeystoreRef(file="shibIDP.jks", password_from=PasswordReference(key="shibJksPass")),
        KeystoreRef(file="asimbaIDP.jks", password_from=PasswordReference(key="asimbaJksPass")),
    ]


class CertificateSet(_Model):
    name: NodeName
    directory: AbsPath = "/etc/certs"
    masks: list[str] = Field(min_length=1)
    source: str | None = None
    truststore: Truststore | None = None
    # Run inside the container on a node after its set or truststore changed.
    action: str | None = None
    keystores: Annotated[list[KeystoreRef], _unique_by("file", "key store")] = Field(
        default_factory=_gluu_keystores
    )

    @field_validator("masks")
    @classmethod
    def _plain_masks(cls, masks: list[str]) -> list[str]:
        for mask in masks:
            if not mask or "/" in mask:
                raise ValueError(f"mask '{mask}' must be a file-name pattern without '/'")
        return masks


class Certificates(_Model):
    sets: Annotated[list[CertificateSet], _unique_by("name", "certificate set name")] = Field(
        default_factory=list
    )
    # Inside the container: every overwritten file and truststore is kept here first.
    backup_directory: AbsPath = "/var/backups/gluu-cluster/certs"
    warn_days: int = Field(30, ge=1, le=3650)


# --- nodes and cluster --------------------------------------------------------------


class Preflight(_Model):
    """What ``check`` requires of every node; defaults are the seed's requirements."""

    min_cpus: int = Field(default=2, ge=1)
    min_memory_gb: float = Field(default=8, gt=0)
    min_root_gb: float = Field(default=40, gt=0)
    # csync2's `auto younger` decides by mtime: clocks must agree closely.
    max_clock_skew: float = Field(default=1.0, gt=0)
    properties_file: AbsPath = GLUU_SETUP_PROPERTIES
    # Keys that must hold the same value on every node (the seed's "Optional actions").
    same_properties: list[str] = Field(default_factory=lambda: [
        "ldapPass", "shibJksPass", "asimbaJksPass", "encode_salt", "oxauth_openid_jks_pass",
        "inumOrg", "inumAppliance"])
    version_key: str = "oxVersion"
    port_timeout: float = Field(default=3.0, gt=0)


class PKISettings(_Model):
    # Where the cluster CA lives (key 0600), relative to the inventory file.
    directory: str = "pki"


class Host(_Model):
    """A machine the tool reaches like a node (SSH or local): a node, or a host of its own
    for the load balancer or the cache."""

    name: NodeName
    address: Address
    # 'local' manages the machine the tool runs on without SSH.
    connection: Literal["ssh", "local"] = "ssh"
    ssh: SSHOverride | None = None
    container_root: AbsPath | None = None


class Node(Host):
    # OpenDJ's replication port on this node, when not ldap.opendj.replication_port.
    replication_port: Port | None = None


# --- the Gluu layer: applications, cache, load balancer -----------------------------

GLUU_LDAP_PROPERTIES = ("/etc/gluu/conf/ox-ldap.properties", "/etc/gluu/conf/gluu-ldap.properties")


class GluuApps(_Model):
    """The Gluu applications on each node (apps/): their LDAP connection settings name
    the node's own server first, then its peers."""

    # Gluu 3.x has ox-ldap.properties, 4.x gluu-ldap.properties: whichever exist are kept.
    ldap_properties: list[AbsPath] = Field(default_factory=lambda: list(GLUU_LDAP_PROPERTIES),
                                           min_length=1)
    # Jobs that must run on one node only (oxTrust's cache refresh); default: the primary.
    cache_refresh_node: NodeName | None = None


class CacheSettings(_Model):
    """The shared cache (cache/): Redis on a node or on a host of its own, reached over TLS
    only (Redis's own TLS, its certificate issued by the cluster CA); 'none' keeps each
    node's in-memory cache."""

    type: Literal["none", "redis"] = "none"
    node: NodeName | None = None  # Redis on this node ...
    host: Host | None = None  # ... or on a host of its own
    port: Port = 16379  # TLS only: Redis's plaintext port is off
    password: SecretRef | None = None
    max_memory_mb: int = Field(256, ge=16, le=1024 * 1024)

    @model_validator(mode="after")
    def _where(self) -> CacheSettings:
        if self.type == "none":
            return self
        if (self.node is None) == (self.host is None):
            raise ValueError("a redis cache needs exactly one of 'node' or 'host'")
        if self.password is None:
            raise ValueError("a redis cache needs a 'password' (a secret reference)")
        return self


class BalancerSettings(_Model):
    """The load balancer (balancer/): nginx on a host of its own in front of the nodes."""

    host: Host
    port: Port = 443
    # Where each node's Gluu web server (Apache in front of the applications) listens.
    node_port: Port = 443
    # Paths whose requests stay on one node (Gluu docs' cluster nginx: oxTrust, the IdP
    # and Passport keep state in the node's memory); the rest (oxAuth) goes round robin.
    sticky_paths: list[str] = Field(default_factory=lambda: ["/identity", "/idp", "/passport"])
    # A node that fails this many requests in a row is left out for fail_timeout seconds.
    max_fails: int = Field(2, ge=1, le=100)
    fail_timeout: int = Field(10, ge=1, le=3600)

    @field_validator("sticky_paths")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", path):
                raise ValueError(f"'{path}' is not a URL path (letters, digits, '/', '.', '_', '-')")
        return paths


class AlertSettings(_Model):
    """Where 'serve' reports a change of state (web/alerts.py): a command that reads the
    event as JSON on stdin, and/or an HTTP POST of the same JSON. Each event is delivered
    once per hook, retried on failure, from a bounded queue the refresh loop never waits on."""

    command: list[str] | None = Field(None, min_length=1)  # argv; argv[0] an absolute path
    url: str | None = None
    token: SecretRef | None = None  # sent to the URL as 'Authorization: Bearer ...'
    retries: int = Field(3, ge=0, le=20)  # further tries after a failed delivery
    timeout: float = Field(10, gt=0, le=300)  # seconds per try
    queue: int = Field(100, ge=1, le=100_000)  # events waiting per hook; the oldest dropped

    @field_validator("command")
    @classmethod
    def _argv(cls, argv: list[str] | None) -> list[str] | None:
        if argv is not None and not argv[0].startswith("/"):
            raise ValueError(f"'{argv[0]}' must be an absolute path (a list: program, then "
                             "its arguments; no shell)")
        return argv

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is not None and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url):
            raise ValueError(f"'{url}' is not an http:// or https:// URL")
        return url

    @model_validator(mode="after")
    def _token_needs_url(self) -> AlertSettings:
        if self.token is not None and self.url is None:
            raise ValueError("'token' is sent to 'url': give the url too")
        return self


class Inventory(_Model):
    cluster: NodeName
    primary: str | None = None
    container_root: AbsPath = "/"
    ssh: SSHSettings = Field(default_factory=SSHSettings)
    nodes: Annotated[
        list[Node], _unique_by("name", "node name"), _unique_by("address", "node address")
    ] = Field(min_length=1, max_length=64)
    ldap: LDAPSettings | None = None
    file_sync: FileSync = Field(default_factory=FileSync)
    certificates: Certificates = Field(default_factory=Certificates)
    pki: PKISettings = Field(default_factory=PKISettings)
    preflight: Preflight = Field(default_factory=Preflight)
    gluu: GluuApps = Field(default_factory=GluuApps)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    load_balancer: BalancerSettings | None = None
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    # Set by the loader, not by the file: where relative paths are resolved from.
    _source_path: Path = PrivateAttr(default=Path("cluster.yaml").resolve())

    @model_validator(mode="after")
    def _references(self) -> Inventory:
        names = [n.name for n in self.nodes]
        if self.primary is not None and self.primary not in names:
            raise _KeyError("primary", f"'{self.primary}' is not one of the nodes ({', '.join(names)})")
        for i, cert_set in enumerate(self.certificates.sets):
            if cert_set.source is not None and cert_set.source not in names:
                raise _KeyError(
                    f"certificates.sets[{i}].source",
                    f"'{cert_set.source}' is not one of the nodes ({', '.join(names)})",
                )
        refs = [("gluu.cache_refresh_node", self.gluu.cache_refresh_node),
                ("cache.node", self.cache.node)]
        for key, value in refs:
            if value is not None and value not in names:
                raise _KeyError(key, f"'{value}' is not one of the nodes ({', '.join(names)})")
        taken = {n.name: "a node" for n in self.nodes}
        taken_at = {n.address: "a node" for n in self.nodes}
        for key, host in self.service_hosts().items():
            for value, seen in ((host.name, taken), (host.address, taken_at)):
                if value in seen:
                    raise _KeyError(f"{key}", f"'{value}' is already used by {seen[value]}")
                seen[value] = key
        return self

    # --- derived views --------------------------------------------------------------

    @property
    def source_path(self) -> Path:
        return self._source_path

    @property
    def base_dir(self) -> Path:
        return self._source_path.parent

    @property
    def primary_node(self) -> Node:
        if self.primary is None:
            return self.nodes[0]
        return next(n for n in self.nodes if n.name == self.primary)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise InventoryError(
            f"{self.source_path.name}: no node named '{name}' "
            f"(known: {', '.join(n.name for n in self.nodes)})"
        )

    def service_hosts(self) -> dict[str, Host]:
        """The hosts of their own (not nodes) the tool reaches, by inventory key."""
        hosts: dict[str, Host] = {}
        if self.load_balancer is not None:
            hosts["load_balancer.host"] = self.load_balancer.host
        if self.cache.host is not None:
            hosts["cache.host"] = self.cache.host
        return hosts

    def cache_host(self) -> Host | None:
        """Where Redis runs: its own host, or the node the inventory names; None without a
        cache."""
        if self.cache.type == "none":
            return None
        if self.cache.host is not None:
            return self.cache.host
        assert self.cache.node is not None  # the section's validator requires one of them
        return self.node(self.cache.node)

    @property
    def cache_refresh_node(self) -> Node:
        name = self.gluu.cache_refresh_node
        return self.node(name) if name is not None else self.primary_node

    def container_root_of(self, node: Host) -> str:
        """A node's Gluu container (the cluster's default); a host of its own: its root
        unless it says otherwise."""
        default = self.container_root if isinstance(node, Node) else "/"
        return node.container_root or default

    def source_of(self, cert_set: CertificateSet) -> Node:
        return self.node(cert_set.source) if cert_set.source else self.primary_node

    def ssh_for(self, node: Host) -> SSHSettings:
        if node.ssh is None:
            return self.ssh
        overrides = node.ssh.model_dump(exclude_none=True)
        return self.ssh.model_copy(update=overrides)

    def local_path(self, path: str) -> Path:
        """A path on the machine running the tool, relative to the inventory file."""
        return (self.base_dir / Path(path).expanduser()).resolve()


class _KeyError(ValueError):
    """A cross-field error that belongs to a specific key path, not to the whole model."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


# --- loading ------------------------------------------------------------------------

_MESSAGES = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (check its spelling)",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "dict_type": "must be a mapping",
}


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _parse_loc(key: str) -> tuple[int | str, ...]:
    parts: list[int | str] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


Loc = tuple[int | str, ...]


def _line_index(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, int]]:
    """Yield (key path, 1-based line) for every mapping key and sequence item."""
    yield loc, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_loc = (*loc, str(key_node.value))
            yield key_loc, key_node.start_mark.line + 1
            for sub in _line_index(value_node, key_loc):
                if sub[0] != key_loc:
                    yield sub
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _line_index(item, (*loc, i))


def _line_for(lines: dict[tuple[int | str, ...], int], loc: tuple[int | str, ...]) -> int:
    # A missing key has no line of its own: point at the closest enclosing one.
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _message(error: Any) -> str:
    ctx = error.get("ctx") or {}
    msg = str(error["msg"])
    if error["type"] == "value_error":
        return str(ctx.get("error", error["msg"]))
    if error["type"] == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if error["type"] in ("too_short", "too_long"):
        return msg.replace("List", "list").replace("Value", "value")
    return _MESSAGES.get(error["type"], msg)


def _loc_of(error: Any) -> tuple[int | str, ...]:
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _KeyError):
        return (*loc, *_parse_loc(inner.key))
    return loc


def _read(path: Path) -> tuple[Any, yaml.Node]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InventoryError(f"{path}: no such inventory file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"{path}: cannot read the inventory: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InventoryError(f"{name}:{line}: YAML syntax error: {problem}") from exc
    if root is None or not isinstance(data, dict):
        raise InventoryError(
            f"{name}:1: the inventory must be a YAML mapping with 'cluster' and 'nodes'"
        )
    return data, root


def check_inventory(path: str | Path) -> tuple[Inventory | None, list[str]]:
    """Validate a file: the inventory, or every problem found, one line each."""
    path = Path(path)
    data, root = _read(path)
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        lines = dict(_line_index(root))
        problems = []
        for error in exc.errors():
            loc = _loc_of(error)
            where = _format_loc(loc) or "(top level)"
            problems.append(f"{path.name}:{_line_for(lines, loc)} {where}: {_message(error)}")
        return None, problems
    inventory._source_path = path.resolve()
    return inventory, []


def _secret_refs(value: object, where: str) -> list[tuple[str, SecretRef]]:
    """Every secret reference in the inventory, with the key that names it."""
    if isinstance(value, SecretRef):
        return [(where, value)]
    found: list[tuple[str, SecretRef]] = []
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found += _secret_refs(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found += _secret_refs(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _secret_refs(item, f"{where}.{key}")
    return found


def secret_problems(inventory: Inventory) -> list[str]:
    """One line per secret the inventory names that cannot be used as it is (missing,
    unreadable, readable by group or others, empty, an unset variable): each secret
    once, however many keys name it. Values are read, checked and forgotten here."""
    problems: list[str] = []
    seen: set[str] = set()
    for where, ref in _secret_refs(inventory, ""):
        if ref.describe() in seen:
            continue
        seen.add(ref.describe())
        try:
            ref.resolve(inventory.base_dir)
        except SecretError as exc:
            problems.append(f"{where}: {exc}")
    return problems


def load_inventory(path: str | Path) -> Inventory:
    """The validated inventory; an InventoryError naming the first problem otherwise."""
    inventory, problems = check_inventory(path)
    if inventory is None:
        more = len(problems) - 1
        suffix = f" (and {more} more: run 'gluu-cluster validate')" if more else ""
        raise InventoryError(problems[0] + suffix)
    return inventory
