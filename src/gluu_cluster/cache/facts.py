"""The cache host's Redis, and each node's view of the cache (PING over TLS)."""

from __future__ import annotations

from dataclasses import dataclass

from ..boot.daemons import DEFINITIONS_SCRIPT, Daemon, definition_digests
from ..connection import NodeHandle
from ..facts.cache import ScriptArea
from ..facts.script import Sections
from ..inventory import Inventory
from ..packages import MANAGER_PROBE, known_manager
from .render import CERT, CLIENT_CA, CLIENT_PASSWORD, CONF, PID_FILE, USER, cache_host, redis_daemon

# $1 config, $2 PID file, $3 certificate, $4 the package's user, $5 and $6 the service's
# SysV script and systemd unit. The configuration holds the password: only its digest
# leaves the host.
HOST_SCRIPT = MANAGER_PROBE + DEFINITIONS_SCRIPT + r"""
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
digest() { [ -e "$1" ] || return 3; stat -c %a -- "$1" && sha256sum < "$1"; }
running() {
  [ -e "$1" ] || return 3
  pid=$(cat -- "$1") && [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 1
  # A killed daemon nobody reaped yet still answers kill -0: its state says Z.
  case $(sed 's/.*) //' "/proc/$pid/stat" 2> /dev/null) in Z*|"") return 1 ;; esac
  echo "$pid"
}
section redis command -v redis-server
section manager manager
section conf digest "$1"
section pid running "$2"
section cert present "$3"
section user id -u "$4"
definitions "$5" "$6"
"""


def _digest(section_out: str, ok: bool) -> tuple[int, str] | None:
    parts = section_out.split()
    if not ok or len(parts) < 2 or not parts[0].isdigit():
        return None
    return int(parts[0], 8), parts[1]


@dataclass(frozen=True)
class CacheHostFacts:
    redis: bool
    package_manager: str | None
    conf: tuple[int, str] | None  # (mode, sha256)
    pid: int | None
    cert: bytes | None
    has_user: bool  # the package's user exists: Redis runs as it
    definitions: dict[str, str]  # init system -> sha256 of the service's definition

    @property
    def daemon(self) -> Daemon:
        return redis_daemon(self.has_user)


def parse_host(_host: str, _inventory: Inventory, sections: Sections) -> CacheHostFacts:
    pid = sections["pid"].out.strip()
    return CacheHostFacts(
        redis=sections["redis"].ok,
        package_manager=known_manager(sections["manager"].out.strip()),
        conf=_digest(sections["conf"].out, sections["conf"].ok),
        pid=int(pid) if sections["pid"].ok and pid.isdigit() else None,
        cert=sections["cert"].stdout if sections["cert"].ok else None,
        has_user=sections["user"].ok,
        definitions=definition_digests(sections))


CACHE_HOST_FACTS = ScriptArea(
    "cache-host", HOST_SCRIPT,
    lambda _h, _i, _d: [CONF, PID_FILE, CERT, USER, *redis_daemon(True).definition_paths()],
    parse_host, scope="cache")
# The host's init system and whether Redis's service starts at boot.
# (The service's name and paths are the same whether Redis runs as its own user or not.)
CACHE_BOOT_FACTS = redis_daemon(True).boot_facts("boot-cache", "cache")

# $1 CA, $2 password file, $3 cache address, $4 port. The password goes to redis-cli in
# its environment (REDISCLI_AUTH), never in its arguments.
CLIENT_SCRIPT = r"""
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
digest() { [ -e "$1" ] || return 3; stat -c %a -- "$1" && sha256sum < "$1"; }
ask() {
  command -v redis-cli > /dev/null 2>&1 || return 4
  [ -r "$2" ] || return 3
  REDISCLI_AUTH=$(cat -- "$2") timeout 10 redis-cli --no-auth-warning --tls --cacert "$1" \
    -h "$3" -p "$4" "$5" $6
}
section redis-cli command -v redis-cli
section manager manager
section ca present "$1"
section password digest "$2"
section ping ask "$@" PING
section memory ask "$@" INFO memory
"""


@dataclass(frozen=True)
class CacheClientFacts:
    redis_cli: bool
    package_manager: str | None
    ca: bytes | None
    password: tuple[int, str] | None  # (mode, sha256)
    ping: str  # "PONG", or what went wrong
    used_memory: int | None
    max_memory: int | None


def parse_ping(exit_code: int, out: str, err: str) -> str:
    text = (out.strip() or err.strip()).splitlines()
    first = text[0] if text else ""
    if exit_code == 0 and first == "PONG":
        return "PONG"
    if exit_code == 4:
        return "redis-cli is not installed"
    if exit_code == 3:
        return "no cache password file"
    if exit_code == 124:
        return "no answer within 10 s"
    return first or f"redis-cli exited with {exit_code}"


def parse_memory(out: str) -> tuple[int | None, int | None]:
    values = dict(line.strip().split(":", 1) for line in out.splitlines() if ":" in line)
    used, top = values.get("used_memory", ""), values.get("maxmemory", "")
    return (int(used) if used.isdigit() else None, int(top) if top.isdigit() else None)


def parse_client(_node: str, _inventory: Inventory, sections: Sections) -> CacheClientFacts:
    ping = sections["ping"]
    used, top = parse_memory(sections["memory"].out) if sections["memory"].ok else (None, None)
    return CacheClientFacts(
        redis_cli=sections["redis-cli"].ok,
        package_manager=known_manager(sections["manager"].out.strip()),
        ca=sections["ca"].stdout if sections["ca"].ok else None,
        password=_digest(sections["password"].out, sections["password"].ok),
        ping=parse_ping(ping.exit_code, ping.out, ping.stderr.decode("utf-8", "replace")),
        used_memory=used, max_memory=top)


def _client_args(_handle: NodeHandle, inventory: Inventory, _down: frozenset[str]) -> list[str]:
    host = cache_host(inventory)
    return [CLIENT_CA, CLIENT_PASSWORD, host.address, str(inventory.cache.port)]


CACHE_CLIENT_FACTS = ScriptArea("cache-client", MANAGER_PROBE + CLIENT_SCRIPT, _client_args,
                                parse_client)
