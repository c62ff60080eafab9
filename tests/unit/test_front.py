"""The Gluu layer without hosts: inventory sections, rendering, and the parsers and plans
on facts recorded from a lab with a real nginx and Redis in front (fixtures/front)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from gluu_cluster.apps.config import CACHE, IDP, REFRESH, GluuConfig, wanted_values
from gluu_cluster.apps.encode import decode, encode, parse_salt
from gluu_cluster.apps.facts import failover_list, parse_servers
from gluu_cluster.balancer.checks import balancer_status
from gluu_cluster.balancer.facts import BALANCER_FACTS, WEB_CERT_FACTS, cert_name
from gluu_cluster.balancer.render import NGINX, nginx_conf
from gluu_cluster.boot.facts import InitSystem
from gluu_cluster.cache.checks import cache_status
from gluu_cluster.cache.facts import CACHE_CLIENT_FACTS, CACHE_HOST_FACTS, parse_memory, parse_ping
from gluu_cluster.cache.render import redis_conf, redis_daemon
from gluu_cluster.connection import ClusterConnection
from gluu_cluster.errors import InventoryError
from gluu_cluster.facts.cache import FactCache
from gluu_cluster.filesync.render import csync2_cfg
from gluu_cluster.inventory import load_inventory
from gluu_cluster.lab.directory import CACHE_CONFIGURATION, IDP_AUTHENTICATION
from gluu_cluster.lab.keys import self_signed
from gluu_cluster.plan import Change, NoOp, Run, build_plan
from gluu_cluster.status.snapshot import ServiceState
from gluu_cluster.steps import default_steps
from gluu_cluster.transport.fake import FakeTransport
from tests.unit.recorded import recorded_cluster

FIXTURES = Path(__file__).parent / "fixtures"

BASE = """
cluster: c
nodes:
  - {name: n1, address: 10.0.0.1}
  - {name: n2, address: 10.0.0.2}
ldap:
  admin_password: {env: P}
"""


def inventory(tmp_path: Path, extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "cluster.yaml"
    path.write_text(BASE + extra)
    return load_inventory(path)


@pytest.mark.parametrize(("extra", "message"), [
    ("cache: {type: redis, password: {env: R}}", "exactly one of 'node' or 'host'"),
    ("cache: {type: redis, node: n1}", "needs a 'password'"),
    ("cache: {type: redis, node: n9, password: {env: R}}", "cache.node: 'n9' is not one of"),
    ("load_balancer: {host: {name: n1, address: 10.0.0.9}}",
     "load_balancer.host: 'n1' is already used by a node"),
    ("load_balancer: {host: {name: lb, address: 10.0.0.2}}",
     "load_balancer.host: '10.0.0.2' is already used by a node"),
    ("load_balancer: {host: {name: lb, address: 10.0.0.9}, sticky_paths: ['idp']}",
     "is not a URL path"),
    ("gluu: {cache_refresh_node: n7}", "gluu.cache_refresh_node: 'n7' is not one of"),
])
def test_a_wrong_front_section_names_its_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        inventory(tmp_path, extra)


def test_a_service_host_runs_at_its_root_and_a_node_in_the_gluu_container(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "container_root: /opt/gluu\n"
                              "load_balancer: {host: {name: lb, address: 10.0.0.9}}\n")
    assert inv.load_balancer is not None
    assert inv.container_root_of(inv.load_balancer.host) == "/"
    assert inv.container_root_of(inv.nodes[0]) == "/opt/gluu"
    assert inv.cache_refresh_node.name == "n1"


def test_the_failover_list_puts_the_node_itself_first(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "")
    assert failover_list(inv, "n2") == ("n2:1636", "n1:1636")
    assert parse_servers("servers: localhost:1636, b:1636\n") == ("localhost:1636", "b:1636")
    assert parse_servers("servers=a:1,b:2") == ("a:1", "b:2")


def test_a_synced_directory_never_carries_the_per_node_ldap_settings(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "file_sync:\n  groups:\n    - {name: g, paths: [/etc/gluu/conf, /opt/idp]}\n")
    cfg = csync2_cfg(inv)
    assert "exclude /etc/gluu/conf/ox-ldap.properties;" in cfg
    assert "exclude /etc/gluu/conf/gluu-ldap.properties;" in cfg
    other = inventory(tmp_path, "file_sync:\n  groups:\n    - {name: g, paths: [/opt/idp]}\n")
    assert "ox-ldap" not in csync2_cfg(other)


def test_nginx_marks_a_drained_node_down_in_both_upstreams(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "load_balancer: {host: {name: lb, address: 10.0.0.9}, node_port: 8443}\n")
    conf = nginx_conf(inv, frozenset({"n2"}), "idp.example.org")
    assert conf.count("server 10.0.0.2:8443 max_fails=2 fail_timeout=10s down;") == 2
    assert conf.count("server 10.0.0.1:8443 max_fails=2 fail_timeout=10s;") == 2
    assert "ip_hash;" in conf and "listen 10.0.0.9:443 ssl;" in conf
    assert "proxy_ssl_verify on;" in conf and "proxy_ssl_name idp.example.org;" in conf
    for path in ("/identity", "/idp", "/passport"):
        assert f"location {path} {{\n            proxy_pass https://gluu_nodes_sticky;" in conf


def test_the_balancer_checks_the_nodes_by_their_certificates_name() -> None:
    pair = self_signed("n1 httpd", "idp.example.org", "10.0.0.1")
    assert cert_name(pair.cert_pem) == "idp.example.org"


def test_redis_listens_with_tls_only_and_refuses_a_password_it_cannot_quote(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "cache: {type: redis, node: n2, password: {env: R}}\n")
    conf = redis_conf(inv, "s3cret")
    assert "port 0\n" in conf and "tls-port 16379\n" in conf and "bind 10.0.0.2\n" in conf
    assert 'requirepass "s3cret"' in conf and "save \"\"" in conf
    with pytest.raises(ValueError, match="quotes"):
        redis_conf(inv, 'a"b')


def test_redis_cli_answers_read_as_one_line_each() -> None:
    assert parse_ping(0, "PONG\n", "") == "PONG"
    assert parse_ping(0, "NOAUTH Authentication required.\n",
                      "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
                      ) == "NOAUTH Authentication required."
    assert parse_ping(1, "", "Could not connect to Redis at 10.0.0.5:16379: Connection refused\n"
                      ) == "Could not connect to Redis at 10.0.0.5:16379: Connection refused"
    assert parse_ping(4, "", "") == "redis-cli is not installed"
    assert parse_ping(124, "", "") == "no answer within 10 s"
    assert parse_memory("# Memory\r\nused_memory:1048576\r\nmaxmemory:268435456\r\n") == (
        1048576, 268435456)


def recorded_front(tmp_path: Path) -> ClusterConnection:
    """The recorded --front lab (node2 drained) as fake hosts answering with its facts."""
    return recorded_cluster("front", tmp_path)


def test_recorded_front_facts_parse_as_the_lab_had_them(tmp_path: Path) -> None:
    cluster = recorded_front(tmp_path)
    cache = FactCache(cluster)

    async def read():  # type: ignore[no-untyped-def]
        front, server = cluster.handle("front"), cluster.handle("cache")
        return (await cache.of(BALANCER_FACTS, front), await cache.of(CACHE_HOST_FACTS, server),
                await cache.of(CACHE_CLIENT_FACTS, cluster.handle("node1")),
                await cache.of(WEB_CERT_FACTS, cluster.handle("node1")),
                await balancer_status(cache), await cache_status(cache))

    lb, server, client, cert, lb_status, cache_row = asyncio.run(read())
    assert lb.nginx and lb.pid is not None and lb.conf_ok and lb.drained == {"node2"}
    assert server.redis and server.pid is not None and server.conf is not None
    assert server.conf[0] == 0o600
    assert client.ping == "PONG" and client.password is not None and client.password[0] == 0o600
    assert client.used_memory and client.max_memory == 256 * 1024 * 1024
    assert cert is not None and cert.name == "node1"
    assert lb_status is not None and lb_status.row.state is ServiceState.UP
    assert [p.code for p in lb_status.problems] == ["BALANCER-NODE-DRAINED"]
    assert cache_row is not None and cache_row[0].state is ServiceState.UP and not cache_row[1]


def test_a_converged_front_plans_nothing_and_a_changed_setting_reloads_nginx(
        tmp_path: Path) -> None:
    cluster = recorded_front(tmp_path)
    plan = asyncio.run(build_plan(default_steps(cluster.inventory), Run.start(cluster)))
    front = [o for o in plan.outcomes if o.node in ("front", "cache")]
    assert {o.step for o in front} == {"balancer-install", "balancer-config", "balancer-boot",
                                      "cache-install", "cache-server", "cache-boot"}
    assert all(isinstance(o, NoOp) for o in front), front
    assert all(isinstance(o, NoOp) for o in plan.outcomes
               if o.step in ("cache-clients", "apps-ldap-failover", "apps-ldap-config")), plan.outcomes

    path = tmp_path / "front" / "cluster.yaml"
    assert "max_fails" not in path.read_text()
    path.write_text(path.read_text().replace("  node_port: 8443", "  node_port: 8443\n  max_fails: 3"))
    changed = recorded_front_from(tmp_path, cluster)
    outcome = next(o for o in changed.outcomes if o.step == "balancer-config")
    assert isinstance(outcome, Change)
    assert any("rewritten" in d for d in outcome.details)
    assert "reload nginx (graceful: requests under way finish)" in outcome.details
    assert fakes_wrote_nothing(cluster)


def recorded_front_from(tmp_path: Path, cluster: ClusterConnection):  # type: ignore[no-untyped-def]
    """The same fake hosts planned against the edited inventory."""
    again = ClusterConnection(load_inventory(tmp_path / "front" / "cluster.yaml"))
    for handle in [*again.nodes, *again.services]:
        old = cluster.handle(handle.name)
        handle.host, handle.container = old.host, old.container
    return asyncio.run(build_plan(default_steps(again.inventory), Run.start(again)))


def fakes_wrote_nothing(cluster: ClusterConnection) -> bool:
    """Planning ran fact scripts only: no write, no other command."""
    for handle in [*cluster.nodes, *cluster.services]:
        fake = handle.host
        assert isinstance(fake, FakeTransport)
        for argv in fake.calls:
            assert any(a.startswith("gluu-facts-") for a in argv), argv
    return True


def test_gluu_encoding_round_trips_and_matches_gluus_own_scheme() -> None:
    salt = "8xFfTjUDNv0b9Hp6B0P0gCt4"
    assert parse_salt(f"encodeSalt = {salt}\n") == salt
    assert parse_salt("encodeSalt = short\n") is None
    # 3DES-ECB, PKCS#5, base64: the value Gluu's setup (pyDes) gives for this salt.
    assert encode(salt, "secret") == "LpQQ7JLiu9w="
    assert decode(salt, encode(salt, "pa:ss word")) == "pa:ss word"
    assert decode(salt, "not base64!") is None
    assert decode("0" * 24, encode(salt, "secret")) is None


def test_gluus_ldap_configuration_is_planned_from_what_setup_wrote(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "cache: {type: redis, host: {name: c, address: 10.0.0.5}, "
                              "password: {env: R}}\n")
    found = GluuConfig("ou=configuration,o=gluu", {
        IDP: (IDP_AUTHENTICATION, '{"type":"auth","config":{"configId":"other"}}'),
        CACHE: (CACHE_CONFIGURATION,), REFRESH: ("255.255.255.255",)})
    salt = "8xFfTjUDNv0b9Hp6B0P0gCt4"
    changes = wanted_values(found, inv, "redis-pw", salt)
    idp = [json.loads(v) for v in changes[IDP]]
    assert idp[0]["config"]["servers"] == ["n1:1636", "n2:1636"]
    assert idp[0]["config"]["bindDN"] == "cn=directory manager,o=gluu"
    assert idp[1] == {"type": "auth", "config": {"configId": "other"}}  # not Gluu's LDAP source
    cache = json.loads(changes[CACHE][0])
    assert cache["cacheProviderType"] == "REDIS"
    assert cache["redisConfiguration"]["servers"] == "10.0.0.5:16379"
    assert cache["redisConfiguration"]["useSSL"] is True
    assert decode(salt, cache["redisConfiguration"]["password"]) == "redis-pw"
    assert cache["inMemoryConfiguration"] == {"defaultPutExpiration": 60}  # the rest kept
    assert changes[REFRESH] == ("10.0.0.1",)
    done = GluuConfig(found.dn, {**found.values, **changes})
    assert wanted_values(done, inv, "redis-pw", salt) == {}
    assert set(wanted_values(done, inv, "another-pw", salt)) == {CACHE}


@pytest.mark.parametrize("init", list(InitSystem))
def test_a_front_daemons_service_definition(init: InitSystem, tmp_path: Path) -> None:
    daemon = redis_daemon(True)
    text = daemon.text(init)
    assert "setpriv --reuid=redis --regid=redis --init-groups redis-server " in text
    assert "/run/gluu-cluster-redis" in text  # made again at each start: /run is a tmpfs
    if init is InitSystem.SYSV:
        script = tmp_path / "script"
        script.write_text(text)
        assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
        assert daemon.control(init, "start") == ["/etc/init.d/gluu-cluster-redis", "start"]
        assert "nginx -e /var/log/gluu-cluster-nginx/error.log -s reload" in NGINX.text(init)
    else:
        assert "Type=forking\nPIDFile=/run/gluu-cluster-redis/redis.pid\n" in text
        assert "Restart=on-failure" in text
        assert daemon.control(init, "restart") == ["systemctl", "restart",
                                                   "gluu-cluster-redis.service"]
