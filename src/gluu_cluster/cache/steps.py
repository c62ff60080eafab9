"""apply for the shared cache: Redis installed and configured (TLS from the cluster CA,
the password) on its host, then every node given what its clients need to reach it."""

from __future__ import annotations

from dataclasses import dataclass

from ..boot.daemons import install_definition
from ..boot.facts import InitSystem
from ..boot.steps import DaemonBootStep
from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..inventory import Inventory
from ..packages import PackageInstallStep, install
from ..pki.ca import inventory_ca
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .facts import CACHE_BOOT_FACTS, CACHE_CLIENT_FACTS, CACHE_HOST_FACTS, CacheHostFacts
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
    RUN_DIR,
    USER,
    cache_host,
    cache_password,
    redis_conf,
    redis_daemon,
    sha256,
)

SERVER_PACKAGES = {"apt-get": ["redis-server"], "dnf": ["redis"], "yum": ["redis"]}
CLIENT_PACKAGES = {"apt-get": ["redis-tools"], "dnf": ["redis"], "yum": ["redis"]}



def _password(inventory: Inventory) -> str:
    password = cache_password(inventory)
    assert password is not None  # these steps run only with a redis cache, which needs one
    return password


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
    conf: bool  # redis.conf to write
    action: str | None  # "start" | "restart" (Redis reads its configuration at start)
    init: InitSystem  # the host's: Redis runs as its service
    definition: str | None  # the service's definition to write; None: it is right


class CacheServerStep(Step):
    name = "cache-server"
    title = "Redis configured (TLS, password) and running"
    scope = "cache"
    tools = ("redis-server", "setpriv", "mkdir", "chown")
    reads = (CACHE_HOST_FACTS, CACHE_BOOT_FACTS)
    touches = (CACHE_HOST_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        inventory = run.inventory
        facts = await run.facts.of(CACHE_HOST_FACTS, handle)
        init = (await run.facts.of(CACHE_BOOT_FACTS, handle)).init
        host = cache_host(inventory)
        reasons = []
        ca = inventory_ca(inventory, False)
        why = "no cluster CA yet" if ca is None else ca.check_node_cert(facts.cert, host.name,
                                                                       host.address)
        if why is not None:
            reasons.append(f"issue a TLS certificate from the cluster CA ({why})")
        wanted = sha256(redis_conf(inventory, _password(inventory)))
        conf = facts.conf is None or facts.conf[1] != wanted or facts.conf[0] != 0o600
        if conf:
            reasons.append(f"write {CONF} (0600: it holds the password)")
        action = ("start" if facts.pid is None else "restart" if reasons else None)
        definition = facts.daemon.stale_definition(init, facts.definitions)
        if definition is not None:
            reasons.append(f"{facts.daemon.path(init)}: Redis as a service of the host's "
                           f"{init.value} init")
        if not reasons and action is None:
            return NoOp(handle.name, self.name, f"Redis (PID {facts.pid}) serves TLS on "
                        f"{host.address}:{inventory.cache.port}")
        if action == "start":
            reasons.append("start Redis")
        elif action == "restart":
            reasons.append("restart Redis (it reads its configuration at start; the cache "
                           "is emptied: logins under way start again)")
        return Change(handle.name, self.name, f"Redis on {host.address}:{inventory.cache.port}",
                      tuple(reasons),
                      payload=ServerPayload(why is not None, conf, action, init, definition))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ServerPayload)
        inventory, box = run.inventory, handle.container
        host = cache_host(inventory)
        await box.run(["mkdir", "-p", CONF_DIR, RUN_DIR, LOG_DIR, DATA_DIR], timeout=30)
        has_user = (await box.run(["id", "-u", USER], timeout=30, check=False)).ok
        owner = f"{USER}:{USER}" if has_user else None
        if change.payload.reissue:
            ca = inventory_ca(inventory, True)
            assert ca is not None
            issued = ca.issue(host.name, host.address)
            await box.write_file(KEY, issued.key_pem, mode=0o600, owner=owner)
            await box.write_file(CERT, issued.cert_pem, mode=0o644)
            await box.write_file(CA, ca.cert_pem, mode=0o644)
        if change.payload.conf:
            await box.write_file(CONF, redis_conf(inventory, _password(inventory)), mode=0o600,
                                 owner=owner)
        if owner is not None:
            await box.run(["chown", owner, RUN_DIR, LOG_DIR, DATA_DIR], timeout=30)
        daemon = redis_daemon(has_user)
        if change.payload.definition is not None:
            await install_definition(handle, daemon, change.payload.init, change.payload.definition)
        if change.payload.action is not None:
            done = await box.run(daemon.control(change.payload.init, change.payload.action),
                                 timeout=60, check=False)
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
        ca = inventory_ca(inventory, False)
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
            ca = inventory_ca(inventory, True)
            assert ca is not None
            await box.run(["mkdir", "-p", CLIENT_DIR], timeout=30)
            await box.write_file(CLIENT_CA, ca.cert_pem, mode=0o644)
            await box.write_file(CLIENT_PASSWORD, _password(inventory), mode=0o600)


class CacheBootStep(DaemonBootStep):
    name = "cache-boot"
    title = "Redis started when the cache host boots"
    scope = "cache"
    reads = touches = (CACHE_BOOT_FACTS,)
    area = CACHE_BOOT_FACTS
    daemon = redis_daemon(True)  # the service's name is the same either way


def cache_steps() -> list[Step]:
    return [CacheInstallStep(), CacheServerStep(), CacheBootStep(), CacheClientStep()]
