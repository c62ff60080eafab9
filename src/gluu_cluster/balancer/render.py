"""The balancer's nginx configuration, from the inventory and the drained nodes.

Open-source nginx (the distribution's) has passive health checks only: a node that
fails ``max_fails`` requests in a row is left out for ``fail_timeout`` seconds, and a
failed idempotent request is retried on the next node. Active checks (``health_check``)
are nginx Plus only; a node is taken out of rotation on purpose with ``drain``, which
marks its upstream server ``down`` and reloads nginx (graceful: no request is dropped).
"""

from __future__ import annotations

import jinja2

from ..boot.daemons import Daemon
from ..inventory import Inventory

CONF_DIR = "/etc/gluu-cluster/nginx"
CONF = f"{CONF_DIR}/nginx.conf"
CERT = f"{CONF_DIR}/httpd.crt"
KEY = f"{CONF_DIR}/httpd.key"
DRAINED = f"{CONF_DIR}/drained"
PID_FILE = "/run/gluu-cluster-nginx.pid"
LOG_DIR = "/var/log/gluu-cluster-nginx"
TEMP_DIR = "/var/lib/gluu-cluster-nginx"
# Gluu's web server certificate on every node (the same on each once the certificate
# sets ran): the balancer serves it and trusts it from the nodes.
NODE_CERT = "/etc/certs/httpd.crt"
NODE_KEY = "/etc/certs/httpd.key"
ERROR_LOG = f"{LOG_DIR}/error.log"  # given with -e: nginx opens its built-in one first

NGINX = Daemon("gluu-cluster-nginx", "nginx (load balancer)",
               start=("nginx", "-e", ERROR_LOG, "-c", CONF), pid_file=PID_FILE,
               reload=("nginx", "-e", ERROR_LOG, "-s", "reload", "-c", CONF),
               run_dir=None)

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)

NGINX_CONF = _ENV.from_string("""\
# Managed by gluu-cluster (cluster {{ cluster }}): 'gluu-cluster apply', 'drain' and
# 'undrain' rewrite this file.
worker_processes 2;
pid {{ pid_file }};
error_log {{ log_dir }}/error.log warn;
events {
    worker_connections 1024;
}
http {
    log_format upstream '$remote_addr [$time_local] "$request" $status '
                        'upstream=$upstream_addr $request_time';
    access_log {{ log_dir }}/access.log upstream;
    client_body_temp_path {{ temp_dir }}/body;
    proxy_temp_path {{ temp_dir }}/proxy;
    fastcgi_temp_path {{ temp_dir }}/fastcgi;
    uwsgi_temp_path {{ temp_dir }}/uwsgi;
    scgi_temp_path {{ temp_dir }}/scgi;
    server_tokens off;

    # oxAuth: any node. Passive health only (see 'gluu-cluster status').
    upstream gluu_nodes {
{% for server in servers %}
        {{ server }}
{% endfor %}
        keepalive 16;
    }
    # Paths that keep state in a node's memory stay on one node per client (the Gluu
    # cluster docs' ip_hash; 'down' keeps the other clients' nodes as they were).
    upstream gluu_nodes_sticky {
        ip_hash;
{% for server in servers %}
        {{ server }}
{% endfor %}
        keepalive 16;
    }
    server {
        listen {{ address }}:{{ port }} ssl;
        server_name _;
        ssl_certificate {{ cert }};
        ssl_certificate_key {{ key }};
        ssl_protocols TLSv1.2 TLSv1.3;
        # The nodes present the cluster's web server certificate: verified, by its name.
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate {{ cert }};
        proxy_ssl_name {{ cert_name }};
        proxy_ssl_server_name on;
        proxy_ssl_session_reuse on;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto https;
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_connect_timeout 5s;
{% for path in sticky_paths %}
        location {{ path }} {
            proxy_pass https://gluu_nodes_sticky;
        }
{% endfor %}
        location / {
            proxy_pass https://gluu_nodes;
        }
    }
}
""")


def nginx_conf(inventory: Inventory, drained: frozenset[str], cert_name: str) -> str:
    lb = inventory.load_balancer
    assert lb is not None
    servers = [f"server {n.address}:{lb.node_port} max_fails={lb.max_fails} "
               f"fail_timeout={lb.fail_timeout}s{' down' if n.name in drained else ''};  "
               f"# {n.name}{' (drained)' if n.name in drained else ''}"
               for n in inventory.nodes]
    return NGINX_CONF.render(
        cluster=inventory.cluster, servers=servers, address=lb.host.address, port=lb.port,
        cert=CERT, key=KEY, cert_name=cert_name,
        sticky_paths=lb.sticky_paths, pid_file=PID_FILE, log_dir=LOG_DIR, temp_dir=TEMP_DIR)


def parse_drained(text: str) -> frozenset[str]:
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def render_drained(names: frozenset[str]) -> str:
    return "# nodes out of rotation ('gluu-cluster drain'); 'undrain' takes them back\n" + \
        "".join(f"{name}\n" for name in sorted(names))
