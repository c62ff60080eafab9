"""The cache's Redis configuration and the settings each node's clients read.

Redis listens with TLS only (its plaintext port is off), on the cache host's address,
with a certificate the cluster CA issued for that host; clients verify it against the
cluster CA and authenticate with the password (kept in 0600 files, never in an argv).
"""

from __future__ import annotations

import hashlib

import jinja2

from ..boot.daemons import Daemon
from ..inventory import Host, Inventory

CONF_DIR = "/etc/gluu-cluster/redis"
CONF = f"{CONF_DIR}/redis.conf"
CERT = f"{CONF_DIR}/redis.crt"
KEY = f"{CONF_DIR}/redis.key"
CA = f"{CONF_DIR}/ca.crt"
RUN_DIR = "/run/gluu-cluster-redis"
PID_FILE = f"{RUN_DIR}/redis.pid"
LOG_DIR = "/var/log/gluu-cluster-redis"
DATA_DIR = "/var/lib/gluu-cluster-redis"
USER = "redis"  # the distribution package's user; root where there is none

# On every node: what its Gluu applications (and status) need to reach the cache.
CLIENT_DIR = "/etc/gluu-cluster/cache"
CLIENT_CA = f"{CLIENT_DIR}/ca.crt"
CLIENT_PASSWORD = f"{CLIENT_DIR}/password"

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)

REDIS_CONF = _ENV.from_string("""\
# Managed by gluu-cluster (cluster {{ cluster }}): 'gluu-cluster apply' rewrites this file.
# The shared cache of the Gluu applications: TLS only, a password, no persistence.
bind {{ address }}
port 0
tls-port {{ port }}
tls-cert-file {{ cert }}
tls-key-file {{ key }}
tls-ca-cert-file {{ ca }}
tls-auth-clients no
tls-protocols "TLSv1.2 TLSv1.3"
requirepass "{{ password }}"
protected-mode yes
maxmemory {{ max_memory_mb }}mb
maxmemory-policy volatile-lru
save ""
appendonly no
daemonize yes
pidfile {{ pid_file }}
logfile {{ log_dir }}/redis.log
dir {{ data_dir }}
""")


def redis_daemon(has_user: bool) -> Daemon:
    """Redis as a service: as the package's user where the host has it."""
    start = ("setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups",
             "redis-server", CONF) if has_user else ("redis-server", CONF)
    return Daemon("gluu-cluster-redis", "Redis (the shared cache)", start=start,
                  pid_file=PID_FILE, run_dir=RUN_DIR,
                  owner=f"{USER}:{USER}" if has_user else None)


def cache_host(inventory: Inventory) -> Host:
    """Where Redis runs (the cache's code runs only with a cache)."""
    host = inventory.cache_host()
    assert host is not None
    return host


def cache_password(inventory: Inventory) -> str | None:
    """The shared cache's password (the inventory requires one for redis); None without
    a cache."""
    secret = inventory.cache.password
    if inventory.cache.type == "none" or secret is None:
        return None
    return secret.resolve(inventory.base_dir).reveal()


def _quote_ok(password: str) -> str:
    if any(c in password for c in '"\\\n\r'):
        raise ValueError("the cache password must not contain quotes, backslashes or newlines")
    return password


def redis_conf(inventory: Inventory, password: str) -> str:
    host = cache_host(inventory)
    return REDIS_CONF.render(
        cluster=inventory.cluster, address=host.address, port=inventory.cache.port,
        cert=CERT, key=KEY, ca=CA, password=_quote_ok(password),
        max_memory_mb=inventory.cache.max_memory_mb, pid_file=PID_FILE, log_dir=LOG_DIR,
        data_dir=DATA_DIR)


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
