"""apply for the shared cache: Redis installed and configured (TLS from the cluster CA,
the password) on its host, then every node given what its clients need to reach it."""

from __future__ import annotations

from dataclasses import dataclass

from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..inventory import Inventory
from ..packages import PackageInstallStep, install
from ..pki.ca import ClusterCA, cluster_ca
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .facts import CACHE_CLIENT_FACTS, CACHE_HOST_FACTS, CacheHostFacts
from .render import (
    CA,
    CERT,
    CLIENT_CA,
    CLIENT_DIR,
    CLIENT_PASSWORD,
    CONF,
    CONF_DIR,
    DATA_DIR,
    KEY,
    LOG_DIR,
    PID_FILE,
    RUN_DIR,
    USER,
    cache_host,
    redis_conf,
    sha256,
)

SERVER_PACKAGES = {"apt-get": ["redis-server"], "dnf": ["redis"], "yum": ["redis"]}
CLIENT_PACKAGES = {"apt-get": ["redis-tools"], "dnf": ["redis"], "yum": ["redis"]}

# $1 PID file, $2 config, $3 user (or ""): stop the running Redis (SIGTERM, waiting for
# it to end), then start it on the config, as the package's user where there is one.
RESTART = r"""
pidfile=$1 conf=$2 user=$3
alive() {  # a killed process nobody reaped yet is not alive (state Z)
  kill -0 "$1" 2> /dev/null || return 1
  case $(sed 's/.*) //' "/proc/$1/stat" 2> /dev/null) in Z*|"") return 1 ;; esac
}
if [ -e "$pidfile" ]; then
  pid=$(cat -- "$pidfile")
  if [ -n "$pid" ] && alive "$pid"; then
    kill "$pid"
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
  fi
fi
if [ -n "$user" ] && id -u "$user" > /dev/null 2>&1; then
  setpriv --reuid="$user" --regid="$user" --init-groups redis-server "$conf"
else
  redis-server "$conf"
fi
"""


def _ca(inventory: Inventory, create: bool) -> ClusterCA | None:
    return cluster_ca(inventory.local_path(inventory.pki.directory), inventory.cluster, create)


def _password(inventory: Inventory) -> str:
    secret = inventory.cache.password
    assert secret is not None  # the inventory requires one for redis
    return secret.resolve(inventory.base_dir).reveal()


class CacheInstallStep(PackageInstallStep):
    name = "cache-install"
    title = "Redis installed on the cache host"
    scope = "cache"
    reads = touches = (CACHE_HOST_FACTS,)
    area = CACHE_HOST_FACTS
    program = "redis-server"
    packages = SERVER_PACKAGES

    def installed(self, facts: CacheHostFacts) -> bool:
        return facts.redis

    def manager(self, facts: CacheHostFacts) -> str | None:
        return facts.package_manager


@dataclass(frozen=True)
class ServerPayload(Payload):
    reissue: bool  # a new TLS key pair from the cluster CA
    restart: bool  # Redis reads its configuration at start


class CacheServerStep(Step):
    name = "cache-server"
    title = "Redis configured (TLS, password) and running"
    scope = "cache"
    tools = ("redis-server", "setpriv", "mkdir", "chown")
    reads = touches = (CACHE_HOST_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        facts = await run.facts.of(CACHE_HOST_FACTS, handle)
        host = cache_host(inventory)
        reasons = []
        ca = _ca(inventory, False)
        why = "no cluster CA yet" if ca is None else ca.check_node_cert(facts.cert, host.name,
                                                                       host.address)
        if why is not None:
            reasons.append(f"issue a TLS certificate from the cluster CA ({why})")
        wanted = sha256(redis_conf(inventory, _password(inventory)))
        if facts.conf is None or facts.conf[1] != wanted:
            reasons.append(f"write {CONF} (0600: it holds the password)")
        elif facts.conf[0] != 0o600:
            reasons.append(f"set {CONF} to mode 0600")
        restart = bool(reasons) or facts.pid is None
        if not reasons and not restart:
            return NoOp(handle.name, self.name, f"Redis (PID {facts.pid}) serves TLS on "
                        f"{host.address}:{inventory.cache.port}")
        if restart:
            reasons.append("start Redis" if facts.pid is None else
                           "restart Redis (it reads its configuration at start; the cache "
                           "is emptied: logins under way start again)")
        return Change(handle.name, self.name, f"Redis on {host.address}:{inventory.cache.port}",
                      tuple(reasons), payload=ServerPayload(why is not None, restart))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ServerPayload)
        inventory, box = run.inventory, handle.container
        host = cache_host(inventory)
        await box.run(["mkdir", "-p", CONF_DIR, RUN_DIR, LOG_DIR, DATA_DIR], timeout=30)
        has_user = (await box.run(["id", "-u", USER], timeout=30, check=False)).ok
        owner = f"{USER}:{USER}" if has_user else None
        if change.payload.reissue:
            ca = _ca(inventory, True)
            assert ca is not None
            issued = ca.issue(host.name, host.address)
            await box.write_file(KEY, issued.key_pem, mode=0o600, owner=owner)
            await box.write_file(CERT, issued.cert_pem, mode=0o644)
            await box.write_file(CA, ca.cert_pem, mode=0o644)
        await box.write_file(CONF, redis_conf(inventory, _password(inventory)), mode=0o600,
                             owner=owner)
        if owner is not None:
            await box.run(["chown", owner, RUN_DIR, LOG_DIR, DATA_DIR], timeout=30)
        if change.payload.restart:
            done = await box.run(["sh", "-c", RESTART, "gluu-cache-restart", PID_FILE, CONF,
                                  USER if has_user else ""], timeout=60, check=False)
            if not done.ok:
                raise NodeCheckError(handle.name, f"Redis did not start: "
                                     f"{done.first_error_line()}; read {LOG_DIR}/redis.log")


@dataclass(frozen=True)
class ClientPayload(Payload):
    install: str | None  # the package manager that installs redis-cli
    files: bool


class CacheClientStep(Step):
    """Every node gets the cluster CA and the cache password (0600): for status's PING, and
    for whatever reaches the cache outside Java (Gluu itself reads the password, encoded,
    from oxCacheConfiguration in LDAP)."""

    name = "cache-clients"
    title = "nodes reach the shared cache over TLS"
    reads = touches = (CACHE_CLIENT_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        facts = await run.facts.of(CACHE_CLIENT_FACTS, handle)
        ca = _ca(inventory, False)
        reasons = []
        install = None
        if not facts.redis_cli:
            if facts.package_manager is None:
                return Blocked(handle.name, self.name, "redis-cli is not installed",
                               "install the distribution's Redis tools (redis-tools)")
            install = facts.package_manager
            reasons.append(f"install {' '.join(CLIENT_PACKAGES[install])} with {install}")
        files = (ca is None or facts.ca != ca.cert_pem
                 or facts.password != (0o600, sha256(_password(inventory))))
        if files:
            reasons.append(f"write {CLIENT_DIR}: the cluster CA and the cache password (0600)")
        if not reasons:
            return NoOp(handle.name, self.name, "the node has the cluster CA and the cache password")
        return Change(handle.name, self.name, "settings to reach the shared cache",
                      tuple(reasons), payload=ClientPayload(install, files))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ClientPayload)
        inventory, box = run.inventory, handle.container
        if change.payload.install is not None:
            await install(handle, change.payload.install, CLIENT_PACKAGES[change.payload.install])
        if change.payload.files:
            ca = _ca(inventory, True)
            assert ca is not None
            await box.run(["mkdir", "-p", CLIENT_DIR], timeout=30)
            await box.write_file(CLIENT_CA, ca.cert_pem, mode=0o644)
            await box.write_file(CLIENT_PASSWORD, _password(inventory), mode=0o600)


def cache_steps() -> list[Step]:
    return [CacheInstallStep(), CacheServerStep(), CacheClientStep()]
