"""csync2 on one node: its managed files, the supervisor process, peer pins, the markers.

Everything lives inside the node's Gluu container, as the seed sets csync2 up.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import posixpath
import re
import secrets
import string
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..boot.facts import InitSystem
from ..inventory import FileSync, Inventory
from ..pki.ca import ClusterCA
from ..secrets import write_secret_file
from ..transport import Transport
from .csync2 import SUPERVISOR_NAME
from .render import csync2_cfg, supervisor_env
from .service import (
    SCRIPT_PATH,
    UNIT_PATH,
    definition_path,
    definition_text,
    state_dir,
)

KEY_ALPHABET = string.ascii_letters + string.digits + "._"
TLS_KEY, TLS_CERT = "csync2_ssl_key.pem", "csync2_ssl_cert.pem"


def supervisor_script() -> str:
    return importlib.resources.files(__package__).joinpath("supervisor.sh").read_text()


def tls_paths(settings: FileSync) -> tuple[str, str]:
    """(key, certificate) where csync2 looks for them: CSYNC2_SYSTEM_DIR, fixed names."""
    return (posixpath.join(settings.config_dir, TLS_KEY),
            posixpath.join(settings.config_dir, TLS_CERT))


def database_file(settings: FileSync, node: str) -> str:
    # csync2 names its SQLite file after -N and the config name ("csync2" is the default).
    return posixpath.join(settings.database_dir, f"{node}.db3")


def group_key(inventory: Inventory, group: str, *, create: bool) -> str | None:
    """The group's pre-shared key, kept beside the cluster CA (0600); made once, by apply
    (``create``), reused after. None when it is not made yet."""
    path = inventory.local_path(inventory.pki.directory) / f"csync2-{group}.key"
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        write_secret_file(path, "".join(secrets.choice(KEY_ALPHABET) for _ in range(64)))
    return path.read_text().strip()


@dataclass(frozen=True)
class ManagedFile:
    path: str
    content: bytes | None  # None: a key apply makes first (planning makes nothing)
    mode: int
    secret: bool = False  # never shown, never logged

    @property
    def sha256(self) -> str | None:
        return None if self.content is None else hashlib.sha256(self.content).hexdigest()


def managed_paths(inventory: Inventory) -> list[str]:
    """The paths of config_files(), without rendering them (what the facts read)."""
    base = inventory.file_sync.config_dir
    return ([posixpath.join(base, "csync2.cfg"), posixpath.join(base, f"{SUPERVISOR_NAME}.env"),
             posixpath.join(base, SUPERVISOR_NAME), SCRIPT_PATH, UNIT_PATH]
            + [posixpath.join(base, f"{g.name}.key") for g in inventory.file_sync.groups])


def config_files(inventory: Inventory, node: str, init: InitSystem, *,
                 create_keys: bool) -> list[ManagedFile]:
    """Everything but the TLS pair (issued per node) that the node's csync2 dir holds, and
    the daemon's service definition for the node's init system."""
    settings = inventory.file_sync
    base = settings.config_dir
    files = [
        ManagedFile(posixpath.join(base, "csync2.cfg"), csync2_cfg(inventory).encode(), 0o644),
        ManagedFile(posixpath.join(base, f"{SUPERVISOR_NAME}.env"),
                    supervisor_env(inventory, node).encode(), 0o644),
        ManagedFile(posixpath.join(base, SUPERVISOR_NAME), supervisor_script().encode(), 0o755),
        ManagedFile(definition_path(init), definition_text(settings, init).encode(),
                    0o644 if init is InitSystem.SYSTEMD else 0o755),
    ]
    for g in settings.groups:
        key = group_key(inventory, g.name, create=create_keys)
        files.append(ManagedFile(posixpath.join(base, f"{g.name}.key"),
                                 None if key is None else (key + "\n").encode(), 0o600, secret=True))
    return files


def tls_problem(ca: ClusterCA | None, cert_file: bytes | None, name: str, address: str) -> str | None:
    if ca is None:
        return "no cluster CA yet"
    why = ca.check_node_cert(cert_file, name, address)
    if why is None and cert_file is not None and ca.cert_pem not in cert_file:
        return "the certificate file lacks the CA certificate (csync2 needs cert + CA)"
    return why


def cert_der_hex(cert_file: bytes) -> str:
    """How csync2 pins a peer: its certificate's DER bytes in upper-case hex."""
    cert = x509.load_pem_x509_certificate(cert_file)
    return cert.public_bytes(serialization.Encoding.DER).hex().upper()


# --- pins and markers ---------------------------------------------------------------------


async def set_pins(container: Transport, settings: FileSync, pins: dict[str, str]) -> None:
    """Pin each peer's current certificate, so a re-issued one is accepted, not refused.

    sqlite3's shell has no bound parameters on standard input: values go in as SQL string
    literals, quoted here (and a certificate is hex by construction, checked anyway)."""
    sql = "BEGIN;\n" + "".join(
        f"DELETE FROM x509_cert WHERE peername = {_sql_text(peer)};\n"
        f"INSERT INTO x509_cert (peername, certdata) VALUES ({_sql_text(peer)}, "
        f"{_sql_text(_hex(der_hex))});\n"
        for peer, der_hex in sorted(pins.items())) + "COMMIT;\n"
    await container.run(["sqlite3", "-cmd", ".timeout 10000",
                         database_file(settings, container.node)], stdin=sql, timeout=60)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _hex(value: str) -> str:
    if not re.fullmatch(r"[0-9A-F]+", value):
        raise ValueError("a certificate pin must be upper-case hex")
    return value


def marker(settings: FileSync) -> str:
    return posixpath.join(state_dir(settings), "initialised")
