"""The stand-in for a lab node's Gluu web applications (as the lab's tomcat script stands
in for tomcat): HTTPS with the node's web server certificate, answering with the node's
name; ``/ldap`` reads LDAP through the failover list of the node's ox-ldap.properties,
as oxAuth does, and says which server answered.

The program runs inside the node's container with the system Python (standard library
only); the lab writes it there with an init script enabled at boot.
"""

from __future__ import annotations

# Written on every node by apply's cache-clients step.
from ..cache.render import CLIENT_CA as CACHE_CA
from ..cache.render import CLIENT_PASSWORD as CACHE_PASSWORD
from .container import enable_at_boot
from .gluu_files import write_file
from .layout import LabNode

APP = "/opt/gluu-lab/webapp.py"
INIT_SCRIPT = "/etc/init.d/gluu-lab-webapp"
PID_FILE = "/run/gluu-lab-webapp.pid"
LOG = "/var/log/gluu-lab-webapp.log"
PORT = 8443
FRONT_PORT = 443  # the front host's nginx
CACHE_PORT = 16379  # the cache host's Redis (TLS)
LDAP_PROPERTIES = "/etc/gluu/conf/ox-ldap.properties"
# The cluster CA the OpenLDAP engine's TLS step installs on every node.
LDAP_CA = "/etc/certs/gluu-cluster/ca.crt"

PROGRAM = r'''
import http.server, json, os, secrets, socket, socketserver, ssl, subprocess, sys, tempfile
import threading, time

NODE, ADDRESS, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
CERT, KEY = "/etc/certs/httpd.crt", "/etc/certs/httpd.key"
PROPERTIES, CA, CACHE_CA, CACHE_PASSWORD = sys.argv[4:8]
lock = threading.Lock()
current = {"stamp": None, "context": None}


def context():
    """The certificate set may replace the key pair: a new context when it changes."""
    stamp = (os.stat(CERT).st_mtime_ns, os.stat(KEY).st_mtime_ns)
    with lock:
        if current["stamp"] != stamp:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(CERT, KEY)
            current.update(stamp=stamp, context=ctx)
        return current["context"]


def properties():
    values = {}
    with open(PROPERTIES, encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.partition(":")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    return values


def ldap_ca():
    """The cluster CA: where OpenLDAP's TLS step put it, else where the cache clients have it."""
    return next((p for p in (CA, CACHE_CA) if os.path.exists(p)), CA)


def ldap_search(base, scope, *attrs):
    """A search through the failover list of ox-ldap.properties, each server in order, as
    Gluu's connection pool fails over: (the server that answered, its LDIF, the ones tried)."""
    props = properties()
    tried = []
    with tempfile.NamedTemporaryFile("w", delete=True) as secret:
        os.chmod(secret.name, 0o600)
        secret.write(props["bindPassword"])
        secret.flush()
        for server in [s.strip() for s in props["servers"].split(",") if s.strip()]:
            done = subprocess.run(
                ["ldapsearch", "-x", "-LLL", "-o", "nettimeout=3", "-o", "ldif-wrap=no",
                 "-l", "5", "-H", f"ldaps://{server}", "-D", props["bindDN"], "-y", secret.name,
                 "-b", base, "-s", scope, *attrs],
                capture_output=True, text=True, timeout=15,
                env={"PATH": "/usr/bin:/bin", "LDAPTLS_CACERT": ldap_ca(),
                     "LDAPTLS_REQCERT": "demand"})
            if done.returncode == 0:
                return server, done.stdout, tried
            tried.append(server)
    return None, "", tried


def ldap_read():
    server, _out, tried = ldap_search("o=gluu", "base", "o")
    return {"node": NODE, "ldap_server": server, "tried": tried}


def cache_settings():
    """Where the cache is, as Gluu reads it: oxCacheConfiguration in LDAP (through the
    failover list); TLS only. The password comes from the node's 0600 file (Gluu decodes
    the one in LDAP with its salt; the standard library has no 3DES)."""
    _server, out, _tried = ldap_search("o=gluu", "sub", "(objectClass=gluuConfiguration)",
                                       "oxCacheConfiguration")
    value = next((line.split(": ", 1)[1] for line in out.splitlines()
                  if line.startswith("oxCacheConfiguration: ")), "{}")
    config = json.loads(value)
    if config.get("cacheProviderType") != "REDIS":
        raise RuntimeError(f"the Gluu cache is {config.get('cacheProviderType')}, not REDIS")
    redis_conf = config["redisConfiguration"]
    if not redis_conf.get("useSSL"):
        raise RuntimeError("the Gluu cache configuration does not use TLS: refused")
    host, _sep, port = redis_conf["servers"].split(",")[0].strip().rpartition(":")
    with open(CACHE_PASSWORD, encoding="utf-8") as handle:
        password = handle.read().strip()
    return host, int(port), password


def _reply(stream):
    line = stream.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        data = stream.read(int(rest) + 2)
        return data[:-2].decode()
    raise RuntimeError(f"unexpected reply {line[:40]!r}")


def redis(*command):
    """One command on the shared cache: TLS verified against the cluster CA, AUTH first."""
    host, port, password = cache_settings()
    ctx = ssl.create_default_context(cafile=CACHE_CA)
    raw = socket.create_connection((host, port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname=host) as sock:
        stream = sock.makefile("rwb")
        for args in (("AUTH", password), command):
            parts = [str(a).encode() for a in args]
            stream.write(b"*%d\r\n" % len(parts)
                         + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
            stream.flush()
            result = _reply(stream)
        return result


def session(path):
    """/session/new makes a login session in the cache; /session/ID reads one."""
    sid = path.rsplit("/", 1)[-1]
    try:
        if sid == "new":
            sid = secrets.token_hex(16)
            redis("SET", f"gluu-session:{sid}", json.dumps({"created_on": NODE,
                                                             "at": time.time()}), "EX", 600)
            return 200, {"node": NODE, "session": sid, "created": True}
        data = redis("GET", f"gluu-session:{sid}")
    except (OSError, RuntimeError, KeyError, ValueError, IndexError) as exc:
        return 503, {"node": NODE, "error": f"cache: {exc}"}
    if data is None:
        return 404, {"node": NODE, "session": sid, "data": None}
    return 200, {"node": NODE, "session": sid, "data": json.loads(data)}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle's algorithm the second waits for
    # the client's delayed ACK (40 ms a response).
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path.startswith("/ldap"):
            body, code = ldap_read(), 200
            code = 200 if body["ldap_server"] else 503
        elif "/session/" in self.path:
            code, body = session(self.path)
        else:
            body, code = {"node": NODE, "path": self.path}, 200
        data = (json.dumps(body) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        sock, addr = self.socket.accept()
        return context().wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


Server((ADDRESS, PORT), Handler).serve_forever()
'''


def init_script(node: str, address: str) -> str:
    """An LSB-style script, started by the node's boot like Gluu's own services."""
    return f"""#!/bin/sh
# Stand-in for Gluu's web applications (lab): start | stop | restart | status
PIDFILE={PID_FILE}
running() {{ [ -e "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2> /dev/null; }}
case "$1" in
  start)
    running && exit 0
    setsid python3 {APP} {node} {address} {PORT} {LDAP_PROPERTIES} {LDAP_CA} {CACHE_CA} \\
      {CACHE_PASSWORD} \\
      >> {LOG} 2>&1 < /dev/null &
    echo $! > "$PIDFILE" ;;
  stop)
    running && kill "$(cat "$PIDFILE")"; rm -f "$PIDFILE" ;;
  restart) "$0" stop; "$0" start ;;
  status) running ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
"""


def ldap_properties(admin_dn: str, admin_password: str) -> str:
    """Gluu 3.1's ox-ldap.properties as its setup writes it: only the node's own server.
    (Gluu encodes bindPassword with its salt; the stand-in reads it as written.)"""
    return (f"bindDN: {admin_dn}\nbindPassword: {admin_password}\nservers: localhost:1636\n"
            "useSSL: true\nmaxconnections: 10\nbinaryAttributes: objectGUID\n")


def write_webapp(node: LabNode, admin_password: str, admin_dn: str) -> None:
    """The stand-in application, its init script (enabled at boot, as Gluu's setup enables
    its services) and Gluu 3.1's LDAP settings file (0600: it holds the bind password)."""
    write_file(node.root, APP, PROGRAM)
    write_file(node.root, INIT_SCRIPT, init_script(node.name, node.address), mode=0o755)
    write_file(node.root, LDAP_PROPERTIES, ldap_properties(admin_dn, admin_password), mode=0o600)
    enable_at_boot(node, INIT_SCRIPT, 90)
