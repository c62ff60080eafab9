"""apply on the balancer's host: nginx installed, its configuration and certificate
written, nginx started or reloaded (gracefully)."""

from __future__ import annotations

from dataclasses import dataclass

from ..boot.daemons import install_definition
from ..boot.facts import InitSystem
from ..boot.steps import DaemonBootStep
from ..connection import NodeHandle
from ..errors import NodeCheckError
from ..packages import PackageInstallStep
from ..plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step
from .facts import BALANCER_BOOT_FACTS, BALANCER_FACTS, WEB_CERT_FACTS, BalancerFacts
from .render import (
    CERT,
    CONF,
    CONF_DIR,
    ERROR_LOG,
    KEY,
    LOG_DIR,
    NGINX,
    NODE_CERT,
    NODE_KEY,
    TEMP_DIR,
    nginx_conf,
)

# The distribution's nginx without extra modules (Debian: nginx-light).
PACKAGES = {"apt-get": ["nginx-light"], "dnf": ["nginx"], "yum": ["nginx"]}

# $1 the new configuration (already written beside the live one), $2 the live one,
# $3 the error log. Tested first: a wrong file never replaces a working one.
SWITCH = r"""
set -e
new=$1 conf=$2
if ! out=$(nginx -e "$3" -t -q -c "$new" 2>&1); then
  rm -f -- "$new"; echo "the new configuration fails 'nginx -t': $out" >&2; exit 1
fi
mv -f -- "$new" "$conf"
"""


class BalancerInstallStep(PackageInstallStep):
    name = "balancer-install"
    title = "nginx installed on the balancer"
    scope = "balancer"
    reads = touches = (BALANCER_FACTS,)
    area = BALANCER_FACTS
    program = "nginx"
    packages = PACKAGES

    def installed(self, facts: BalancerFacts) -> bool:
        return facts.nginx

    def manager(self, facts: BalancerFacts) -> str | None:
        return facts.package_manager


@dataclass(frozen=True)
class ConfigPayload(Payload):
    conf: str | None  # None: the file is right
    cert_from: str | None  # the node whose web server key pair to copy; None: it is right
    start: bool  # nginx is not running
    init: InitSystem  # the host's: nginx runs as its service
    definition: str | None  # the service's definition to write; None: it is right


class BalancerConfigStep(Step):
    name = "balancer-config"
    title = "balancer configuration (nodes, drained ones, TLS) in force"
    scope = "balancer"
    tools = ("nginx", "mv", "kill")
    reads = (BALANCER_FACTS, WEB_CERT_FACTS, BALANCER_BOOT_FACTS)
    touches = (BALANCER_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts = await run.facts.of(BALANCER_FACTS, handle)
        init = (await run.facts.of(BALANCER_BOOT_FACTS, handle)).init
        source = run.cluster.handle(run.inventory.primary_node.name)
        cert = await run.facts.of(WEB_CERT_FACTS, source)
        if cert is None:
            return Blocked(handle.name, self.name,
                           f"{source.name} has no readable web server certificate {NODE_CERT}",
                           "put Gluu's httpd certificate there (the certificate sets copy it "
                           "to every node)")
        wanted = nginx_conf(run.inventory, facts.drained, cert.name)
        details = []
        conf = None if facts.conf == wanted else wanted
        if conf is not None:
            details.append(f"{CONF}: {'written' if facts.conf is None else 'rewritten'} "
                           f"({len(run.inventory.nodes)} nodes"
                           + (f", drained: {', '.join(sorted(facts.drained))}" if facts.drained
                              else "") + ")")
        cert_from = None if facts.cert_sha256 == cert.sha256 else source.name
        if cert_from is not None:
            details.append(f"{CERT}, {KEY}: the web server key pair of {source.name}")
        definition = NGINX.stale_definition(init, facts.definitions)
        if definition is not None:
            details.append(f"{NGINX.path(init)}: nginx as a service of the host's {init.value} "
                           "init")
        start = facts.pid is None
        if start:
            details.append("start nginx")
        elif conf is not None or cert_from is not None or definition is not None:
            details.append("reload nginx (graceful: requests under way finish)")
        if not details:
            return NoOp(handle.name, self.name, f"nginx (PID {facts.pid}) runs the current "
                        "configuration")
        return Change(handle.name, self.name, "balancer configuration in force", tuple(details),
                      payload=ConfigPayload(conf, cert_from, start, init, definition))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, ConfigPayload)
        payload, box = change.payload, handle.container
        await box.run(["mkdir", "-p", CONF_DIR, LOG_DIR, TEMP_DIR], timeout=30)
        if payload.cert_from is not None:
            source = run.cluster.handle(payload.cert_from).container
            for path, target, mode in ((NODE_CERT, CERT, 0o644), (NODE_KEY, KEY, 0o600)):
                data = await source.read_file(path, timeout=30)
                if data is None:
                    raise NodeCheckError(payload.cert_from, f"{path} is gone; put Gluu's httpd "
                                         "key pair back and run apply again")
                await box.write_file(target, data, mode=mode)
        conf = payload.conf
        if conf is None:  # only the certificate or the process: the file as it is
            conf = (await box.read_file(CONF, timeout=30) or b"").decode()
        await box.write_file(CONF + ".new", conf, mode=0o644)
        done = await box.run(["sh", "-c", SWITCH, "gluu-balancer-switch", CONF + ".new", CONF,
                              ERROR_LOG], timeout=60, check=False)
        if not done.ok:
            raise NodeCheckError(handle.name, f"nginx: {done.first_error_line()}; the running "
                                 "configuration was kept")
        if payload.definition is not None:
            await install_definition(handle, NGINX, payload.init, payload.definition)
        # Graceful: old workers finish the requests they have; the script starts a
        # stopped nginx instead.
        done = await box.run(NGINX.control(payload.init, "reload"), timeout=60, check=False)
        if not done.ok:
            verb = "start" if payload.start else "reload"
            raise NodeCheckError(handle.name, f"nginx did not {verb}: "
                                 f"{done.first_error_line()}; read {ERROR_LOG}")


class BalancerBootStep(DaemonBootStep):
    name = "balancer-boot"
    title = "nginx started when the balancer boots"
    scope = "balancer"
    reads = touches = (BALANCER_BOOT_FACTS,)
    area = BALANCER_BOOT_FACTS
    daemon = NGINX


def balancer_steps() -> list[Step]:
    return [BalancerInstallStep(), BalancerConfigStep(), BalancerBootStep()]
